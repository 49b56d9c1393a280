"""Reading the ledger as an actor (runtime/rewards/reading.py): finance and administrators
read every entry, a referrer with a login (the rules' account_field) only their own, anybody
else is refused; filters, keyset pages, and one entry explained in the caller's language,
recomputed from its stored inputs; the `formwork rewards` commands."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from engine.validation import check_definition_warnings
from runtime.actor import Actor
from runtime.apps import apply_app
from runtime.rewards.reading import RewardsDenied, RewardsQueryError, get_entry, list_entries
from runtime.session import Session
from tests.runtime.rewards.support import FORMS, L, deal, ledger, pay_silently, rule
from tests.support.web import add_user
from web.cli import cli

WITH_LOGIN = [{**FORMS[0], "fields": FORMS[0]["fields"] + [
    {"key": "login", "type": "member", "label": L("账号", "Login")}]}, FORMS[1]]


@pytest.fixture
def ledger_app(db):
    text = json.dumps({"format_version": 1, "app": {"key": "ref", "label": L("推荐", "Referrals")},
                       "forms": WITH_LOGIN, "rewards": [rule("share", account_field="login")]})
    app, problems, _ = check_definition_warnings(text, "ref.json")
    assert not problems, [p.format() for p in problems]
    apply_app(db, app)
    referrer_user = add_user(db, "lao.wang", "老王")
    other_user = add_user(db, "xiao.zhang", "小张")

    def people(uow):
        records = uow.records("ref")
        wang = records.create("customers", {"name": "老王", "login": referrer_user})["id"]
        zhang = records.create("customers", {"name": "小张", "login": other_user})["id"]
        friends = [records.create("customers", {"name": f"友{i}", "referrer": wang if i < 3 else zhang})["id"]
                   for i in range(5)]
        return wang, zhang, friends
    wang, zhang, friends = Session(db).write(people)
    for i, friend in enumerate(friends):
        deal(db, friend, 1000 * (i + 1))
    return {"app": app, "wang": wang, "zhang": zhang, "wang_user": referrer_user, "zhang_user": other_user}


def as_user(db, user_id, roles=()):
    return Session(db, Actor(user_id=user_id, roles=frozenset(roles)))


def test_finance_reads_everything_a_referrer_their_own_and_others_nothing(db, ledger_app):
    finance = add_user(db, "cai.wu", "财务")
    everything = as_user(db, finance, ["finance"]).read(lambda uow: list_entries(uow, "ref"))["entries"]
    assert len(everything) == 5 and [e["id"] for e in everything] == sorted((e["id"] for e in everything),
                                                                           reverse=True)
    mine = as_user(db, ledger_app["wang_user"]).read(lambda uow: list_entries(uow, "ref"))["entries"]
    assert {e["beneficiary"] for e in mine} == {ledger_app["wang"]} and len(mine) == 3
    theirs = as_user(db, ledger_app["wang_user"]).read(
        lambda uow: list_entries(uow, "ref", beneficiary=ledger_app["zhang"]))["entries"]
    assert theirs == []                                            # a filter never widens the scope
    zhang_entry = next(e for e in everything if e["beneficiary"] == ledger_app["zhang"])
    with pytest.raises(Exception) as missing:
        as_user(db, ledger_app["wang_user"]).read(lambda uow: get_entry(uow, "ref", zhang_entry["id"]))
    assert "no entry" in str(missing.value)
    stranger = add_user(db, "lu.ren", "路人")                       # the login of no customer
    assert as_user(db, stranger).read(lambda uow: list_entries(uow, "ref"))["entries"] == []
    with pytest.raises(RewardsDenied) as refused:                  # no login at all
        Session(db, Actor(user_id=None, name="public")).read(lambda uow: list_entries(uow, "ref"))
    assert "finance" in refused.value.message("en") and "财务" in refused.value.message("zh")


def test_filters_keyset_pages_and_bad_parameters(db, ledger_app):
    session = Session(db)
    first = session.read(lambda uow: list_entries(uow, "ref", limit=2))
    second = session.read(lambda uow: list_entries(uow, "ref", limit=2, cursor=first["next_cursor"]))
    third = session.read(lambda uow: list_entries(uow, "ref", limit=2, cursor=second["next_cursor"]))
    ids = [e["id"] for page in (first, second, third) for e in page["entries"]]
    assert ids == sorted((e["id"] for e in ledger(db)), reverse=True) and third["next_cursor"] is None
    assert len(session.read(lambda uow: list_entries(uow, "ref", status="vested"))["entries"]) == 5
    assert session.read(lambda uow: list_entries(uow, "ref", status="paid,pending"))["entries"] == []
    for bad in ({"status": "payed"}, {"limit": "0"}, {"cursor": "nonsense"}, {"beneficiary": "x"}):
        with pytest.raises(RewardsQueryError) as refused:
            session.read(lambda uow, bad=bad: list_entries(uow, "ref", **bad))
        assert refused.value.message("zh") and refused.value.message("en") != refused.value.message("zh")


def test_an_entry_is_explained_in_the_callers_language_and_recomputes(db, ledger_app):
    entry = ledger(db)[0]
    zh = Session(db).read(lambda uow: get_entry(uow, "ref", entry["id"], lang="zh"))
    en = Session(db).read(lambda uow: get_entry(uow, "ref", entry["id"], lang="en"))
    assert "奖励金额 100.00" in zh["text"] and "amount 100.00" in en["text"]
    assert zh["recomputes"] is True and Decimal(zh["recomputed"]) == entry["amount"]


def test_the_rewards_commands_settle_list_and_explain(db, ledger_app, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", str(db.url.render_as_string(hide_password=False)))
    extra = Session(db).write(lambda uow: uow.records("ref").create("customers", {
        "name": "新友", "referrer": ledger_app["wang"]})["id"])
    unsettled = deal(db, extra, 500, paid=False)
    pay_silently(db, ledger_app["app"], [unsettled])                # no event: only the command settles it
    runner = CliRunner()
    settled = runner.invoke(cli, ["rewards", "settle", "ref", "--batch", "2"])
    assert settled.exit_code == 0, settled.output
    assert "ref: 1 entries entered, 0 reversed" in settled.output
    again = runner.invoke(cli, ["rewards", "settle", "ref"])
    assert "ref: 0 entries entered" in again.output
    listed = runner.invoke(cli, ["rewards", "list", "ref", "--limit", "2"])
    assert listed.exit_code == 0 and "more: --cursor" in listed.output and "share" in listed.output
    newest = ledger(db)[-1]
    explained = runner.invoke(cli, ["rewards", "explain", str(newest["id"]), "--lang", "en"])
    assert explained.exit_code == 0, explained.output
    assert "amount 50.00" in explained.output and "recomputed from the stored inputs: 50.00" in explained.output
    missing = runner.invoke(cli, ["rewards", "explain", "999999"])
    assert missing.exit_code != 0 and "999999" in missing.output
    bad = runner.invoke(cli, ["rewards", "list", "ref", "--status", "payed"])
    assert bad.exit_code != 0 and "pending" in bad.output
