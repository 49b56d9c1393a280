"""Users: add (one or many), edit, deactivate and reactivate, passwords, lookups.

Users are never deleted: records keep pointing at the people who created and
owned them. A deactivated user keeps their memberships but cannot sign in, is
skipped when looking for someone's manager and cannot be made a head.

A user is named by a `UserRef`: a `User`, an id (`12`, `"12"`, `"#12"`), an
account (`"li.lei"`, case-insensitive) or, when no account matches, a unique
display name (`"李雷"`).
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Iterable, Union

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from engine.errors import FieldError
from engine.storage import system
from engine.storage.types import utcnow
from engine.suggest import did_you_mean
from runtime.auth.api_keys import ApiKeys
from runtime.auth.epochs import bump_epochs
from runtime.org._sql import MAX_BATCH, chunked
from runtime.org.errors import OrgConflict, OrgNotFound
from runtime.org.model import User, UserPage
from runtime.org.values import (Issues, clean_account, clean_email, clean_name, clean_password,
                                clean_phone)

UserRef = Union[User, int, str]

_u = system.users
USER_COLUMNS = [_u.c.id, _u.c.account, _u.c.name, _u.c.email, _u.c.phone, _u.c.is_active,
                _u.c.is_admin, _u.c.created_at]
_EDITABLE = ("account", "name", "email", "phone", "is_admin")
# Candidates read to suggest "did you mean" when a name does not resolve (an error path).
_SUGGESTION_POOL = 20_000
# Checked against when the account does not exist, so a wrong account costs as long as
# a wrong password and timing does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("formwork-not-a-password")


def user_from_row(row) -> User:
    return User(id=row.id, account=row.account, name=row.name, email=row.email, phone=row.phone,
                is_active=bool(row.is_active), is_admin=bool(row.is_admin), created_at=row.created_at)


def ref_as_id(ref: Any) -> int | None:
    """The id a reference spells directly (an object, 12, "12", "#12"), or None for a name."""
    if hasattr(ref, "id") and not isinstance(ref, (str, int)):
        return ref.id
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int):
        return ref
    text = str(ref).strip().removeprefix("#")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


class Users:
    def __init__(self, conn: sa.Connection, *, now: datetime | None = None):
        self.conn, self.now = conn, now

    # ---- reading ----------------------------------------------------------------
    def get(self, ref: UserRef) -> User:
        return self.resolve([ref])[0]

    def resolve(self, refs: Iterable[UserRef]) -> list[User]:
        """The users named by `refs` (at most MAX_BATCH), in order, in one query; the first
        that names nobody raises OrgNotFound with a "did you mean"."""
        refs = list(refs)
        if len(refs) > MAX_BATCH:
            raise OrgConflict("org_too_many", max=MAX_BATCH, count=len(refs))
        ids = {i for i in map(ref_as_id, refs) if i is not None}
        texts = {str(r).strip() for r in refs if ref_as_id(r) is None}
        accounts = {_account_key(t) for t in texts}
        wanted = []
        if ids:
            wanted.append(_u.c.id.in_(ids))
        if texts:
            wanted += [_u.c.account.in_(accounts), _u.c.name.in_(texts)]
        rows = self.conn.execute(sa.select(*USER_COLUMNS).where(sa.or_(*wanted))).all() if wanted else []
        by_id = {r.id: user_from_row(r) for r in rows}
        by_account = {u.account: u for u in by_id.values()}
        by_name: dict[str, list[User]] = {}
        for user in sorted(by_id.values(), key=lambda u: u.id):
            by_name.setdefault(user.name, []).append(user)
        return [self._pick(ref, by_id, by_account, by_name) for ref in refs]

    def ids(self, refs: Iterable[UserRef]) -> list[int]:
        """Ids of the users named by `refs`, in order, without repeats (one query)."""
        return list(dict.fromkeys(u.id for u in self.resolve(refs)))

    def by_ids(self, ids: Iterable[int]) -> dict[int, User]:
        """Users by id (unknown ids are left out): one query per MAX_BATCH ids."""
        found: dict[int, User] = {}
        for batch in chunked(set(ids)):
            rows = self.conn.execute(sa.select(*USER_COLUMNS).where(_u.c.id.in_(batch))).all()
            found.update((r.id, user_from_row(r)) for r in rows)
        return found

    def find(self, text: str) -> list[User]:
        """Users whose account or display name is exactly `text` (accounts ignore case)."""
        text = str(text).strip()
        rows = self.conn.execute(sa.select(*USER_COLUMNS).where(sa.or_(
            _u.c.account == _account_key(text), _u.c.name == text)).order_by(_u.c.account)).all()
        return [user_from_row(r) for r in rows]

    def list(self, *, search: str | None = None, active: bool | None = True,
             limit: int = 50, offset: int = 0) -> UserPage:
        """One page of users ordered by account, and how many match in all.

        `search` looks inside account, name, email and phone (ignoring case);
        `active=None` lists deactivated users too, `active=False` only them."""
        limit, offset = max(1, min(int(limit), 1000)), max(0, int(offset))
        where = []
        if active is not None:
            where.append(_u.c.is_active == sa.true() if active else _u.c.is_active == sa.false())
        if search and search.strip():
            needle = search.strip()
            where.append(sa.or_(*(c.icontains(needle, autoescape=True)
                                  for c in (_u.c.account, _u.c.name, _u.c.email, _u.c.phone))))
        total = self.conn.execute(sa.select(sa.func.count()).select_from(_u).where(*where)).scalar_one()
        rows = self.conn.execute(sa.select(*USER_COLUMNS).where(*where).order_by(_u.c.account)
                                 .limit(limit).offset(offset)).all()
        return UserPage([user_from_row(r) for r in rows], total, offset, limit)

    def names(self, ids: Iterable[int]) -> dict[int, str]:
        """Display names by id (for showing member fields), one query."""
        names: dict[int, str] = {}
        for batch in chunked(set(ids)):
            names.update(self.conn.execute(sa.select(_u.c.id, _u.c.name).where(_u.c.id.in_(batch))).all())
        return names

    def lookup(self, texts: Iterable[str]) -> tuple[dict[str, int], dict[str, list[str]]]:
        """For imports: {text: id} for texts that name one user by account or display name,
        and {text: [accounts]} for names several users share. One query per MAX_BATCH texts."""
        texts = {str(t).strip() for t in texts if str(t).strip()}
        by_account: dict[str, int] = {}
        by_name: dict[str, list[tuple[str, int]]] = {}
        for batch in chunked(texts):
            rows = self.conn.execute(sa.select(_u.c.id, _u.c.account, _u.c.name).where(sa.or_(
                _u.c.account.in_({_account_key(t) for t in batch}), _u.c.name.in_(batch)))).all()
            for row in rows:
                by_account[row.account] = row.id
                by_name.setdefault(row.name, []).append((row.account, row.id))
        found: dict[str, int] = {}
        ambiguous: dict[str, list[str]] = {}
        for text in texts:
            named = {account: uid for account, uid in by_name.get(text, [])}
            if _account_key(text) in by_account:
                found[text] = by_account[_account_key(text)]
            elif len(named) == 1:
                found[text] = next(iter(named.values()))
            elif named:
                ambiguous[text] = sorted(named)
        return found, ambiguous

    def check_password(self, account: str, password: str) -> User | None:
        """The active user with this account and password, or None (same cost either way)."""
        row = self.conn.execute(sa.select(*USER_COLUMNS, _u.c.password_hash)
                                .where(_u.c.account == _account_key(account))).first()
        stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
        matches = check_password_hash(stored, password or "")
        if row is None or not row.password_hash or not row.is_active or not matches:
            return None
        return user_from_row(row)

    # ---- writing ----------------------------------------------------------------
    def add(self, account: str, name: str, *, email: str | None = None, phone: str | None = None,
            password: str | None = None, is_admin: bool = False) -> User:
        row = {"account": account, "name": name, "email": email, "phone": phone,
               "password": password, "is_admin": is_admin}
        return self._insert([self._clean_new(row, Issues())])[0]

    def add_many(self, rows: list[dict[str, Any]]) -> list[User]:
        """Add users from dicts (account, name, email, phone, password, is_admin): all or
        nothing, every problem of every row reported at once, a fixed number of statements."""
        if len(rows) > MAX_BATCH:
            raise OrgConflict("org_too_many", max=MAX_BATCH, count=len(rows))
        if not rows:
            return []
        issues = Issues()
        per_row = [issues.for_row(index) for index in range(len(rows))]
        cleaned = [self._clean_new(row, where, check_taken=False) for row, where in zip(rows, per_row)]
        self._report_taken(cleaned, per_row)
        issues.raise_if_any()
        return self._insert(cleaned)

    def edit(self, ref: UserRef, **changes: Any) -> User:
        """Change some of account, name, email, phone, is_admin (None or "" clears email/phone)."""
        unknown = set(changes) - set(_EDITABLE)
        if unknown:
            raise TypeError(f"cannot edit {sorted(unknown)}; editable: {', '.join(_EDITABLE)}")
        user = self.get(ref)
        issues = Issues()
        values: dict[str, Any] = {}
        cleaners = {"account": clean_account, "name": clean_name, "email": clean_email, "phone": clean_phone,
                    "is_admin": bool}
        for key, raw in changes.items():
            values[key] = issues.clean(key, cleaners[key], raw)
        if "account" in values and values["account"] not in (None, user.account):
            if self._taken([values["account"]]):
                issues.add("account", "org_account_taken", account=values["account"])
        issues.raise_if_any()
        if values:
            self._write(sa.update(_u).where(_u.c.id == user.id).values(**values), values.get("account"))
        return self.get(user.id)

    def deactivate(self, refs: Iterable[UserRef]) -> int:
        """Deactivate users (they keep their data and memberships); returns how many changed.
        Their sessions end (their session epoch is raised) and their API keys are revoked,
        so reactivating them later does not bring an old cookie or key back to life."""
        ids = self.ids(refs)
        changed = self._set_active(ids, False)
        bump_epochs(self.conn, ids)
        ApiKeys(self.conn, now=self.now).revoke_all_of(ids)
        return changed

    def reactivate(self, refs: Iterable[UserRef]) -> int:
        return self._set_active(refs, True)

    def set_password(self, ref: UserRef, password: str) -> None:
        """Set the password; the user's other sessions end (their session epoch is raised)."""
        user = self.get(ref)
        issues = Issues()
        password = issues.clean("password", lambda p: clean_password(p, user.account), password)
        issues.raise_if_any()
        self.conn.execute(sa.update(_u).where(_u.c.id == user.id)
                          .values(password_hash=generate_password_hash(password)))
        bump_epochs(self.conn, [user.id])

    def reset_password(self, ref: UserRef) -> str:
        """Give the user a generated password (96 random bits) and return it, to be shown
        once to the administrator who reset it; the user's sessions end."""
        password = secrets.token_urlsafe(12)
        self.set_password(ref, password)
        return password

    # ---- helpers ----------------------------------------------------------------
    def _pick(self, ref: UserRef, by_id, by_account, by_name) -> User:
        rid = ref_as_id(ref)
        if rid is not None:
            if rid in by_id:
                return by_id[rid]
            raise OrgNotFound("org_user_not_found", ref=f"#{rid}")
        text = str(ref).strip()
        if _account_key(text) in by_account:
            return by_account[_account_key(text)]
        named = by_name.get(text, [])
        if len(named) == 1:
            return named[0]
        if named:
            raise OrgNotFound("org_user_ambiguous", ref=text, count=len(named),
                              accounts=", ".join(u.account for u in named))
        raise OrgNotFound("org_user_not_found", ref=text[:100], suggestion=self._suggest(text))

    def _suggest(self, text: str) -> str | None:
        rows = self.conn.execute(sa.select(_u.c.account, _u.c.name).limit(_SUGGESTION_POOL)).all()
        return did_you_mean(text, [r.account for r in rows] + [r.name for r in rows])

    def _clean_new(self, row: dict[str, Any], issues: Issues, *, check_taken: bool = True) -> dict[str, Any]:
        account = issues.clean("account", clean_account, row.get("account"))
        values = {
            "account": account,
            "name": issues.clean("name", clean_name, row.get("name")),
            "email": issues.clean("email", clean_email, row.get("email")),
            "phone": issues.clean("phone", clean_phone, row.get("phone")),
            "is_admin": bool(row.get("is_admin", False)),
            "is_active": True,
            "password_hash": None,
        }
        if row.get("password") is not None:
            password = issues.clean("password", lambda p: clean_password(p, account), row["password"])
            if password is not None:
                values["password_hash"] = generate_password_hash(password)
        if check_taken:
            self._report_taken([values], [issues])
            issues.raise_if_any()
        return values

    def _report_taken(self, cleaned: list[dict[str, Any]], per_row: list[Issues]) -> None:
        """Accounts already in the database, or given twice in the batch (one query)."""
        taken = self._taken([v["account"] for v in cleaned if v["account"]])
        seen: set[str] = set()
        for values, issues in zip(cleaned, per_row):
            account = values["account"]
            if account and (account in taken or account in seen):
                issues.add("account", "org_account_taken", account=account)
            seen.add(account)

    def _taken(self, accounts: list[str]) -> set[str]:
        if not accounts:
            return set()
        return set(self.conn.execute(sa.select(_u.c.account).where(_u.c.account.in_(set(accounts)))).scalars())

    def _insert(self, cleaned: list[dict[str, Any]]) -> list[User]:
        now = self.now or utcnow()
        rows = [{**values, "created_at": now} for values in cleaned]
        try:
            with self.conn.begin_nested():
                # A plain executemany, read back by account (unique): on PostgreSQL this is
                # several times faster than one huge INSERT ... RETURNING statement.
                self.conn.execute(_u.insert(), rows)
        except IntegrityError:
            raise self._collision([r["account"] for r in rows]) from None
        inserted = self.conn.execute(sa.select(*USER_COLUMNS).where(_u.c.account.in_([r["account"] for r in rows])))
        by_account = {row.account: user_from_row(row) for row in inserted}
        return [by_account[r["account"]] for r in rows]

    def _write(self, statement, account: str | None) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(statement)
        except IntegrityError:
            raise self._collision([account] if account else []) from None

    def _collision(self, accounts: list[str]) -> OrgConflict:
        """Another transaction took an account between our check and our write: the
        unique constraint refused it. Name the account it committed."""
        taken = sorted(self._taken(accounts)) or accounts[:1] or ["?"]
        return OrgConflict("org_account_taken", account=", ".join(taken))

    def _set_active(self, refs: Iterable[UserRef], active: bool) -> int:
        ids = self.ids(refs)
        if not ids:
            return 0
        result = self.conn.execute(sa.update(_u).where(_u.c.id.in_(ids), _u.c.is_active == (not active))
                                   .values(is_active=active))
        return result.rowcount


def _account_key(text: str) -> str:
    """How an account is stored: NFKC-folded, trimmed, lower case (see values.clean_account)."""
    try:
        return clean_account(text)
    except FieldError:
        return str(text).strip().lower()
