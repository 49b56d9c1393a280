"""Share codes (推荐码) and the paths that carry them. A referrer's code for a campaign is
the campaign's prefix and the referrer's own code, `SPR25-TJ000123` (docs/referrals.md),
so a code says whose friend came and from which campaign, and needs no table of its own:
it is stable for as long as neither code changes (the flagship refuses such an edit while
referrals carry the codes handed out). Codes are matched without regard to case.

    share_code(prefix, code)          "SPR25-TJ000123"
    share_path(code), poster_path(code)   "/r/SPR25-TJ000123", "/r/SPR25-TJ000123/poster.png"
    resolve(conn, app, code)          the referrer and campaign a code names, in one statement
    codes_of(conn, app, referrer, on=day)   the referrer's codes for the campaigns open that day
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

import sqlalchemy as sa

from engine.compiled.app import App
from runtime.referrals.compiled import field_column, require_programme

SEPARATOR = "-"
MAX_CODE = 64


@dataclass(frozen=True)
class ShareCode:
    code: str
    referrer_id: int
    campaign_id: int
    prefix: str


def share_code(prefix: str, customer_code: str) -> str:
    return f"{prefix}{SEPARATOR}{customer_code}".upper()


def share_path(code: str) -> str:
    return f"/r/{quote(code, safe='')}"


def poster_path(code: str) -> str:
    return f"{share_path(code)}/poster.png"


def resolve(conn: sa.Connection, app: App, code: str) -> ShareCode | None:
    """The referrer and campaign a share code names, whether or not the campaign is open
    (the caller says what a closed campaign means); None for a code that names nobody."""
    prefix, _, own = (code or "").strip().upper().partition(SEPARATOR)
    if not prefix or not own or len(code) > MAX_CODE:
        return None
    programme = require_programme(app)
    customers = app.tables.form_table(programme.customers.form)
    campaigns = app.tables.form_table(programme.campaigns.form)
    own_code = field_column(app, programme.customers, "code")
    campaign_prefix = field_column(app, programme.campaigns, "code_prefix")
    row = conn.execute(
        sa.select(customers.c.id, campaigns.c.id, campaign_prefix)
        .select_from(customers.join(campaigns, sa.func.upper(campaign_prefix) == prefix))
        .where(sa.func.upper(own_code) == own, customers.c.deleted_at.is_(None), campaigns.c.deleted_at.is_(None))
        .limit(1)).first()
    return None if row is None else ShareCode(share_code(row[2], own), row[0], row[1], row[2])


def codes_of(conn: sa.Connection, app: App, referrer_id: int, *, on: date) -> list[ShareCode]:
    """The referrer's code for each campaign open on the day `on` (status one of the
    programme's open statuses, started, not ended), oldest campaign first."""
    programme = require_programme(app)
    customers = app.tables.form_table(programme.customers.form)
    campaigns = app.tables.form_table(programme.campaigns.form)
    own_code = field_column(app, programme.customers, "code")
    prefix = field_column(app, programme.campaigns, "code_prefix")
    query = (sa.select(campaigns.c.id, prefix, own_code)
             .select_from(customers.join(campaigns, sa.true()))
             .where(customers.c.id == referrer_id, customers.c.deleted_at.is_(None),
                    campaigns.c.deleted_at.is_(None), own_code.is_not(None), prefix.is_not(None),
                    field_column(app, programme.campaigns, "starts_on") <= on)
             .order_by(campaigns.c.id))
    if programme.campaigns["ends_on"]:
        ends = field_column(app, programme.campaigns, "ends_on")
        query = query.where(sa.or_(ends.is_(None), ends >= on))
    if programme.campaigns["status"]:
        query = query.where(field_column(app, programme.campaigns, "status").in_(programme.open_statuses))
    return [ShareCode(share_code(p, c), referrer_id, campaign_id, p) for campaign_id, p, c in conn.execute(query)]
