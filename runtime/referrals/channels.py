"""The channel of a referral entered another way than through a share link (docs/referrals.md,
"Channels"): staff typing it into the form page (`staff`), an import (`import`) or the
REST API (`api`). The caller that knows the origin (web/forms, web/api,
runtime/import_export) passes the values it is about to create through `with_channel`:
a referral without a channel gets the option the programme records for that origin
(`channels.staff` etc., default the option of the origin's own name); every other
record, and a referral whose channel was given, is left as it is.

    values = with_channel(records, "referrals", values, "staff")     # records: the record service

The channel is only filled in where the actor may set it (a role whose permission set
leaves the channel read-only creates referrals without one, as before).
"""
from __future__ import annotations

from typing import Any

from runtime.records import Records
from runtime.referrals.compiled import programme_for

ORIGINS = ("staff", "import", "api")


def with_channel(records: Records, form_key: str, values: Any, origin: str) -> Any:
    """`values` (a record's input dict) with the programme's channel of `origin` when it
    is a referral without a channel; anything else unchanged (the same object)."""
    if origin not in ORIGINS:
        raise ValueError(f"a referral's origin is one of {', '.join(ORIGINS)}, not {origin!r}")
    programme = programme_for(records.app)
    if programme is None or form_key != programme.referrals.form or not isinstance(values, dict):
        return values
    field = programme.referrals["channel"]
    if not field or values.get(field) not in (None, "", []) or not records.access(form_key).can_edit(field):
        return values
    return {**values, field: programme.channel_value(origin)}
