"""The flagship's sales dashboard (apps/crm_referral.yaml) on seeded data, on SQLite and
PostgreSQL: every figure equals the same figure computed by hand-written SQL, one
statement per widget, a salesperson's figures count only what they may see, and the
cache answers without the database until a committed write to a form the widget reads."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.dialect import Dialect
from engine.storage import system
from engine.validation import load_definition
from runtime.actor import actor_for
from runtime.apps import apply_app, load_installed
from runtime.dashboards import CACHE, Dashboards, WidgetCache
from runtime.permissions import ROLE_POLICY
from runtime.records import Records
from runtime.seed import seed_app
from runtime.session import Session
from tests.support.paths import FLAGSHIP_APP

C, P, O, CU = ("crm_referral__contracts", "crm_referral__payments", "crm_referral__opportunities",
               "crm_referral__customers")


@pytest.fixture
def crm(db):
    apply_app(db, load_definition(FLAGSHIP_APP))
    seed_app(db, "crm_referral", 80, seed=7)
    with db.connect() as conn:
        return db, load_installed(conn, "crm_referral")


def _sql(conn, text: str, **params) -> list[tuple]:
    return [tuple(row) for row in conn.execute(sa.text(text), params).all()]


def _money(conn, value) -> str | None:
    """An amount as the hand-written SQL reads it (SQLite: scaled by 100), as the API writes it."""
    if value is None:
        return None
    if Dialect.of(conn).scaled_numbers:
        return str(Decimal(int(value)).scaleb(-2))
    return str(Decimal(value).quantize(Decimal("0.01")))


def _month(conn, column: str) -> str:
    return f"substr({column}, 1, 7)" if Dialect.of(conn).dates_as_text else f"to_char({column}, 'YYYY-MM')"


def _load(conn, app, cache=None, **controls):
    answer = Dashboards(Records(conn, app, lang="en"), cache or WidgetCache()).load("sales", controls)
    return {w["key"]: w for w in answer["widgets"]}


def test_every_figure_matches_hand_written_sql(crm, count_statements):
    db, app = crm
    with db.connect() as conn:
        with count_statements(db) as counted:
            widgets = _load(conn, app)
        assert counted.count == len(widgets) == 9           # one statement per widget

        by_month = _sql(conn, f"SELECT {_month(conn, 'signed_on')}, SUM(amount), COUNT(*) FROM {C} "
                              f"WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 1")
        assert by_month and [(r["keys"][0], r["values"]["total"], r["values"]["contracts"])
                             for r in widgets["contracts_by_month"]["data"]["rows"]] == \
            [(m, _money(conn, s), n) for m, s, n in by_month]

        paid = _sql(conn, f"SELECT {_month(conn, 'paid_on')}, SUM(amount) FROM {P} WHERE deleted_at IS NULL "
                          f"AND (is_refund IS NULL OR is_refund = false) GROUP BY 1 ORDER BY 1")
        assert paid and [(r["keys"][0], r["values"]["received"]) for r in
                         widgets["payments_by_month"]["data"]["rows"]] == [(m, _money(conn, s)) for m, s in paid]

        stages = dict(((s, (n, a)) for s, n, a in _sql(
            conn, f"SELECT stage, COUNT(*), SUM(amount) FROM {O} WHERE deleted_at IS NULL AND "
                  f"(stage IS NULL OR stage <> 'lost') GROUP BY stage")))
        funnel = widgets["funnel"]["data"]["rows"]
        order = ["initial", "needs", "proposal", "negotiation", "won"]
        assert [r["keys"][0] for r in funnel] == [s for s in order if s in stages]
        assert {r["keys"][0]: (r["values"]["deals"], r["values"]["amount"]) for r in funnel} == \
            {s: (n, _money(conn, a)) for s, (n, a) in stages.items()}

        unpaid = _sql(conn, f"SELECT cu.level, SUM(c.unpaid_amount) FROM {C} c LEFT JOIN {CU} cu ON cu.id = c.customer "
                            f"WHERE c.deleted_at IS NULL AND c.status IN ('executing', 'completed') GROUP BY cu.level")
        assert {r["keys"][0]: r["values"]["unpaid"] for r in widgets["unpaid_by_level"]["data"]["rows"]} == \
            {lvl: _money(conn, s) for lvl, s in unpaid}

        top = _sql(conn, f"SELECT cu.owner, u.name, SUM(c.amount), COUNT(DISTINCT c.customer) FROM {C} c "
                         f"LEFT JOIN {CU} cu ON cu.id = c.customer LEFT JOIN fw_users u ON u.id = cu.owner "
                         f"WHERE c.deleted_at IS NULL GROUP BY cu.owner, u.name ORDER BY 3 DESC, 1 LIMIT 10")
        assert [(r["keys"][0], r["labels"][0], r["values"]["total"], r["values"]["customers"], r["rank"])
                for r in widgets["top_salespeople"]["data"]["rows"]] == \
            [(o, n, _money(conn, s), d, i) for i, (o, n, s, d) in enumerate(top, 1)]

        rates = _sql(conn, f"SELECT owner, COUNT(*), SUM(CASE WHEN stage = 'won' THEN 1 ELSE 0 END) FROM {O} "
                           f"WHERE deleted_at IS NULL GROUP BY owner")
        got = {r["keys"][0]: r["values"] for r in widgets["win_rate"]["data"]["rows"]}
        assert got == {o: {"deals": n, "won": w, "rate": str((Decimal(w) / n).quantize(Decimal("0.0001")))}
                       for o, n, w in rates}
        shown = [Decimal(r["values"]["rate"]) for r in widgets["win_rate"]["data"]["rows"]]
        assert shown == sorted(shown, reverse=True)

        pivot = widgets["level_by_status"]["data"]
        cells = _sql(conn, f"SELECT cu.level, c.status, SUM(c.amount), COUNT(*) FROM {C} c LEFT JOIN {CU} cu "
                           f"ON cu.id = c.customer WHERE c.deleted_at IS NULL GROUP BY cu.level, c.status")
        assert {(r["keys"][0], col): v for r in pivot["rows"] for col, v in r["cells"].items()} == \
            {(lvl, st): {"total": _money(conn, s), "contracts": n} for lvl, st, s, n in cells}
        row_totals = _sql(conn, f"SELECT cu.level, SUM(c.amount), COUNT(*) FROM {C} c LEFT JOIN {CU} cu "
                                f"ON cu.id = c.customer WHERE c.deleted_at IS NULL GROUP BY cu.level")
        assert {r["keys"][0]: r["total"] for r in pivot["rows"]} == \
            {lvl: {"total": _money(conn, s), "contracts": n} for lvl, s, n in row_totals}
        col_totals = _sql(conn, f"SELECT status, SUM(amount), COUNT(*) FROM {C} WHERE deleted_at IS NULL GROUP BY status")
        assert pivot["column_totals"] == {st: {"total": _money(conn, s), "contracts": n} for st, s, n in col_totals}
        (total, count), = _sql(conn, f"SELECT SUM(amount), COUNT(*) FROM {C} WHERE deleted_at IS NULL")
        assert pivot["total"] == {"total": _money(conn, total), "contracts": count}

        largest = _sql(conn, f"SELECT id, unpaid_amount FROM {C} WHERE deleted_at IS NULL AND unpaid_amount > 0 "
                             f"ORDER BY unpaid_amount DESC, id DESC LIMIT 10")
        assert [(r["id"], r["values"]["unpaid_amount"]) for r in widgets["largest_unpaid"]["data"]["rows"]] == \
            [(i, _money(conn, u)) for i, u in largest]


def test_the_kpi_compares_with_the_period_before(crm):
    db, app = crm
    with db.connect() as conn:
        kpi = _load(conn, app, period="2025-07-01..2025-12-31")["signed_total"]["data"]
        now = _sql(conn, f"SELECT SUM(amount), COUNT(*) FROM {C} WHERE deleted_at IS NULL "
                         f"AND signed_on >= :a AND signed_on <= :b", a=_day(conn, "2025-07-01"), b=_day(conn, "2025-12-31"))
        before = _sql(conn, f"SELECT SUM(amount), COUNT(*) FROM {C} WHERE deleted_at IS NULL "
                            f"AND signed_on >= :a AND signed_on <= :b", a=_day(conn, "2025-01-01"), b=_day(conn, "2025-06-30"))
    total, contracts = kpi["measures"]
    assert kpi["previous_period"] == {"from": "2025-01-01", "to": "2025-06-30"}
    assert (total["value"], contracts["value"]) == (_money(conn, now[0][0]), now[0][1])
    assert (total["previous"], contracts["previous"]) == (_money(conn, before[0][0]), before[0][1])
    if contracts["previous"]:
        expected = ((Decimal(contracts["value"]) - contracts["previous"]) / contracts["previous"])
        assert contracts["change"] == str(expected.quantize(Decimal("0.0001")))


def _day(conn, text):
    from datetime import date
    return text if Dialect.of(conn).dates_as_text else date.fromisoformat(text)


def test_controls_filter_every_widget_they_name(crm):
    db, app = crm
    with db.connect() as conn:
        owner, = _sql(conn, f"SELECT cu.owner FROM {C} c JOIN {CU} cu ON cu.id = c.customer "
                            f"WHERE c.deleted_at IS NULL AND cu.owner IS NOT NULL ORDER BY c.id LIMIT 1")[0]
        widgets = _load(conn, app, salesperson=owner, level="vip")
        by_month = _sql(conn, f"SELECT {_month(conn, 'c.signed_on')}, SUM(c.amount), COUNT(*) FROM {C} c "
                              f"JOIN {CU} cu ON cu.id = c.customer WHERE c.deleted_at IS NULL AND cu.owner = :o "
                              f"AND cu.level = 'vip' GROUP BY 1 ORDER BY 1", o=owner)
        deals = _sql(conn, f"SELECT o.owner, COUNT(*) FROM {O} o JOIN {CU} cu ON cu.id = o.customer WHERE "
                           f"o.deleted_at IS NULL AND o.owner = :o AND cu.level = 'vip' GROUP BY o.owner", o=owner)
    assert [(r["keys"][0], r["values"]["total"], r["values"]["contracts"])
            for r in widgets["contracts_by_month"]["data"]["rows"]] == [(m, _money(conn, s), n) for m, s, n in by_month]
    assert {r["keys"][0]: r["values"]["deals"] for r in widgets["win_rate"]["data"]["rows"]} == dict(deals)


def test_a_salesperson_counts_only_what_they_may_see(crm, count_statements):
    db, app = crm
    with db.connect() as conn:
        seller = next(a for a in (actor_for(conn, account) for account in conn.execute(
            sa.select(system.users.c.account).order_by(system.users.c.id)).scalars()) if a.roles == {"sales"})
        records = Records(conn, app, actor=seller, policy=ROLE_POLICY, lang="en")
        with count_statements(db) as counted:
            widgets = {w["key"]: w for w in Dashboards(records, WidgetCache()).load("sales")["widgets"]}
        mine = _sql(conn, f"SELECT owner, COUNT(*) FROM {O} WHERE deleted_at IS NULL AND (owner = :me OR owner_id = :me) "
                          f"GROUP BY owner", me=seller.user_id)
        everyone = _sql(conn, f"SELECT COUNT(*) FROM {O} WHERE deleted_at IS NULL")[0][0]
        signed = _sql(conn, f"SELECT COUNT(*) FROM {C} c JOIN {CU} cu ON cu.id = c.customer "
                            f"WHERE c.deleted_at IS NULL AND cu.owner = :me", me=seller.user_id)[0][0]
    assert {r["keys"][0]: r["values"]["deals"] for r in widgets["win_rate"]["data"]["rows"]} == dict(mine)
    assert sum(n for _, n in mine) < everyone
    assert widgets["signed_total"]["data"]["measures"][1]["value"] == signed
    # payments: the sales role has no permission to view them; that widget says so, the others show
    assert widgets["payments_by_month"]["data"] is None
    assert widgets["payments_by_month"]["error"]["error"] == "permission_view_denied"
    assert counted.count == len([w for w in widgets.values() if w["data"] is not None])


def test_the_cache_answers_until_a_form_it_reads_changes(crm, count_statements):
    db, app = crm
    session = Session(db)
    CACHE.clear()

    def load():
        with session.read() as uow:
            return {w["key"]: w for w in uow.dashboards("crm_referral").load("sales")["widgets"]}
    first = load()
    with count_statements(db) as counted:
        again = load()
    assert all(w["cached"] for w in again.values())
    assert not [s for s in counted.statements if "crm_referral__" in s]     # no widget asked the database
    assert {k: w["data"] for k, w in again.items()} == {k: w["data"] for k, w in first.items()}

    with session.write() as uow:        # a payment's amount changes, and with it its contract's rollups
        records = uow.records("crm_referral")
        payment = next(p for p in records.list("payments", page_size=50).records
                       if Decimal(p["fields"]["amount"]) > 1)
        records.update("payments", payment["id"], {"amount": str(Decimal(payment["fields"]["amount"]) - 1)})
    after = load()
    assert not after["payments_by_month"]["cached"] and not after["signed_total"]["cached"]
    received = sum(Decimal(r["values"]["received"]) for r in after["payments_by_month"]["data"]["rows"])
    before = sum(Decimal(r["values"]["received"]) for r in first["payments_by_month"]["data"]["rows"])
    assert received == before - (0 if payment["fields"]["is_refund"] else 1)

    with pytest.raises(RuntimeError):   # a write that does not commit leaves the cache as it is
        with session.write() as uow:
            uow.records("crm_referral").update("payments", payment["id"], {"amount": "1.00"})
            raise RuntimeError("rolled back")
    assert all(w["cached"] for w in load().values())
