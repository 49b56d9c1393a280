"""The definition's `referrals` block: read into the programme (with its defaults), and
every way of getting it wrong reported at its place with a way to fix it."""
from __future__ import annotations

import copy
import json

import pytest

from engine.referrals import referral_programme_of
from engine.validation import check_definition_warnings, load_definition
from tests.support.paths import FLAGSHIP_APP

L = {"zh": "名", "en": "Name"}
OPTIONS = [{"value": v, "label": {"zh": v, "en": v}} for v in ("link", "qr", "code", "staff", "import", "api")]
FORMS = [
    {"key": "customers", "label": L, "fields": [
        {"key": "name", "type": "text", "label": L}, {"key": "phone", "type": "phone", "label": L},
        {"key": "code", "type": "serial", "label": L, "pattern": "TJ{counter:4}"},
        {"key": "referrer", "type": "relation", "target": "customers", "label": L}]},
    {"key": "campaigns", "label": L, "fields": [
        {"key": "prefix", "type": "text", "label": L}, {"key": "starts", "type": "date", "label": L},
        {"key": "state", "type": "radio", "label": L, "options": [
            {"value": "on", "label": {"zh": "开", "en": "On"}}, {"value": "off", "label": {"zh": "关", "en": "Off"}}]}]},
    {"key": "refs", "label": L, "fields": [
        {"key": "by", "type": "relation", "target": "customers", "label": L},
        {"key": "campaign", "type": "relation", "target": "campaigns", "label": L},
        {"key": "friend", "type": "text", "label": L}, {"key": "phone", "type": "phone", "label": L},
        {"key": "ok", "type": "switch", "label": L},
        {"key": "how", "type": "select", "label": L, "options": OPTIONS}]},
]
BLOCK = {
    "customers": {"form": "customers", "referrer": "referrer", "code": "code", "name": "name", "phone": "phone"},
    "campaigns": {"form": "campaigns", "code_prefix": "prefix", "starts_on": "starts", "status": "state",
                  "open": ["on"]},
    "referrals": {"form": "refs", "referrer": "by", "campaign": "campaign", "friend_name": "friend",
                  "friend_phone": "phone", "consent": "ok", "channel": "how"},
}


def checked(block: dict, forms: list | None = None):
    text = json.dumps({"format_version": 1, "app": {"key": "r", "label": L}, "forms": forms or FORMS,
                       "referrals": block}, ensure_ascii=False, indent=1)
    app, problems, _ = check_definition_warnings(text, "r.json")
    return app, [(p.path, p.code) for p in problems], problems


def edited(**parts) -> dict:
    block = copy.deepcopy(BLOCK)
    for part, changes in parts.items():
        block.setdefault(part, {}).update(changes)
    return block


def test_a_minimal_programme_reads_with_its_defaults():
    app, found, _ = checked(BLOCK)
    assert found == []
    programme = referral_programme_of(app)
    assert programme.referrals.form == "refs" and programme.referrals["friend_phone"] == "phone"
    assert programme.referrals["fraud_status"] is None
    assert (programme.touch, programme.window_days, programme.open_statuses) == ("first", 30, ("on",))
    assert programme.check("self_referral").action == "block"
    assert (programme.check("per_day").action, programme.check("per_day").limit) == ("flag", 30)
    assert programme.channel_value("qr") == "qr"


def test_an_app_without_the_block_has_no_programme():
    app, _, _ = checked(BLOCK)
    raw = dict(app.raw)
    raw.pop("referrals")
    assert referral_programme_of(load_definition(json.dumps(raw))) is None


def test_the_flagship_declares_its_programme():
    app = load_definition(FLAGSHIP_APP.read_text(encoding="utf-8"))
    programme = referral_programme_of(app)
    assert programme.customers.form == "customers" and programme.campaigns["code_prefix"] == "code_prefix"
    assert programme.channel_value("qr") == "poster" and programme.channel_value("staff") == "offline"
    assert programme.check("per_hour").limit == 5 and programme.consent_purpose.zh.startswith("您的姓名")


