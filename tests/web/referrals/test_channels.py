"""A referral entered by staff on the form page, by the REST API or by an import without a
channel gets the programme's channel of that origin (offline, api, import); a channel
given is kept; other forms are left alone."""
from __future__ import annotations

import pytest

from runtime.import_export.importer import import_file
from runtime.referrals.channels import with_channel
from runtime.session import Session
from tests.support.referrals_app import APP, install, make_programme, referrals
from tests.support.web import csrf_from, sign_in


@pytest.fixture
def programme(db):
    install(db)
    return make_programme(db)


def test_staff_on_the_form_page_get_the_staff_channel(client, db, programme, user_id):
    sign_in(client)
    token = csrf_from(client, f"/apps/{APP}/forms/referrals/new")
    answer = client.post(f"/apps/{APP}/forms/referrals/new", data={
        "csrf_token": token, "referrer": str(programme.referrers[0]), "campaign": str(programme.campaign),
        "friend_name": "赵六", "friend_phone": "13900000004", "consent": "1"})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    [stored] = referrals(db)
    assert stored["channel"] == "offline"


def test_the_api_gets_the_api_channel_and_a_given_channel_is_kept(client, db, programme, user_id):
    sign_in(client)
    token = csrf_from(client, "/")
    row = {"referrer": programme.referrers[0], "friend_name": "赵六", "friend_phone": "13900000004", "consent": True}
    answer = client.post(f"/api/v1/apps/{APP}/forms/referrals/records", json=[
        row, {**row, "friend_phone": "13900000005", "channel": "wechat"}], headers={"X-CSRF-Token": token})
    assert answer.status_code == 201, answer.get_json()
    assert sorted(r["channel"] for r in referrals(db)) == ["api", "wechat"]


def test_an_import_gets_the_import_channel(db, programme, tmp_path):
    path = tmp_path / "referrals.csv"
    path.write_text("推荐人,被推荐人,被推荐人电话,被推荐人已同意联系\n张三,赵六,13900000004,是\n", encoding="utf-8")
    report = import_file(db, APP, "referrals", path)
    assert report.rows_valid == 1, report
    [stored] = referrals(db)
    assert (stored["channel"], stored["referrer"]) == ("import", programme.referrers[0])


def test_only_referrals_without_a_channel_are_given_one(db, programme):
    with Session(db).read() as uow:
        records = uow.records(APP)
        assert with_channel(records, "referrals", {"channel": "poster"}, "api") == {"channel": "poster"}
        assert with_channel(records, "referrals", {"channel": None}, "import") == {"channel": "import"}
        same = {"name": "x"}
        assert with_channel(records, "customers", same, "staff") is same
        with pytest.raises(ValueError):
            with_channel(records, "referrals", {}, "link")
