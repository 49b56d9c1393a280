"""The referrer's portal through the Flask test client: a staff member copies a customer's
link, the referrer opens it and sees only their own codes, masked referrals and rewards
with explanations; refused links (expired, used, tampered, of another app) get a clear
page; the phone form says the same whatever the phone; a portal visitor reaches no staff
page or API; every POST needs its CSRF token."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine.storage import system
from engine.storage.types import utcnow
from runtime.jobs import dispatch
from runtime.permissions import FormAccess
from runtime.referrals.portal import LINK_MINUTES, MESSAGE_KIND, issue_link
from runtime.session import Session
from tests.support.portal import APP, SECRET, install, populate
from tests.support.web import add_user, csrf_from, make_app, sign_in
from web.portal.views import PORTAL_COOKIE

HTML = {"Accept": "text/html"}


@pytest.fixture(autouse=True)
def inline_jobs(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(dispatch, "_down_until", {})


@pytest.fixture
def programme(db):
    install(db)
    return populate(db)


@pytest.fixture
def staff(app, db, programme):
    add_user(db, "wang.staff", "王经理", is_admin=True)
    client = app.test_client()
    assert sign_in(client, "wang.staff").status_code == 302
    return client


def record_path(customer_id: int) -> str:
    return f"/apps/{APP}/forms/customers/records/{customer_id}"


def copy_link(staff, customer_id: int) -> str:
    token = csrf_from(staff, record_path(customer_id))
    answer = staff.post(record_path(customer_id) + "/portal-link", json={"action": "copy"},
                        headers={"X-CSRF-Token": token})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["url"].replace("http://localhost", "")


def open_link(client, path: str):
    """Open the link and press its button, as the referrer does."""
    page = client.get(path, headers=HTML)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(client, path)})


def text(answer) -> str:
    return answer.get_data(as_text=True)


def panel(page: str) -> str:
    """The record page's referrals & rewards panel."""
    start = page.index('id="referrals"')
    return page[start:page.index('id="comments"', start)]


def issued(db, customer_id, app_key=APP, **options) -> str:
    with Session(db).write() as uow:
        return issue_link(uow.conn, app_key, customer_id, secret=SECRET, channel="staff_copy", **options).path


def test_the_staff_copy_a_link_and_the_referrer_sees_their_own_portal(app, staff, programme):
    path = copy_link(staff, programme.referrer)
    referrer = app.test_client()
    signed_in = open_link(referrer, path)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/portal"
    cookie = signed_in.headers["Set-Cookie"]
    assert cookie.startswith(f"{PORTAL_COOKIE}=") and "HttpOnly" in cookie and "Path=/portal" in cookie
    page = text(referrer.get("/portal", headers=HTML))
    assert "老王" in page and f"SPR-{programme.code}" in page
    assert f"http://localhost/r/SPR-{programme.code}" in page and f"/r/SPR-{programme.code}/poster.png" in page
    assert "张*" in page and "138****8000" in page and "李**" in page and "137****1234" in page
    for secret in ("张三", "13812348000", "李四娘", "13700001234", "王五", "老赵"):
        assert secret not in page
    assert "2,000.00" in page and "规则“推荐人成交分成”" in page and "冷静期中" in page
    referrer.post("/lang", data={"lang": "en", "next": "/portal", "csrf_token": csrf_from(referrer, "/portal")})
    english = text(referrer.get("/portal", headers=HTML))
    assert "Rule &#34;Referrer&#39;s share of the first contract&#34;" in english and "Friends I referred" in english


def test_the_staff_panel_shows_the_customers_referrals_unmasked(staff, programme):
    page = panel(text(staff.get(record_path(programme.referrer), headers=HTML)))
    assert "张三" in page and "13812348000" in page and "李四娘" in page
    assert "王五" not in page and "2,000.00" in page
    assert "复制门户链接" in page and "发送门户链接" in page
    contract = text(staff.get(f"/apps/{APP}/forms/referrals/records/{programme.referrals[0]}", headers=HTML))
    assert 'id="referrals"' not in contract            # the panel is the customers form's only


