"""The public share link /r/<code>: no sign-in, the touch and visitor cookie, the landing
form (CSRF, errors beside their fields with the values kept, consent required, a double
submit answered once, a rate limit per address), the friendly pages of unknown and ended
codes, and the poster (a PNG whose QR code decodes back to the link, ETag)."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from engine.storage import system
from engine.storage.files import FileStore
from tests.support.referrals_app import install, make_programme, referrals
from tests.support.web import csrf_from, make_app

FRIEND = {"friend_name": "王五", "friend_phone": "13900000003", "friend_email": "", "consent": "yes"}


@pytest.fixture
def programme(db):
    install(db)
    return make_programme(db)


def touches(db) -> list[dict]:
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(system.referral_touches)
                                              .order_by(system.referral_touches.c.id)).mappings()]


def send(client, code, data):
    token = csrf_from(client, f"/r/{code}")
    return client.post(f"/r/{code}", data={**data, "csrf_token": token})


def test_the_landing_page_records_a_touch_and_sets_the_visitor_cookie(client, db, programme):
    code = programme.codes[0]
    page = client.get(f"/r/{code.lower()}", headers={"User-Agent": "Phone " + "z" * 300})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "春季推荐有礼" in html and "张*" in html and "张三" not in html and "每成功推荐" in html
    assert "您的姓名和电话仅用于本次推荐活动" in html
    assert re.search(r'<input type="checkbox" name="consent" value="yes"\s*>', html)   # not ticked
    cookie = page.headers["Set-Cookie"]
    assert "fw_ref_visitor=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie
    client.get(f"/r/{code}?ch=qr")
    [first, second] = touches(db)
    assert (first["channel"], second["channel"]) == ("link", "qr")
    assert first["visitor"] == second["visitor"] and first["referrer_id"] == programme.referrers[0]
    assert first["campaign_id"] == programme.campaign and len(first["user_agent"]) == 255


def test_the_form_creates_the_referral_with_the_first_touch_and_a_double_submit_once(client, db, programme):
    zhang, li = programme.codes
    client.get(f"/r/{zhang}")
    client.get(f"/r/{li}")
    answer = send(client, li, FRIEND)
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/r/{li}/thanks")
    assert "王五" not in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert send(client, li, FRIEND).status_code == 303
    [stored] = referrals(db)
    visitor = touches(db)[0]["visitor"]
    assert (stored["referrer"], stored["channel"], stored["referral_code"]) == (programme.referrers[0], "link", zhang)
    assert stored["device_id"] == visitor and stored["consent"] is True and stored["consent_at"] is not None
    assert stored["client_ip"] == "127.0.0.1"


@pytest.mark.parametrize("lang, phone_error, consent_error", [
    ("zh", "电话", "请勾选同意"), ("en", "phone", "Tick the consent box")])
def test_errors_are_shown_beside_their_fields_with_the_values_kept(client, db, programme, lang, phone_error,
                                                                      consent_error):
    code = programme.codes[0]
    client.get(f"/r/{code}", headers={"Accept-Language": lang})
    token = csrf_from(client, f"/r/{code}")
    answer = client.post(f"/r/{code}", headers={"Accept-Language": lang}, data={
        "csrf_token": token, "friend_name": "王五", "friend_phone": "12345", "friend_email": "ww@example.com"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    phone = re.search(r'data-error="friend_phone">([^<]+)<', html).group(1)
    consent = re.search(r'data-error="consent">([^<]+)<', html).group(1)
    assert phone_error in phone.lower() if lang == "en" else phone_error in phone
    assert consent_error in consent
    assert 'value="王五"' in html and 'value="12345"' in html and 'value="ww@example.com"' in html
    assert referrals(db) == []


def test_the_form_needs_its_csrf_token(client, db, programme):
    client.get(f"/r/{programme.codes[0]}")
    assert client.post(f"/r/{programme.codes[0]}", data=FRIEND).status_code == 400
    assert referrals(db) == []


def test_forms_are_limited_per_address(db, programme):
    app = make_app(db, FORMWORK_REFERRAL_RATE="2/hour")
    client = app.test_client()
    code = programme.codes[0]
    assert [send(client, code, {**FRIEND, "friend_phone": f"1390000000{i}"}).status_code
            for i in range(3)] == [303, 303, 429]
    app.extensions["formwork"].engine.dispose()


@pytest.mark.parametrize("lang, text", [("zh", "邀请链接无效"), ("en", "does not work")])
def test_an_unknown_code_gets_a_friendly_404(client, programme, lang, text):
    page = client.get("/r/SPR25-NOBODY", headers={"Accept-Language": lang})
    assert page.status_code == 404 and text in page.get_data(as_text=True)
    assert client.get("/r/SPR25-NOBODY/poster.png").status_code == 404


@pytest.mark.parametrize("lang, text", [("zh", "已结束"), ("en", "has ended")])
def test_an_ended_campaign_gets_a_410_page_and_records_nothing(db, lang, text):
    install(db)
    ended = make_programme(db, ended=True)
    app = make_app(db)
    client = app.test_client()
    page = client.get(f"/r/{ended.codes[0]}", headers={"Accept-Language": lang})
    assert page.status_code == 410 and text in page.get_data(as_text=True)
    assert touches(db) == []
    assert send(client, ended.codes[0], FRIEND).status_code == 410
    assert referrals(db) == []
    app.extensions["formwork"].engine.dispose()


def test_the_poster_carries_the_qr_code_of_the_link_and_an_etag(db, tmp_path):
    install(db)
    store = FileStore(tmp_path / "files")
    picture = io.BytesIO()
    Image.new("RGB", (640, 360), (240, 120, 40)).save(picture, format="PNG")
    made = make_programme(db, image_store=store, image=picture.getvalue())
    app = make_app(db, FORMWORK_FILES_DIR=str(tmp_path / "files"), FORMWORK_PUBLIC_URL="https://crm.example.com/")
    client = app.test_client()
    code = made.codes[0]
    answer = client.get(f"/r/{code}/poster.png")
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    drawn = Image.open(io.BytesIO(answer.data))
    assert drawn.size == (750, 1130)
    assert drawn.convert("RGB").getpixel((20, 20)) == (240, 120, 40)       # the campaign image on top
    assert [r.text for r in zxingcpp.read_barcodes(drawn)] == [f"https://crm.example.com/r/{code}?ch=qr"]
    etag = answer.headers["ETag"]
    again = client.get(f"/r/{code}/poster.png", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get(f"/r/{made.codes[1]}/poster.png").headers["ETag"] != etag
    landing = client.get(f"/r/{code}").get_data(as_text=True)
    assert f"/r/{code}/image" in landing
    image = client.get(f"/r/{code}/image")
    assert image.status_code == 200 and image.data == picture.getvalue()
    app.extensions["formwork"].engine.dispose()


def test_the_poster_link_defaults_to_the_host_asked(client, programme):
    answer = client.get(f"/r/{programme.codes[0]}/poster.png", base_url="http://shop.test")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(answer.data)))
    assert [r.text for r in decoded] == [f"http://shop.test/r/{programme.codes[0]}?ch=qr"]
    assert client.get(f"/r/{programme.codes[0]}/image").status_code == 404     # no campaign image
