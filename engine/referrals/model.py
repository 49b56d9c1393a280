"""The definition's `referrals` block read into plain objects (docs/referrals.md). Reading
never raises: what is malformed is left None, and the validator reports it
(engine/validation/referral_checks.py); an installed app has none of that."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.definition.model import AppDef, Label
from engine.referrals.schema import CHANNELS, LIMIT_CHECKS, PLAIN_CHECKS

# What a check does when the definition does not say.
DEFAULT_ACTIONS = {"self_referral": "block", "already_customer": "flag", "already_referred": "flag",
                   "disposable_email": "flag", "per_hour": "flag", "per_day": "flag", "same_ip_per_day": "flag"}
# The limits of the counting checks when the definition does not set them.
DEFAULT_LIMITS = {"per_hour": 10, "per_day": 30, "same_ip_per_day": 5}


@dataclass(frozen=True)
class FormMap:
    """A form of the programme and which of its fields plays each part: `fields` maps a part
    (e.g. "friend_phone") to the field key; a part not mapped is absent."""
    form: str | None
    fields: dict[str, str] = field(default_factory=dict)
    path: str = ""

    def __getitem__(self, part: str) -> str | None:
        return self.fields.get(part)


@dataclass(frozen=True)
class Check:
    name: str
    action: str          # block | flag | off
    limit: int | None = None


@dataclass(frozen=True)
class ReferralProgramme:
    customers: FormMap
    campaigns: FormMap
    referrals: FormMap
    open_statuses: tuple[str, ...] = ("running",)
    channels: dict[str, str] = field(default_factory=dict)   # canonical channel -> option value
    touch: str = "first"
    window_days: int = 30
    consent_purpose: Label | None = None
    checks: dict[str, Check] = field(default_factory=dict)
    disposable_domains: tuple[str, ...] = ()
    review_workflow: str | None = None      # the referrals form's workflow a flagged referral waits in
    path: str = "referrals"

    def channel_value(self, channel: str) -> str:
        """The option of the referrals' channel field recorded for a canonical channel."""
        return self.channels.get(channel, channel)

    def check(self, name: str) -> Check:
        return self.checks[name]


def referral_programme_of(app: AppDef) -> ReferralProgramme | None:
    raw = app.raw.get("referrals") if isinstance(app.raw, dict) else None
    if not isinstance(raw, dict):
        return None
    campaigns = _dict(raw, "campaigns")
    attribution, fraud = _dict(raw, "attribution"), _dict(raw, "fraud")
    consent = _dict(raw, "consent")
    opened = campaigns.get("open")
    return ReferralProgramme(
        customers=_form_map(raw, "customers"), campaigns=_form_map(raw, "campaigns"),
        referrals=_form_map(raw, "referrals"),
        open_statuses=tuple(v for v in opened if isinstance(v, str)) if isinstance(opened, list) else ("running",),
        channels={name: value for name, value in _dict(raw, "channels").items()
                  if name in CHANNELS and isinstance(value, str)},
        touch=attribution.get("touch") if attribution.get("touch") in ("first", "last") else "first",
        window_days=_int(attribution.get("window_days"), 30),
        consent_purpose=Label.parse(consent["purpose"]) if isinstance(consent.get("purpose"), dict) else None,
        checks=_checks(fraud),
        disposable_domains=tuple(d.lower() for d in fraud.get("disposable_domains") or [] if isinstance(d, str)),
        review_workflow=fraud.get("review") if isinstance(fraud.get("review"), str) else None,
    )


def _dict(item: dict, name: str) -> dict[str, Any]:
    value = item.get(name)
    return value if isinstance(value, dict) else {}


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _form_map(raw: dict, part: str) -> FormMap:
    item = _dict(raw, part)
    form = item.get("form") if isinstance(item.get("form"), str) else None
    return FormMap(form, {name: value for name, value in item.items()
                          if name not in ("form", "open") and isinstance(value, str)}, f"referrals.{part}")


def _checks(fraud: dict) -> dict[str, Check]:
    found = {}
    for name in PLAIN_CHECKS:
        action = fraud.get(name)
        found[name] = Check(name, action if action in ("block", "flag", "off") else DEFAULT_ACTIONS[name])
    for name in LIMIT_CHECKS:
        item = fraud.get(name) if isinstance(fraud.get(name), dict) else {}
        action = item.get("action")
        found[name] = Check(name, action if action in ("block", "flag", "off") else DEFAULT_ACTIONS[name],
                            _int(item.get("limit"), DEFAULT_LIMITS[name]))
    return found
