"""The throttle of failed sign-ins: failures are counted per account and per client
address; enough of them lock that key for a while.

    throttle = SignInThrottle(conn)
    lock = throttle.locked(account, ip)            # a Lockout (until when) or None
    throttle.failed(account, ip)                   # after a wrong password
    throttle.succeeded(account, ip)                # forgets the account's failures

The account is counted as typed (normalised), whether or not it exists, so the answer
never tells which accounts exist. Failures older than WINDOW are forgotten. An address
gets more tries than an account, since an office shares one.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from engine.errors import CodedError
from engine.i18n import register_messages
from engine.storage import system
from engine.storage.types import utcnow

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
LOCK_FOR = timedelta(minutes=15)
WINDOW = timedelta(minutes=15)

register_messages({
    "sign_in_locked": {
        "zh": "登录失败次数过多，已暂时锁定；请在 {minutes} 分钟后（{until} UTC）再试",
        "en": "Too many failed sign-ins: signing in is locked for now; try again in {minutes} "
              "minute(s) (at {until} UTC)"},
})

_f = system.sign_in_failures


class Lockout(CodedError):
    """Signing in with this account (or from this address) is locked until `until`."""

    def __init__(self, until: datetime, minutes: int):
        self.until, self.minutes = until, minutes
        super().__init__("sign_in_locked", minutes=minutes, until=until.strftime("%H:%M"))


def account_key(account: str) -> str:
    return "account:" + " ".join(str(account or "").split()).lower()[:150]


def address_key(ip: str | None) -> str:
    return "ip:" + (ip or "unknown")[:100]


class SignInThrottle:
    def __init__(self, conn: sa.Connection, *, now: datetime | None = None):
        self.conn, self.now = conn, now

    def _now(self) -> datetime:
        return self.now or utcnow()

    def failures(self, account: str, ip: str | None) -> int:
        """The larger of the two recent failure counts (the web slows sign-ins by it)."""
        rows = self._rows(account, ip)
        return max((r.failures for r in rows.values() if self._current(r)), default=0)

    def locked(self, account: str, ip: str | None) -> Lockout | None:
        now = self._now()
        untils = [r.locked_until for r in self._rows(account, ip).values()
                  if r.locked_until is not None and r.locked_until > now]
        if not untils:
            return None
        until = max(untils)
        return Lockout(until, max(1, -(-int((until - now).total_seconds()) // 60)))

    def failed(self, account: str, ip: str | None) -> Lockout | None:
        """Count one failure on both keys; returns the lockout it caused, if any."""
        now = self._now()
        rows = self._rows(account, ip)
        for key, limit in ((account_key(account), ACCOUNT_LIMIT), (address_key(ip), ADDRESS_LIMIT)):
            row = rows.get(key)
            count = row.failures + 1 if row is not None and self._current(row) else 1
            values = {"failures": count, "locked_until": now + LOCK_FOR if count >= limit else None}
            if row is None:
                self.conn.execute(_f.insert().values(key=key, first_failed_at=now, **values))
            else:
                first = row.first_failed_at if self._current(row) else now
                self.conn.execute(sa.update(_f).where(_f.c.key == key).values(first_failed_at=first, **values))
        return self.locked(account, ip)

    def succeeded(self, account: str, ip: str | None) -> None:
        self.conn.execute(sa.delete(_f).where(_f.c.key == account_key(account)))

    def _current(self, row) -> bool:
        """Whether a row still counts: within the window, or still locked."""
        now = self._now()
        return (now - row.first_failed_at < WINDOW) or (row.locked_until is not None and row.locked_until > now)

    def _rows(self, account: str, ip: str | None) -> dict:
        keys = [account_key(account), address_key(ip)]
        return {r.key: r for r in self.conn.execute(sa.select(_f).where(_f.c.key.in_(keys)))}
