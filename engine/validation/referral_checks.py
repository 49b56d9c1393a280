"""Checks of meaning of the definition's `referrals` block (engine/referrals): each form
exists, each mapped field exists and is of a type that can play its part (the customers'
referrer a relation to the customers themselves, a referral's campaign a relation to the
campaigns form, consent a switch...), the open statuses are options of the campaign's
status field, every channel is recorded as an option of the referrals' channel field, and
the fraud verdict field has the options clear, flagged and blocked."""
from __future__ import annotations

from typing import Iterable

from engine.definition.model import FieldDef, FormDef
from engine.errors import Problem
from engine.referrals.model import FormMap, ReferralProgramme, referral_programme_of
from engine.referrals.schema import CHANNELS
from engine.suggest import did_you_mean
from engine.validation.automation_checks import _formula_type, _unknown_field, _unknown_form
from engine.validation.checks import AppFacts

TEXTS = ("text", "textarea")
CHOICES = ("select", "radio")
# The field types each part accepts; "relation:<part>" is a relation to that part's form,
# "result:<type>" any field whose value has that type (a number, rollup or formula field).
CUSTOMER_TYPES = {"referrer": ("relation:customers",), "code": ("serial", "text"), "name": TEXTS,
                  "phone": ("phone", "text"), "email": ("email", "text"), "value": ("result:number",),
                  "first_deal": ("result:date",)}
CAMPAIGN_TYPES = {"code_prefix": ("text",), "status": CHOICES, "starts_on": ("date",), "ends_on": ("date",),
                  "poster": ("image",), "rules": TEXTS, "fraud_per_hour": ("number",), "fraud_per_day": ("number",),
                  "fraud_same_ip_per_day": ("number",)}
REFERRAL_TYPES = {"referrer": ("relation:customers",), "campaign": ("relation:campaigns",), "code": ("text",),
                  "friend_name": TEXTS, "friend_phone": ("phone", "text"), "friend_email": ("email", "text"),
                  "friend_customer": ("relation:customers",), "channel": CHOICES, "consent": ("switch",),
                  "consent_at": ("datetime",), "status": CHOICES, "client_ip": ("text",), "device": ("text",),
                  "fraud_status": CHOICES, "fraud_reasons": TEXTS}
FRAUD_VERDICTS = ("clear", "flagged", "blocked")


def check_referrals(facts: AppFacts) -> Iterable[Problem]:
    programme = referral_programme_of(facts.app)
    if programme is None:
        return
    forms = {part: facts.app.form(m.form) if m.form else None
             for part, m in (("customers", programme.customers), ("campaigns", programme.campaigns),
                             ("referrals", programme.referrals))}
    for part, types in (("customers", CUSTOMER_TYPES), ("campaigns", CAMPAIGN_TYPES),
                        ("referrals", REFERRAL_TYPES)):
        mapping: FormMap = getattr(programme, part)
        if mapping.form is None:
            continue
        if forms[part] is None:
            yield _unknown_form(facts.app, mapping.form, f"{mapping.path}.form")
            continue
        for name, key in mapping.fields.items():
            yield from _check_part(facts, forms, mapping, part, name, key, types.get(name, ()))
    yield from _check_options(programme, forms)
    yield from _check_review(programme, forms["referrals"])


def _check_review(programme: ReferralProgramme, form: FormDef | None) -> Iterable[Problem]:
    """The review workflow is one of the referrals form's workflows, and the form has a
    fraud verdict field for it to decide."""
    if programme.review_workflow is None or form is None:
        return
    keys = [w.get("key") for w in form.workflows if isinstance(w, dict)]
    if programme.review_workflow not in keys:
        hint = did_you_mean(programme.review_workflow, [k for k in keys if isinstance(k, str)])
        near = f" (did you mean {hint!r}?)" if hint else ""
        known = ", ".join(map(str, keys)) or "none"
        yield Problem("referrals.fraud.review", f"form {form.key!r} has no workflow "
                      f"{programme.review_workflow!r}{near}; name one of its workflows ({known}) or add it "
                      "under the form's workflows", code="unknown_workflow", suggestion=hint)
    elif not programme.referrals["fraud_status"]:
        yield Problem("referrals.fraud.review", "a review workflow decides the referral's fraud verdict: map "
                      "referrals.referrals.fraud_status to a select field with the options clear, flagged "
                      "and blocked", code="missing_part")


def _check_part(facts: AppFacts, forms: dict[str, FormDef | None], mapping: FormMap, part: str, name: str,
                key: str, types: tuple[str, ...]) -> Iterable[Problem]:
    form = forms[part]
    fdef = form.field(key)
    path = f"{mapping.path}.{name}"
    if fdef is None:
        yield _unknown_field(form, key, path, f"the programme's {name.replace('_', ' ')} is read from")
        return
    if fdef.type in types or f"result:{_formula_type(facts, fdef)}" in types:
        return
    targets = [t.split(":")[1] for t in types if t.startswith("relation:")]
    if fdef.type == "relation" and targets:
        wanted = forms.get(targets[0])
        if wanted is not None and fdef.config.get("target") == wanted.key:
            return
        yield Problem(path, f"field {key!r} of form {form.key!r} must be a relation to form "
                      f"{wanted.key if wanted else targets[0]!r}", code="wrong_relation")
        return
    accepted = ", ".join(t.replace("relation:", "a relation to ").replace("result:", "a field whose value is a ")
                         for t in types)
    yield Problem(path, f"field {key!r} of form {form.key!r} is a {fdef.type} field; the {name.replace('_', ' ')}"
                  f" must be one of: {accepted}", code="wrong_field_type")


def _options(form: FormDef | None, key: str | None) -> list[str] | None:
    fdef: FieldDef | None = form.field(key) if form is not None and key else None
    if fdef is None or fdef.type not in CHOICES:
        return None
    return [o.get("value") for o in fdef.option("options") or [] if isinstance(o, dict)]


def _check_options(programme: ReferralProgramme, forms: dict[str, FormDef | None]) -> Iterable[Problem]:
    statuses = _options(forms["campaigns"], programme.campaigns["status"])
    for value in programme.open_statuses if statuses is not None else ():
        if value not in statuses:
            yield Problem("referrals.campaigns.open", f"{value!r} is not an option of the campaigns' status field; "
                          f"name one of: {', '.join(map(str, statuses))}", code="unknown_option")
    channels = _options(forms["referrals"], programme.referrals["channel"])
    for channel in CHANNELS if channels is not None else ():
        value = programme.channel_value(channel)
        if value not in channels:
            where = f"referrals.channels.{channel}" if channel in programme.channels else "referrals.referrals.channel"
            yield Problem(where, f"a referral that comes by {channel} is recorded as option {value!r}, which the "
                          f"channel field does not have; add that option, or map {channel} to one of "
                          f"{', '.join(map(str, channels))} under referrals.channels", code="unknown_option")
    verdicts = _options(forms["referrals"], programme.referrals["fraud_status"])
    missing = [v for v in FRAUD_VERDICTS if verdicts is not None and v not in verdicts]
    if missing:
        yield Problem("referrals.referrals.fraud_status", f"the fraud verdict field needs the options "
                      f"{', '.join(FRAUD_VERDICTS)}; add {', '.join(missing)}", code="unknown_option")
