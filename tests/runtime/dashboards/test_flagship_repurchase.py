"""The flagship's repurchase dashboard (apps/crm_referral.yaml, `repurchase`) on seeded
orders, on SQLite and PostgreSQL: every figure equals the same figure computed by
hand-written SQL (window functions written out: LAG for a customer's previous order,
NTILE for the RFM quintiles), one statement per widget; a date range keeps the earlier
orders that make a customer returning; a reader's row scope reaches inside the windows, and a
hidden field that a derived value reads refuses its widget."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engine.dialect import Dialect
from engine.validation import load_definition
from runtime.apps import apply_app, load_installed
from runtime.dashboards import Dashboards, WidgetCache
from runtime.permissions import FormAccess
from runtime.permissions.policy import ACTIONS
from runtime.records import Records
from runtime.seed import seed_app
from tests.support.dashboards_app import L, fill
from tests.support.paths import FLAGSHIP_APP

O, CU = "crm_referral__orders", "crm_referral__customers"
NOW = datetime(2026, 3, 20, 4, tzinfo=timezone.utc)


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP_APP))
    seed_app(db, "crm_referral", 80, seed=7)
    with db.connect() as conn:
        return db, load_installed(conn, "crm_referral")


def _sql(conn, text: str, **params) -> list[tuple]:
    return [tuple(row) for row in conn.execute(sa.text(text), params).all()]


def _money(conn, value) -> str | None:
    if value is None:
        return None
    if Dialect.of(conn).scaled_numbers:
        return str(Decimal(int(value)).scaleb(-2))
    return str(Decimal(value).quantize(Decimal("0.01")))


def _day(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _gap(conn) -> str:
    """Days since the customer's previous order, as hand-written SQL of each database."""
    before = "LAG(ordered_on) OVER (PARTITION BY customer ORDER BY ordered_on, id)"
    if Dialect.of(conn).dates_as_text:
        return f"CAST(julianday(ordered_on) - julianday({before}) AS INTEGER)"
    return f"(ordered_on - {before})"


def _windows(conn) -> str:
    """Each live order with its customer's previous order's customer and the gap in days."""
    return (f"SELECT id, customer, ordered_on, amount, channel, "
            f"LAG(customer) OVER (PARTITION BY customer ORDER BY ordered_on, id) AS returning_customer, "
            f"{_gap(conn)} AS gap FROM {O} WHERE deleted_at IS NULL")


def _month(conn, column: str) -> str:
    return f"substr({column}, 1, 7)" if Dialect.of(conn).dates_as_text else f"to_char({column}, 'YYYY-MM')"


def _ratio(top: int, bottom: int, places: str = "0.0001") -> str:
    return str((Decimal(top) / Decimal(bottom)).quantize(Decimal(places), ROUND_HALF_UP)) if bottom else "0"


def _avg(values: list[int]) -> str | None:
    return _ratio(sum(values), len(values), "0.01") if values else None


def _load(conn, app, **controls):
    records = Records(conn, app, lang="en", now=NOW)
    answer = Dashboards(records, WidgetCache()).load("repurchase", controls)
    return {w["key"]: w for w in answer["widgets"]}