@pytest.mark.parametrize("parts, expected", [
    ({"referrals": {"friend_phone": "phon"}}, [("referrals.referrals.friend_phone", "unknown_field")]),
    ({"referrals": {"form": "ref"}}, [("referrals.referrals.form", "unknown_form")]),
    ({"referrals": {"consent": "friend"}}, [("referrals.referrals.consent", "wrong_field_type")]),
    ({"referrals": {"campaign": "by"}}, [("referrals.referrals.campaign", "wrong_relation")]),
    ({"customers": {"referrer": "name"}}, [("referrals.customers.referrer", "wrong_field_type")]),
    ({"campaigns": {"open": ["running"]}}, [("referrals.campaigns.open", "unknown_option")]),
    ({"channels": {"qr": "poster"}}, [("referrals.channels.qr", "unknown_option")]),
    ({"referrals": {"fraud_status": "how"}}, [("referrals.referrals.fraud_status", "unknown_option")]),
])
def test_each_mistake_is_reported_at_its_place(parts, expected):
    app, found, problems = checked(edited(**parts))
    assert app is None and found == expected
    assert problems[0].line > 1 and problems[0].column >= 1


def test_a_misspelt_field_gets_a_did_you_mean():
    _, _, [problem] = checked(edited(referrals={"friend_phone": "phon"}))
    assert problem.suggestion == "phone" and "not a field of form 'refs'" in problem.message


def test_a_channel_the_select_lacks_names_the_options_to_choose_from():
    forms = copy.deepcopy(FORMS)
    forms[2]["fields"][5]["options"] = OPTIONS[:3]
    _, found, problems = checked(BLOCK, forms)
    assert found == [("referrals.referrals.channel", "unknown_option")] * 3
    assert "map staff to one of link, qr, code under referrals.channels" in problems[0].message


@pytest.mark.parametrize("fraud", [{"self_referral": "ban"}, {"per_day": {"limit": 0}}, {"per_day": 5},
                                   {"velocity": "flag"}])
def test_a_malformed_fraud_setting_is_refused_by_the_schema(fraud):
    app, found, _ = checked(edited(fraud=fraud))
    assert app is None and found and all(path.startswith("referrals.fraud") for path, _ in found)


def test_the_attribution_window_is_bounded():
    app, found, _ = checked(edited(attribution={"window_days": 0}))
    assert app is None and found[0][0].startswith("referrals.attribution")


def test_a_value_part_takes_any_field_whose_value_is_a_number():
    forms = copy.deepcopy(FORMS)
    forms[0]["fields"] += [{"key": "spent", "type": "number", "label": L},
                           {"key": "twice", "type": "formula", "label": L, "formula": "spent * 2"}]
    assert checked(edited(customers={"value": "twice"}), forms)[1] == []
    _, found, [problem] = checked(edited(customers={"value": "name"}), forms)
    assert found == [("referrals.customers.value", "wrong_field_type")]
    assert "a field whose value is a number" in problem.message


def test_the_review_workflow_must_be_a_workflow_of_the_referrals_form():
    forms = copy.deepcopy(FORMS)
    forms[2]["workflows"] = [{"key": "fraud_review", "label": L, "nodes": [
        {"key": "s", "type": "start", "next": "e"}, {"key": "e", "type": "end"}]}]
    verdict = {"key": "verdict", "type": "select", "label": L, "options": [
        {"value": v, "label": {"zh": v, "en": v}} for v in ("clear", "flagged", "blocked")]}
    forms[2]["fields"].append(verdict)
    app, found, _ = checked(edited(referrals={"fraud_status": "verdict"}, fraud={"review": "fraud_review"}), forms)
    assert found == [] and referral_programme_of(app).review_workflow == "fraud_review"
    _, found, [problem] = checked(edited(referrals={"fraud_status": "verdict"}, fraud={"review": "fraud_reveiw"}),
                                  forms)
    assert found == [("referrals.fraud.review", "unknown_workflow")]
    assert problem.suggestion == "fraud_review" and "has no workflow 'fraud_reveiw'" in problem.message
    _, found, _ = checked(edited(fraud={"review": "fraud_review"}), forms)
    assert found == [("referrals.fraud.review", "missing_part")]
