"""Rules for the values people type into the org model: accounts, names, contact
details, passwords and role keys.

Each `clean_*` returns the canonical value or raises a coded `FieldError`;
`Issues` gathers them per input so every problem is reported at once. Email and
phone are checked by the email and phone field types, so a user's phone obeys
exactly the rules of a phone field in a form.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any, Callable

from engine.definition.model import FieldDef, Label
from engine.errors import FieldError, FieldIssue, RecordValidationError
from engine.fields import ValueContext, field_type

ACCOUNT_PATTERN = re.compile(r"^[a-z][a-z0-9._@-]{1,63}$")
ROLE_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
NAME_MAX = 100          # the width of the name columns of fw_users, fw_departments, fw_roles
PASSWORD_MIN = 8
PASSWORD_MAX = 128
# Bidirectional overrides can make a name display as something else ("evil" text reversed).
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_FIELD_ORDER = {name: index for index, name in enumerate(("account", "key", "name", "email", "phone", "password"))}


class Issues:
    """Collects the problems of one input (or of one row of a batch) and raises them together."""

    def __init__(self, *, row: int | None = None, batch_field: str = "users",
                 found: list[FieldIssue] | None = None):
        self.row, self.batch_field = row, batch_field
        self.found: list[FieldIssue] = [] if found is None else found

    def for_row(self, index: int) -> "Issues":
        """The issues of one row of a batch, reported as `users[3].email`, in the same list."""
        return Issues(row=index, batch_field=self.batch_field, found=self.found)

    def clean(self, field: str, cleaner: Callable[[Any], Any], raw: Any) -> Any:
        try:
            return cleaner(raw)
        except FieldError as exc:
            self.add(field, exc.code, **exc.params)
            return None

    def add(self, field: str, code: str, **params: Any) -> None:
        if self.row is None:
            self.found.append(FieldIssue(field, code, params))
        else:
            self.found.append(FieldIssue(self.batch_field, code, params, row=self.row, subfield=field))

    def raise_if_any(self) -> None:
        """Raise every issue, row by row, each row's in the order of a form (account first)."""
        if self.found:
            raise RecordValidationError(sorted(self.found, key=lambda i: (
                -1 if i.row is None else i.row, _FIELD_ORDER.get(i.subfield or i.field, len(_FIELD_ORDER)))))


def clean_account(raw: Any) -> str:
    """Accounts are case-insensitive: full-width letters folded, stored in lower case."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise FieldError("required")
    text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    if not ACCOUNT_PATTERN.match(text):
        raise FieldError("org_account_invalid", value=str(raw)[:70])
    return text


def clean_name(raw: Any, *, department: bool = False) -> str:
    """A display name: trimmed, at most NAME_MAX characters, no control characters."""
    if raw is None or not str(raw).strip():
        raise FieldError("required")
    text = unicodedata.normalize("NFC", str(raw)).strip()
    if any(unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS for ch in text):
        raise FieldError("org_name_invalid")
    if len(text) > NAME_MAX:
        raise FieldError("org_name_too_long", max=NAME_MAX, length=len(text))
    if department and "/" in text:
        raise FieldError("org_department_name_slash")
    return text


def clean_email(raw: Any) -> str | None:
    if raw is None or str(raw).strip() == "":
        return None
    return _contact_type("email").clean(raw, ValueContext())


def clean_phone(raw: Any) -> str | None:
    if raw is None or str(raw).strip() == "":
        return None
    return _contact_type("phone").clean(raw, ValueContext())


def clean_password(raw: Any, account: str | None) -> str:
    if not isinstance(raw, str) or raw == "":
        raise FieldError("required")
    if len(raw) < PASSWORD_MIN:
        raise FieldError("org_password_too_short", min=PASSWORD_MIN)
    if len(raw) > PASSWORD_MAX:
        raise FieldError("org_password_too_long", max=PASSWORD_MAX)
    if (account and raw.lower() == account.lower()) or len(set(raw)) == 1:
        raise FieldError("org_password_weak")
    return raw


def clean_role_key(raw: Any) -> str:
    if raw is None or not str(raw).strip():
        raise FieldError("required")
    text = str(raw).strip()
    if not ROLE_KEY_PATTERN.match(text):
        raise FieldError("org_role_key_invalid", value=text[:70])
    return text


def clean_description(raw: Any) -> str | None:
    if raw is None or not str(raw).strip():
        return None
    return str(raw).strip()


@functools.cache
def _contact_type(type_name: str):
    """The email or phone field type, as a form field with default options would use it."""
    fdef = FieldDef(key=type_name, type=type_name, label=Label(type_name, type_name), path=type_name)
    return field_type(fdef)