def test_every_figure_matches_hand_written_sql(crm, count_statements):
    db, app = crm
    with db.connect() as conn:
        with count_statements(db) as counted:
            widgets = _load(conn, app)
        assert counted.count == len(widgets) == 8           # one statement per widget
        assert all(w.get("error") is None for w in widgets.values())
        orders = _sql(conn, _windows(conn))
        assert len(orders) > 50 and any(o[5] is not None for o in orders)     # the seed has repurchases

        kpi = {m["key"]: m["value"] for m in widgets["repurchase_kpi"]["data"]["measures"]}
        buyers = {o[1] for o in orders}
        returning = {o[5] for o in orders if o[5] is not None}
        gaps = [int(o[6]) for o in orders if o[6] is not None]
        assert kpi == {"buyers": len(buyers), "returning": len(returning),
                       "rate": _ratio(len(returning), len(buyers)), "interval": _avg(gaps)}

        month = _month(conn, "ordered_on")
        by_month = _sql(conn, f"SELECT {month}, COUNT(DISTINCT customer), COUNT(DISTINCT returning_customer) "
                              f"FROM ({_windows(conn)}) w GROUP BY 1 ORDER BY 1")
        assert [(r["keys"][0], r["values"]["buyers"], r["values"]["returning"], r["values"]["rate"])
                for r in widgets["repurchase_by_month"]["data"]["rows"]] == \
            [(m, b, n, _ratio(n, b)) for m, b, n in by_month]
        assert any(n for _, _, n in by_month)

        by_channel: dict = {}
        for o in orders:
            by_channel.setdefault(o[4], []).extend([int(o[6])] if o[6] is not None else [])
        assert {r["keys"][0]: r["values"]["interval"] for r in widgets["interval_by_channel"]["data"]["rows"]} == \
            {channel: _avg(values) for channel, values in by_channel.items()}

        per_customer = Counter(o[1] for o in orders)
        spread = Counter(per_customer.values())
        assert [(r["keys"][0], r["values"]["customers"]) for r in widgets["customers_by_orders"]["data"]["rows"]] \
            == sorted(spread.items())
        assert len(spread) > 1

        (revenue, customers, count), = _sql(conn, f"SELECT SUM(amount), COUNT(DISTINCT customer), COUNT(*) FROM {O} "
                                                  f"WHERE deleted_at IS NULL")
        ltv = {m["key"]: m["value"] for m in widgets["lifetime_value"]["data"]["measures"]}
        assert ltv == {"revenue": _money(conn, revenue), "customers": customers, "orders": count,
                       "clv": _ratio(Decimal(_money(conn, revenue)), customers, "0.01")}

        top = _sql(conn, f"SELECT customer, SUM(amount), COUNT(*) FROM {O} WHERE deleted_at IS NULL "
                         f"GROUP BY customer ORDER BY 2 DESC, 1 LIMIT 10")
        assert [(r["keys"][0], r["values"]["revenue"], r["values"]["orders"])
                for r in widgets["top_lifetime"]["data"]["rows"]] == [(c, _money(conn, s), n) for c, s, n in top]
        names = dict(_sql(conn, f"SELECT id, name FROM {CU}"))
        assert widgets["top_lifetime"]["data"]["rows"][0]["labels"] == [names[top[0][0]]]

        rfm = _sql(conn, f"""SELECT customer, last_order, n, revenue,
                   NTILE(5) OVER (ORDER BY last_order, customer), NTILE(5) OVER (ORDER BY n, customer),
                   NTILE(5) OVER (ORDER BY revenue, customer)
            FROM (SELECT customer, MAX(ordered_on) AS last_order, COUNT(*) AS n, SUM(amount) AS revenue
                  FROM {O} WHERE deleted_at IS NULL GROUP BY customer) g""")
        expected = {c: {"last_order": _day(lo), "orders": n, "revenue": _money(conn, rev), "r": r, "f": f, "m": m,
                        "segment": str(r * 100 + f * 10 + m)} for c, lo, n, rev, r, f, m in rfm}
        rows = widgets["rfm"]["data"]["rows"]
        assert len(rows) == min(100, len(expected))
        assert {r["keys"][0]: r["values"] for r in rows} == {c: expected[c] for c in (r["keys"][0] for r in rows)}
        sizes = Counter(v["r"] for v in expected.values())       # quintiles: five groups, sizes within one
        assert sorted(sizes) == [1, 2, 3, 4, 5] and max(sizes.values()) - min(sizes.values()) <= 1
        segments = [(int(r["values"]["segment"]), Decimal(r["values"]["revenue"])) for r in rows]
        assert segments == sorted(segments, reverse=True)

        today = NOW.astimezone(ZoneInfo("Asia/Shanghai")).date()
        cutoff = (today - timedelta(days=90)).isoformat()
        due = _sql(conn, f"SELECT c.id, MAX(o.ordered_on) FROM {CU} c JOIN {O} o ON o.customer = c.id "
                         f"AND o.deleted_at IS NULL WHERE c.deleted_at IS NULL GROUP BY c.id "
                         f"HAVING MAX(o.ordered_on) <= :cutoff ORDER BY 2, 1 DESC",
                   cutoff=cutoff if Dialect.of(conn).dates_as_text else date.fromisoformat(cutoff))
        shown = widgets["due_reminder"]["data"]["rows"]
        assert due and [(r["id"], r["values"]["last_order_on"]) for r in shown] == \
            [(i, _day(d)) for i, d in due][:100]


