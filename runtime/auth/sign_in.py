"""One sign-in attempt, throttled: the account and password checked against the org
model (runtime/org/users.py), failures counted (throttle.py), the user's session epoch
read for the new session (epochs.py). Run it in a write transaction.

    result = attempt_sign_in(conn, account, password, ip)
    result.user        # the User when it succeeded, else None
    result.lockout     # a Lockout when signing in is locked (the password was not checked)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from runtime.auth.epochs import epoch_of
from runtime.auth.throttle import Lockout, SignInThrottle
from runtime.org.model import User
from runtime.org.users import Users


@dataclass(frozen=True)
class SignInResult:
    user: User | None = None
    epoch: int = 0
    lockout: Lockout | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def attempt_sign_in(conn: sa.Connection, account: str, password: str, ip: str | None, *,
                    now: datetime | None = None) -> SignInResult:
    throttle = SignInThrottle(conn, now=now)
    lockout = throttle.locked(account, ip)
    if lockout is not None:
        return SignInResult(lockout=lockout)
    user = Users(conn).check_password(account, password)
    if user is None:
        return SignInResult(lockout=throttle.failed(account, ip))
    throttle.succeeded(account, ip)
    return SignInResult(user=user, epoch=epoch_of(conn, user.id))
