"""The JSON Schema of the definition's `referrals` block (docs/referrals.md): which forms
and fields hold the referral programme (the customers who refer and are referred, the
campaigns, the referral records), how a referral is attributed, what the friend consents
to, and the fraud checks run on every referral. engine/validation/schema.py puts it into
the definition's schema."""
from __future__ import annotations

from typing import Any

FIELD = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64}
FORM = FIELD

CHANNELS = ("link", "qr", "code", "staff", "import", "api")
TOUCHES = ("first", "last")
ACTIONS = ("block", "flag", "off")
# The checks that take no number, and those that take a limit.
PLAIN_CHECKS = ("self_referral", "already_customer", "already_referred", "disposable_email")
LIMIT_CHECKS = ("per_hour", "per_day", "same_ip_per_day")


def _fields(description: str, names: dict[str, str], required: tuple[str, ...],
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["form", *required],
            "description": description,
            "properties": {"form": {**FORM, "description": "The form's key."},
                           **{name: {**FIELD, "description": text} for name, text in names.items()},
                           **(extra or {})}}


CUSTOMER_FIELDS = {
    "referrer": "The self-relation naming who referred a customer (the chain of any depth).",
    "code": "The customer's own referral code (a serial or text field), e.g. TJ000123.",
    "name": "The customer's name.",
    "phone": "The customer's phone (the self-referral and already-a-customer checks compare it).",
    "email": "The customer's email (optional).",
    "value": "A number field: what the customer brought in (the chain values and ROI sum it).",
    "first_deal": "A date field: the day of the customer's first deal; a referred friend counts as converted "
                  "from it.",
}
CAMPAIGN_FIELDS = {
    "code_prefix": "The campaign's code prefix: a share code is <prefix>-<customer code>.",
    "status": "The campaign's status field; see `open`.",
    "starts_on": "The first day referrals count.",
    "ends_on": "The last day referrals count (empty: open-ended).",
    "poster": "The campaign's image, drawn on each referrer's poster.",
    "rules": "The campaign's rules, shown on the landing page.",
    "fraud_per_hour": "A number field: this campaign's limit of a referrer's referrals in an hour (empty: "
                      "the programme's fraud.per_hour).",
    "fraud_per_day": "A number field: this campaign's limit of a referrer's referrals in a day (empty: "
                     "fraud.per_day).",
    "fraud_same_ip_per_day": "A number field: this campaign's limit of referrals from one IP address in a day "
                             "(empty: fraud.same_ip_per_day).",
}
# The campaign parts overriding a counting check's limit, by check.
CAMPAIGN_LIMITS = {"per_hour": "fraud_per_hour", "per_day": "fraud_per_day", "same_ip_per_day": "fraud_same_ip_per_day"}
REFERRAL_FIELDS = {
    "referrer": "The relation to the referring customer.",
    "campaign": "The relation to the campaign.",
    "code": "The code the friend came with (typed or carried by the link).",
    "friend_name": "The friend's name.",
    "friend_phone": "The friend's phone.",
    "friend_email": "The friend's email (optional).",
    "friend_customer": "The relation to the friend once they are a customer.",
    "channel": "A select field: how the referral came (see `channels`).",
    "consent": "A switch: the friend consented to be contacted.",
    "consent_at": "A datetime: when the friend consented.",
    "status": "The referral's status (the funnel).",
    "client_ip": "A text field: the IP address the friend's form came from.",
    "device": "A text field: the device cookie of the friend's browser.",
    "fraud_status": "A select field with the options clear, flagged and blocked: the fraud checks' verdict.",
    "fraud_reasons": "A textarea: why a referral was flagged or blocked.",
}


def referrals_schema() -> dict[str, Any]:
    check = {"enum": list(ACTIONS)}
    limited = {"type": "object", "additionalProperties": False, "required": ["limit"],
               "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 100000},
                              "action": check}}
    return {
        "type": "object", "additionalProperties": False,
        "required": ["customers", "campaigns", "referrals"],
        "properties": {
            "customers": _fields("The form of the customers who refer and are referred.", CUSTOMER_FIELDS,
                                 ("referrer", "code", "name", "phone")),
            "campaigns": _fields("The form of the referral campaigns.", CAMPAIGN_FIELDS, ("code_prefix", "starts_on"), {
                "open": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "string"},
                         "description": "The status values of a campaign taking referrals (default [running])."}}),
            "referrals": _fields("The form of the referral records (A referred friend B).", REFERRAL_FIELDS,
                                 ("referrer", "campaign", "friend_name", "friend_phone", "consent")),
            "channels": {"type": "object", "additionalProperties": False,
                         "description": "The option of the referrals' channel field recorded for each way a "
                                        "referral comes (default: the option of the same name).",
                         "properties": {name: {"type": "string", "minLength": 1, "maxLength": 64}
                                        for name in CHANNELS}},
            "attribution": {"type": "object", "additionalProperties": False, "properties": {
                "touch": {"enum": list(TOUCHES), "description": "Which link a friend who clicked several "
                          "is credited to within a campaign: first (default) or last."},
                "window_days": {"type": "integer", "minimum": 1, "maximum": 365,
                                "description": "Days a click counts (default 30)."}}},
            "consent": {"type": "object", "additionalProperties": False, "required": ["purpose"],
                        "properties": {"purpose": {"$ref": "#/$defs/text", "description": "Why the friend's "
                                                   "details are collected, shown beside the consent box "
                                                   "(个人信息保护法)."}}},
            "fraud": {"type": "object", "additionalProperties": False,
                      "description": "What each fraud check does with a referral it catches: block, flag "
                                     "(it waits in the review queue) or off.",
                      "properties": {**{name: check for name in PLAIN_CHECKS},
                                     **{name: limited for name in LIMIT_CHECKS},
                                     "review": {**FIELD, "description": "The workflow of the referrals "
                                                "form started on a flagged referral (the review queue): "
                                                "approving it clears the referral, rejecting blocks it."},
                                     "disposable_domains": {"type": "array", "maxItems": 1000,
                                                            "items": {"type": "string", "maxLength": 253},
                                                            "description": "Domains added to the built-in "
                                                                           "list of disposable email domains."}}},
        },
    }
