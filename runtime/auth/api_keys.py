"""API keys: a high-entropy secret per key, shown once, stored only as its SHA-256.

    key, secret = ApiKeys(conn).create(user_id, "nightly sync")   # secret: "fwk_ab12cd34_..."
    user_id = ApiKeys(conn).verify(secret)       # None: unknown, revoked, or user inactive

A key is `fwk_<prefix>_<secret>`: the prefix (8 hex characters) is stored in clear so
lists can show which key is which; the whole key is hashed. SHA-256 (not a slow password
hash) is right here because the secret has 256 bits of entropy: there is nothing to guess.
Verifying also records the last use, at most once a minute per key, so a busy client
does not turn every read into a write.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engine.errors import CodedError, FieldError, NotFound
from engine.i18n import register_messages
from engine.storage import system
from engine.storage.types import utcnow

KEY_PREFIX = "fwk_"
TOUCH_EVERY = timedelta(minutes=1)
NAME_MAX = 100

register_messages({
    "api_key_not_found": {"zh": "没有编号为 {id} 的 API 密钥；用 `formwork api-keys list` 查看已有的密钥",
                          "en": "there is no API key with id {id}; `formwork api-keys list` shows the keys"},
    "api_key_name_too_long": {"zh": "密钥名称最多 {max} 个字符", "en": "a key's name is at most {max} characters"},
    "api_key_user_inactive": {"zh": "用户 #{id} 已停用，不能为其创建 API 密钥；请先重新启用该用户",
                              "en": "user #{id} is deactivated: no API key can be made for them; "
                                    "reactivate the user first"},
})

_k, _u = system.api_keys, system.users


class ApiKeyNotFound(CodedError, NotFound):
    def __init__(self, key_id):
        super().__init__("api_key_not_found", id=key_id)


class InactiveKeyOwner(CodedError):
    def __init__(self, user_id):
        super().__init__("api_key_user_inactive", id=user_id)


@dataclass(frozen=True)
class ApiKey:
    id: int
    user_id: int
    account: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def as_dict(self) -> dict:
        return {"id": self.id, "account": self.account, "name": self.name, "prefix": self.prefix,
                "created_at": _iso(self.created_at), "last_used_at": _iso(self.last_used_at),
                "revoked_at": _iso(self.revoked_at)}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiKeys:
    def __init__(self, conn: sa.Connection, *, now: datetime | None = None):
        self.conn, self.now = conn, now

    def _now(self) -> datetime:
        return self.now or utcnow()

    def create(self, user_id: int, name: str) -> tuple[ApiKey, str]:
        """A new key for the user; returns it and the secret, which is not kept anywhere."""
        name = clean_key_name(name)
        active = self.conn.execute(sa.select(_u.c.is_active).where(_u.c.id == user_id)).scalar()
        if not active:
            raise InactiveKeyOwner(user_id)
        prefix = secrets.token_hex(4)
        secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        key_id = self.conn.execute(_k.insert().values(
            user_id=user_id, name=name, prefix=prefix, secret_sha256=digest(secret),
            created_at=self._now()).returning(_k.c.id)).scalar_one()
        return self.get(key_id), secret

    def get(self, key_id: int) -> ApiKey:
        found = self._select(_k.c.id == key_id)
        if not found:
            raise ApiKeyNotFound(key_id)
        return found[0]

    def list(self, user_id: int | None = None) -> list[ApiKey]:
        """The keys of one user (or of everyone), newest first, revoked ones included."""
        return self._select(_k.c.user_id == user_id) if user_id is not None else self._select()

    def revoke(self, key_id: int, *, user_id: int | None = None) -> ApiKey:
        """Revoke a key (again is harmless). With `user_id`, only a key of that user: another
        user's key id answers not found, as if it did not exist."""
        where = [_k.c.id == key_id] + ([_k.c.user_id == user_id] if user_id is not None else [])
        if not self._select(*where):
            raise ApiKeyNotFound(key_id)
        self.conn.execute(sa.update(_k).where(*where, _k.c.revoked_at.is_(None)).values(revoked_at=self._now()))
        return self.get(key_id)

    def revoke_all_of(self, user_ids) -> int:
        ids = sorted(set(user_ids))
        if not ids:
            return 0
        return self.conn.execute(sa.update(_k).where(_k.c.user_id.in_(ids), _k.c.revoked_at.is_(None))
                                 .values(revoked_at=self._now())).rowcount

    def verify(self, secret: str) -> int | None:
        """The id of the active user whose unrevoked key this is, else None; notes the use."""
        found = self.authenticate(secret)
        return None if found is None else found[1]

    def authenticate(self, secret: str) -> tuple[int, int] | None:
        """(key id, user id) of the active user's unrevoked key `secret`, else None; notes
        the use (the key id names the key's own rate limit)."""
        if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            return None
        row = self.conn.execute(
            sa.select(_k.c.id, _k.c.user_id, _k.c.secret_sha256, _k.c.last_used_at)
            .join(_u, _u.c.id == _k.c.user_id)
            .where(_k.c.secret_sha256 == digest(secret), _k.c.revoked_at.is_(None),
                   _u.c.is_active == sa.true())).first()
        if row is None or not hmac.compare_digest(row.secret_sha256, digest(secret)):
            return None
        now = self._now()
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            self.conn.execute(sa.update(_k).where(_k.c.id == row.id).values(last_used_at=now))
        return int(row.id), int(row.user_id)

    def note_use(self, key_id: int) -> bool:
        """Note that the key was used now, unless that was noted less than a minute ago
        (by this process or another): the condition is in the UPDATE itself. True when it wrote."""
        now = self._now()
        return self.conn.execute(
            sa.update(_k).where(_k.c.id == key_id, sa.or_(_k.c.last_used_at.is_(None),
                                                          _k.c.last_used_at <= now - TOUCH_EVERY))
            .values(last_used_at=now)).rowcount > 0

    def _select(self, *where) -> list[ApiKey]:
        rows = self.conn.execute(
            sa.select(_k.c.id, _k.c.user_id, _u.c.account, _k.c.name, _k.c.prefix, _k.c.created_at,
                      _k.c.last_used_at, _k.c.revoked_at)
            .join(_u, _u.c.id == _k.c.user_id).where(*where).order_by(_k.c.id.desc())).all()
        return [ApiKey(**row._mapping) for row in rows]


def clean_key_name(raw) -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        raise FieldError("required")
    if len(name) > NAME_MAX:
        raise FieldError("api_key_name_too_long", max=NAME_MAX)
    return name