def test_the_staff_send_a_link_by_the_outbox_from_a_plain_form(staff, programme, db):
    path = record_path(programme.other)
    answer = staff.post(path + "/portal-link", data={"action": "send", "csrf_token": csrf_from(staff, path)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("#referrals")
    assert "139****0009" in text(staff.get(path, headers=HTML))
    with db.connect() as conn:
        [job] = conn.execute(sa.select(system.jobs).where(system.jobs.c.kind == MESSAGE_KIND)).mappings().all()
    assert job["payload"]["customer"] == programme.other


def test_staff_who_may_not_edit_the_customer_get_no_link(db, programme):
    class ViewOnly:
        def access(self, app, form, actor):
            return FormAccess(actions=frozenset({"view"})) if form.key == "customers" else FormAccess()

    class NoReferrals:
        def access(self, app, form, actor):
            return FormAccess(actions=frozenset()) if form.key == "referrals" else FormAccess()

    add_user(db)
    flask_app = make_app(db, FORMWORK_POLICY=ViewOnly())
    client = flask_app.test_client()
    sign_in(client)
    page = text(client.get(record_path(programme.referrer), headers=HTML))
    assert "复制门户链接" not in page and "张三" in page
    answer = client.post(record_path(programme.referrer) + "/portal-link", json={"action": "copy"},
                         headers={"X-CSRF-Token": csrf_from(client, "/"), "Accept": "application/json"})
    assert answer.status_code == 403 and "编辑" in answer.get_json()["error"]["message_zh"]
    answer = client.post(f"/apps/{APP}/forms/contracts/records/1/portal-link", json={"action": "copy"},
                         headers={"X-CSRF-Token": csrf_from(client, "/"), "Accept": "application/json"})
    assert answer.status_code == 404
    flask_app.extensions["formwork"].engine.dispose()
    flask_app = make_app(db, FORMWORK_POLICY=NoReferrals())
    client = flask_app.test_client()
    sign_in(client)
    page = panel(text(client.get(record_path(programme.referrer), headers=HTML)))
    assert "13812348000" not in page and "李四娘" not in page and f"SPR-{programme.code}" in page
    assert "无权查看转介绍表单" in page
    flask_app.extensions["formwork"].engine.dispose()


@pytest.mark.parametrize("case, status, words", [
    ("expired", 410, "已过期"), ("used", 410, "已使用过"), ("tampered", 400, "无效"), ("other_app", 400, "另一个应用"),
    ("garbage", 400, "无效")])
def test_a_link_that_does_not_sign_in_gets_a_clear_page(app, db, programme, case, status, words):
    client = app.test_client()
    if case == "expired":
        path = issued(db, programme.referrer, now=utcnow() - timedelta(minutes=LINK_MINUTES + 1))
    elif case == "used":
        path = issued(db, programme.referrer)
        assert open_link(app.test_client(), path).status_code == 302
    elif case == "tampered":
        path = issued(db, programme.referrer)
        path = path[:-3] + ("xyz" if not path.endswith("xyz") else "abc")
    elif case == "other_app":
        path = issued(db, programme.referrer, app_key="another_app")
    else:
        path = "/portal/login/%3Cscript%3E"
    page = client.get(path, headers=HTML)
    assert page.status_code == status and words in text(page) and 'id="portal-refused"' in text(page)
    assert "<script>" not in text(page)
    posted = client.post(path, data={"csrf_token": csrf_from(client, "/portal")})
    assert posted.status_code == status and PORTAL_COOKIE not in posted.headers.get("Set-Cookie", "")
    assert 'id="my-codes"' not in text(client.get("/portal", headers=HTML))


def test_the_phone_form_says_the_same_whatever_the_phone(app, db, programme):
    def ask(phone):
        client = app.test_client()
        answer = client.post("/portal/link", data={"phone": phone, "csrf_token": csrf_from(client, "/portal")})
        return answer.status_code, re.sub(r'name="csrf[-_]token" (content|value)="[^"]+"', "", text(answer))
    known, unknown = ask("138 0000 0001"), ask("13000000000")
    assert known == unknown and known[0] == 200 and "30" in known[1]
    with db.connect() as conn:
        jobs = conn.execute(sa.select(system.jobs.c.payload).where(system.jobs.c.kind == MESSAGE_KIND)).all()
    assert [j.payload["customer"] for j in jobs] == [programme.referrer]
    link = re.search(r"(/portal/login/\S+)", jobs[0].payload["text"]["en"]).group(1)
    assert open_link(app.test_client(), link).status_code == 302


def test_a_portal_visitor_sees_only_their_own_data_whatever_they_ask(app, db, programme):
    client = app.test_client()
    open_link(client, issued(db, programme.referrer))
    for path in (f"/portal?customer={programme.other}", f"/portal?customer_id={programme.other}&id={programme.other}"):
        page = text(client.get(path, headers=HTML))
        assert "老王" in page and "王五" not in page and "老赵" not in page
    posted = client.post("/portal", data={"customer": programme.other, "csrf_token": csrf_from(client, "/portal")})
    assert posted.status_code == 405
    assert client.get(f"/portal/{programme.other}", headers=HTML).status_code == 404
    assert client.get(f"/portal/customers/{programme.other}", headers=HTML).status_code == 404


def test_a_portal_session_reaches_no_staff_page_nor_the_api(app, db, programme):
    client = app.test_client()
    open_link(client, issued(db, programme.referrer))
    cookie = client.get_cookie(PORTAL_COOKIE, path="/portal")
    assert cookie is not None
    client.set_cookie(PORTAL_COOKIE, cookie.value, path="/")       # even sent everywhere
    for path in ("/", record_path(programme.referrer), f"/apps/{APP}/forms/customers", "/admin/users",
                 "/tasks"):
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    api = client.get(f"/api/v1/apps/{APP}/forms/customers/records", headers={"Accept": "application/json"})
    assert api.status_code == 401
    assert client.post(record_path(programme.referrer) + "/portal-link", json={"action": "copy"},
                       headers={"X-CSRF-Token": csrf_from(client, "/portal")}).status_code in (302, 401)


def test_a_forged_or_signed_out_portal_cookie_is_nobody(app, db, programme):
    client = app.test_client()
    open_link(client, issued(db, programme.referrer))
    value = client.get_cookie(PORTAL_COOKIE, path="/portal").value
    assert client.post("/portal/logout", data={"csrf_token": csrf_from(client, "/portal")}).status_code == 302
    replay = app.test_client()
    replay.set_cookie(PORTAL_COOKIE, value, path="/portal")
    assert 'id="portal-ask"' in text(replay.get("/portal", headers=HTML))      # the visit ended on the server
    forged = app.test_client()
    forged.set_cookie(PORTAL_COOKIE, value[:-4] + "AAAA", path="/portal")
    assert 'id="portal-ask"' in text(forged.get("/portal", headers=HTML))


def test_every_portal_post_needs_its_csrf_token(app, db, programme, staff):
    client = app.test_client()
    path = issued(db, programme.referrer)
    client.get(path, headers=HTML)
    assert client.post(path).status_code == 400
    assert client.post(path, data={"csrf_token": "wrong"}).status_code == 400
    assert client.post("/portal/link", data={"phone": "13800000001"}).status_code == 400
    assert open_link(client, path).status_code == 302          # the link was not used by the refused POSTs
    assert client.post("/portal/logout").status_code == 400
    assert 'id="my-codes"' in text(client.get("/portal", headers=HTML))
    assert staff.post(record_path(programme.referrer) + "/portal-link", json={"action": "copy"}).status_code == 400
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(system.jobs)
                            .where(system.jobs.c.kind == MESSAGE_KIND)).scalar() == 0


def test_without_a_referral_programme_there_is_no_portal(app):
    assert app.test_client().get("/portal", headers=HTML).status_code == 404
