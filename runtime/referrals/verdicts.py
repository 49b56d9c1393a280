"""What the fraud checks decided about the friends a reward is for, in one statement:

    verdicts(conn, app, friend_ids) -> {friend_id: "clear" | "flagged" | "blocked"}

A friend (a customer id) is looked up through the referrals naming them as
`friend_customer` and, when the customers form maps the referrer, made by the friend's
own referrer (the referral the reward is credited to). Of several such referrals the
worst verdict counts (blocked over flagged over clear). A friend no live referral names
is absent from the answer: there is nothing to wait for. The settlement
(runtime/rewards/settle.py) leaves a flagged friend's rewards unsettled and never pays a
blocked one; the review's decision settles them again (runtime/referrals/fraud.py)."""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa

from engine.compiled.app import App
from runtime.referrals.compiled import BLOCKED, CLEAR, FLAGGED, part_column as _col, programme_for

_RANK = {CLEAR: 0, FLAGGED: 1, BLOCKED: 2}
_STATUS = {rank: status for status, rank in _RANK.items()}


def verdicts(conn: sa.Connection, app: App, friend_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted({int(f) for f in friend_ids if f is not None})
    programme = programme_for(app)
    if not ids or programme is None:
        return {}
    r_map, c_map = programme.referrals, programme.customers
    friend, status = _col(app, r_map, "friend_customer"), _col(app, r_map, "fraud_status")
    if friend is None or status is None:
        return {}
    R = app.tables.form_table(r_map.form)
    rank = sa.case(*((status == s, r) for s, r in _RANK.items() if r), else_=0)
    query = sa.select(friend, sa.func.max(rank)).where(R.c.deleted_at.is_(None), friend.in_(ids))
    referrer, own_referrer = _col(app, r_map, "referrer"), _col(app, c_map, "referrer")
    if referrer is not None and own_referrer is not None:
        C = app.tables.form_table(c_map.form)
        query = query.select_from(R.join(C, C.c.id == friend)).where(
            sa.or_(own_referrer.is_(None), referrer == own_referrer))
    return {fid: _STATUS[worst or 0] for fid, worst in conn.execute(query.group_by(friend))}
