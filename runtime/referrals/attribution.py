"""Touches and attribution (docs/referrals.md, "Attribution").

Every visit of a share link (`/r/<code>`) or scan of a poster's QR code (`?ch=qr`) is a
touch: one row of fw_referral_touches with the visitor's first-party cookie id. When the
friend submits the landing form, the referral is credited to one of the visitor's
touches in that campaign within the programme's `window_days`: the first or the last, as
`attribution.touch` says. A visitor without touches (cookies refused, a link opened in
another browser) is credited to the code of the page they submitted.

    record_touch(conn, app, share, visitor="…", channel="qr", ip="1.2.3.4", user_agent="…")
    touch = attributed_touch(conn, app, campaign_id, visitor)     # Touch | None, one statement
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engine.compiled.app import App
from engine.storage import system
from engine.storage.types import utcnow
from runtime.referrals.codes import ShareCode
from runtime.referrals.compiled import programme_for

TOUCH_CHANNELS = ("link", "qr")
USER_AGENT_LENGTH = 255
VISITOR_LENGTH = 64
_touches = system.referral_touches


@dataclass(frozen=True)
class Touch:
    referrer_id: int
    campaign_id: int
    code: str
    channel: str          # link | qr (canonical; the programme maps it to an option)
    at: datetime


def new_visitor_id() -> str:
    """A random visitor id for the first-party cookie (no meaning, nothing derived from the visitor)."""
    return secrets.token_urlsafe(24)


def valid_visitor_id(value: str | None) -> str | None:
    """The cookie's id if it looks like one this module made, else None (a new one is set)."""
    if not value or len(value) > VISITOR_LENGTH or not all(c.isalnum() or c in "-_" for c in value):
        return None
    return value


def record_touch(conn: sa.Connection, app: App, share: ShareCode, *, visitor: str, channel: str,
                 ip: str | None, user_agent: str | None, at: datetime | None = None) -> None:
    """One INSERT: the visitor came through `share` by `channel` (link or qr)."""
    conn.execute(_touches.insert().values(
        app_key=app.key, campaign_id=share.campaign_id, referrer_id=share.referrer_id, code=share.code,
        channel=channel if channel in TOUCH_CHANNELS else "link", visitor=visitor,
        ip=(ip or None) and ip[:45], user_agent=(user_agent or None) and user_agent[:USER_AGENT_LENGTH],
        created_at=at or utcnow()))


def attributed_touch(conn: sa.Connection, app: App, campaign_id: int, visitor: str | None, *,
                     at: datetime | None = None) -> Touch | None:
    """The touch of `visitor` in the campaign a referral made at `at` is credited to: the
    first or last (the programme's `attribution.touch`) of those in the last `window_days`
    days; None when there is none. One statement."""
    programme = programme_for(app)
    if programme is None or not visitor:
        return None
    now = at or utcnow()
    order = _touches.c.created_at.asc() if programme.touch == "first" else _touches.c.created_at.desc()
    tie = _touches.c.id.asc() if programme.touch == "first" else _touches.c.id.desc()
    row = conn.execute(
        sa.select(_touches.c.referrer_id, _touches.c.campaign_id, _touches.c.code, _touches.c.channel,
                  _touches.c.created_at)
        .where(_touches.c.app_key == app.key, _touches.c.visitor == visitor,
               _touches.c.campaign_id == campaign_id,
               _touches.c.created_at >= now - timedelta(days=programme.window_days),
               _touches.c.created_at <= now)
        .order_by(order, tie).limit(1)).first()
    return None if row is None else Touch(*row)