def test_a_period_keeps_the_earlier_orders_that_make_a_customer_returning(crm):
    db, app = crm
    with db.connect() as conn:
        kpi = {m["key"]: m["value"] for m in
               _load(conn, app, period="2026-01-01..2026-03-31")["repurchase_kpi"]["data"]["measures"]}
        inside = [o for o in _sql(conn, _windows(conn)) if "2026-01-01" <= _day(o[2]) <= "2026-03-31"]
        returning = {o[5] for o in inside if o[5] is not None}
        assert inside and kpi["buyers"] == len({o[1] for o in inside}) and kpi["returning"] == len(returning)
        firsts = {o[1] for o in inside if o[5] is None}
        assert returning - firsts or returning, "some customer in the period had ordered before it"


class _OnlineOnly:
    """A reader whose row scope of the orders is the online ones (a data filter)."""

    def access(self, app, form, actor):
        if form.key == "orders":
            return FormAccess(ACTIONS, app.tables.form_table("orders").c.channel == "online")
        return FormAccess()


def test_the_readers_row_scope_reaches_inside_the_windows(crm):
    db, app = crm
    with db.connect() as conn:
        records = Records(conn, app, lang="en", now=NOW, policy=_OnlineOnly())
        widgets = {w["key"]: w for w in Dashboards(records, WidgetCache()).load("repurchase")["widgets"]}
        kpi = {m["key"]: m["value"] for m in widgets["repurchase_kpi"]["data"]["measures"]}
        online = _sql(conn, _windows(conn).replace("WHERE deleted_at IS NULL",
                                                   "WHERE deleted_at IS NULL AND channel = 'online'"))
        everyone = _sql(conn, _windows(conn))
        gaps = [int(o[6]) for o in online if o[6] is not None]
        assert kpi["buyers"] == len({o[1] for o in online})
        assert kpi["returning"] == len({o[5] for o in online if o[5] is not None})
        assert kpi["interval"] == _avg(gaps)
        assert {o[5] for o in online if o[5] is not None} != {o[5] for o in everyone if o[5] is not None}


class _NoOrderDates:
    """A reader who may not see the orders' dates."""

    def access(self, app, form, actor):
        if form.key == "orders":
            return FormAccess(ACTIONS, None, frozenset({"ordered_on"}))
        return FormAccess()


def test_a_derived_value_over_a_hidden_field_refuses_its_widget(db):
    """By status, the average days since the customer's previous order: the widget names
    only status and gap, but gap reads ordered_on, which the reader may not see."""
    bar = lambda key, **more: {"key": key, "kind": "bar", "label": L(key), "form": "orders",  # noqa: E731
                               "dimensions": ["status"], **more}
    fill(db, {"key": "main", "label": L("看板"), "widgets": [
        bar("gaps", derived=[{"key": "gap", "fn": "days_since_previous", "field": "ordered_on",
                              "partition": ["customer"], "order": ["ordered_on"]}],
            measures=[{"key": "gap", "agg": "avg", "field": "gap"}]),
        bar("plain", measures=[{"key": "n", "agg": "count"}])]})
    with db.connect() as conn:
        records = Records(conn, load_installed(conn, "shop"), lang="en", now=NOW, policy=_NoOrderDates())
        widgets = {w["key"]: w for w in Dashboards(records, WidgetCache()).load("main")["widgets"]}
    assert widgets["gaps"]["data"] is None and widgets["gaps"]["error"]["error"] == "dashboard_widget_hidden_field"
    assert "ordered_on" in widgets["gaps"]["error"]["message"]
    assert widgets["plain"]["data"]["rows"] and widgets["plain"].get("error") is None
