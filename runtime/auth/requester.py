"""Who a web request comes from, read in one statement (the web asks on every request,
so this is its fixed cost; runtime/actor.py `actor_for` takes three).

    found = session_user(conn, user_id, lang="zh")    # None: no such user
    found.actor, found.epoch                          # compare the epoch with the cookie's
    found = key_user(conn, secret, lang="zh")          # None: unknown/revoked key, inactive user
    found.key_id, found.touch_due                      # then ApiKeys(conn).note_use(found.key_id)

Given the key of the app a request is about (`app_key`), the same SELECT also reads the
version installed of it (runtime/apps.py installed_stamp_columns): `found.installed`,
which the request's units of work load the compiled app by (Session(seen_installed=...)),
so that knowing the current version costs no statement of its own.

One SELECT joins the user (or the key and its user) with their session epoch, role
keys and department memberships; it gives one row per (role, department) pair, which
for a person's handful of each stays a few rows. Nothing is cached: a deactivation, a
revoked key or a new role counts on the very next request.

Imported from here, not from runtime.auth (it builds an Actor, and runtime/actor.py
reads the org model, which imports runtime.auth).
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from engine.storage import system
from engine.storage.types import utcnow
from engine.workspace import workspace_language
from runtime.actor import Actor
from runtime.apps import InstalledStamp, installed_stamp_columns, stamp_of
from runtime.auth.api_keys import KEY_PREFIX, TOUCH_EVERY, digest

_u, _e, _k = system.users, system.session_epochs, system.api_keys
_r, _rm, _dm = system.roles, system.role_members, system.department_members


@dataclass(frozen=True)
class Requester:
    actor: Actor
    epoch: int                          # the user's session epoch (0 until first raised)
    key_id: int | None = None           # the API key the request came with
    touch_due: bool = False             # that key's last use is over a minute old (or never noted)
    # {app key: its installed version, None when not installed} for the app_key asked about
    installed: dict[str, InstalledStamp | None] | None = None


def _with_memberships(base):
    """`base` (a from-clause holding fw_users) joined with the epoch, roles and departments."""
    return (base.outerjoin(_e, _e.c.user_id == _u.c.id)
            .outerjoin(_rm, _rm.c.user_id == _u.c.id).outerjoin(_r, _r.c.id == _rm.c.role_id)
            .outerjoin(_dm, _dm.c.user_id == _u.c.id))


def _statements(with_app: bool) -> tuple[sa.Select, sa.Select]:
    """(by session user id, by API key digest), built once: the request's fixed cost
    should not include building them. With `with_app`, also the installed version of
    the app bound as b_app."""
    stamp = installed_stamp_columns(sa.bindparam("b_app", type_=sa.String)) if with_app else ()
    columns = [_u.c.id, _u.c.account, _u.c.name, _u.c.is_admin, _u.c.is_active, _e.c.epoch,
               _r.c.key.label("role"), _dm.c.department_id, _dm.c.is_primary, *stamp]
    by_session = sa.select(*columns).select_from(_with_memberships(_u)).where(_u.c.id == sa.bindparam("b_user"))
    by_key = (sa.select(*columns, _k.c.id.label("key_id"), _k.c.secret_sha256, _k.c.last_used_at)
              .select_from(_with_memberships(_k.join(_u, _u.c.id == _k.c.user_id)))
              .where(_k.c.secret_sha256 == sa.bindparam("b_secret"), _k.c.revoked_at.is_(None),
                     _u.c.is_active == sa.true()))
    return by_session, by_key


_BY_SESSION, _BY_KEY = _statements(with_app=False)
_BY_SESSION_APP, _BY_KEY_APP = _statements(with_app=True)


def _installed(rows, app_key: str | None) -> dict[str, InstalledStamp | None] | None:
    if app_key is None:
        return None
    return {app_key: stamp_of(rows[0].app_version, rows[0].app_checksum)}


def _actor(rows, lang: str | None) -> Actor:
    first = rows[0]
    departments = sorted({(not r.is_primary, r.department_id) for r in rows if r.department_id is not None})
    return Actor(user_id=int(first.id), account=first.account, name=first.name,
                 roles=frozenset(r.role for r in rows if r.role is not None),
                 department_ids=tuple(d for _, d in departments), is_admin=bool(first.is_admin),
                 is_active=bool(first.is_active), lang=lang or workspace_language())


def session_user(conn: sa.Connection, user_id, *, lang: str | None = None,
                 app_key: str | None = None) -> Requester | None:
    """The user a session cookie names (active or not: the caller decides), with their
    epoch (and the installed version of `app_key`, when given)."""
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    rows = (conn.execute(_BY_SESSION, {"b_user": user_id}) if app_key is None
            else conn.execute(_BY_SESSION_APP, {"b_user": user_id, "b_app": app_key})).all()
    if not rows:
        return None
    return Requester(_actor(rows, lang), int(rows[0].epoch or 0), installed=_installed(rows, app_key))


def key_user(conn: sa.Connection, secret: str, *, lang: str | None = None,
             now: datetime | None = None, app_key: str | None = None) -> Requester | None:
    """The active user of the unrevoked API key `secret` (and the installed version of
    `app_key`, when given), else None. Reads only: when `touch_due`, note the use with
    ApiKeys.note_use in a write transaction."""
    if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    hashed = digest(secret)
    rows = (conn.execute(_BY_KEY, {"b_secret": hashed}) if app_key is None
            else conn.execute(_BY_KEY_APP, {"b_secret": hashed, "b_app": app_key})).all()
    if not rows or not hmac.compare_digest(rows[0].secret_sha256, hashed):
        return None
    last = rows[0].last_used_at
    due = last is None or (now or utcnow()) - last >= TOUCH_EVERY
    return Requester(_actor(rows, lang), int(rows[0].epoch or 0), key_id=int(rows[0].key_id), touch_due=due,
                     installed=_installed(rows, app_key))
