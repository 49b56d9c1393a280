"""Referral analytics over many customers: runtime/referrals/analytics (the tree below a
customer, every referrer's chain value) against hand-written recursive SQL of the same,
in the same run.

    .venv/bin/python bench/bench_referral_tree.py [--rows 100000] [--db sqlite|postgresql|both]

The data: customers in groups of 12, a chain 0 -> 1 -> 2 -> 3 -> 4 -> 5 (five referrals
deep) and six more friends of 0, each with a value and every third with a first deal.
Measured, each one statement:

- chains: every referrer's friends by level, converted friends and chain value, the top
  20 (a recursive walk from every referred customer up to all their ancestors, grouped);
- tree: the tree below one group's root, with each node's path and value.

The baseline is the recursive query a DBA would write for the same figures (same rows
checked). Printed: medians of both, measured alternately, and the ratio.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import databases, paired  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.validation.validate import check_text  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.records import Records  # noqa: E402
from runtime.referrals.analytics import ReferralAnalytics  # noqa: E402

GROUP = 12
DEFINITION = """
format_version: 1
app: {key: bench, label: {zh: 基准, en: Bench}}
forms:
  - key: customers
    label: {zh: 客户, en: Customers}
    fields:
      - {key: name, type: text, label: {zh: 名称, en: Name}}
      - {key: phone, type: text, label: {zh: 电话, en: Phone}}
      - {key: code, type: text, label: {zh: 推荐码, en: Code}}
      - {key: referrer, type: relation, target: customers, label: {zh: 推荐人, en: Referrer}}
      - {key: value, type: number, precision: 2, label: {zh: 价值, en: Value}}
      - {key: first_deal, type: date, label: {zh: 首单, en: First deal}}
  - key: campaigns
    label: {zh: 活动, en: Campaigns}
    fields:
      - {key: prefix, type: text, label: {zh: 前缀, en: Prefix}}
      - {key: starts, type: date, label: {zh: 开始, en: Starts}}
  - key: referrals
    label: {zh: 推荐, en: Referrals}
    fields:
      - {key: by, type: relation, target: customers, label: {zh: 推荐人, en: By}}
      - {key: campaign, type: relation, target: campaigns, label: {zh: 活动, en: Campaign}}
      - {key: friend, type: text, label: {zh: 朋友, en: Friend}}
      - {key: phone, type: text, label: {zh: 电话, en: Phone}}
      - {key: ok, type: switch, label: {zh: 同意, en: Consent}}
referrals:
  customers: {form: customers, referrer: referrer, code: code, name: name, phone: phone, value: value,
              first_deal: first_deal}
  campaigns: {form: campaigns, code_prefix: prefix, starts_on: starts}
  referrals: {form: referrals, referrer: by, campaign: campaign, friend_name: friend, friend_phone: phone,
              consent: ok}
"""

HAND_CHAINS = """
WITH RECURSIVE chains(ancestor, id, depth) AS (
  SELECT referrer, id, 1 FROM {t} WHERE referrer IS NOT NULL AND deleted_at IS NULL
  UNION ALL
  SELECT chains.ancestor, f.id, chains.depth + 1 FROM {t} f JOIN chains ON f.referrer = chains.id
  WHERE f.deleted_at IS NULL AND f.id <> chains.ancestor AND chains.depth < 50)
SELECT chains.ancestor, h.name, SUM(CASE WHEN depth = 1 THEN 1 ELSE 0 END),
       SUM(CASE WHEN depth > 1 THEN 1 ELSE 0 END), COUNT(m.first_deal), COALESCE(SUM(m.value), 0)
FROM chains JOIN {t} m ON m.id = chains.id JOIN {t} h ON h.id = chains.ancestor WHERE h.deleted_at IS NULL
GROUP BY chains.ancestor, h.name ORDER BY 6 DESC, 1 LIMIT 20
"""
HAND_TREE = """
WITH RECURSIVE tree(id, parent_id, depth, path) AS (
  SELECT id, referrer, 0, CAST(id AS TEXT) FROM {t} WHERE id = :root AND deleted_at IS NULL
  UNION ALL
  SELECT f.id, f.referrer, tree.depth + 1, tree.path || '/' || CAST(f.id AS TEXT) FROM {t} f
  JOIN tree ON f.referrer = tree.id WHERE f.deleted_at IS NULL AND f.id <> :root AND tree.depth < 50)
SELECT tree.id, tree.parent_id, tree.depth, tree.path, c.name, c.value, c.first_deal
FROM tree JOIN {t} c ON c.id = tree.id ORDER BY tree.path
"""


def build(engine, rows: int):
    app, problems = check_text(DEFINITION)
    assert not problems, problems
    apply_app(engine, app)
    ids: dict[int, int] = {}
    with engine.begin() as conn:
        records = Records(conn, app)
        # by place in the group: 0 first, then each referrer before its friends
        for place in range(GROUP):
            up = None if place == 0 else place - 1 if place < 6 else 0
            members = [i for i in range(place, rows, GROUP)]
            for start in range(0, len(members), 5000):
                batch = members[start:start + 5000]
                made, _ = records.create_many("customers", [
                    {"name": f"c{i}", "phone": f"1380{i:07d}", "code": f"TJ{i:06d}",
                     "referrer": ids[i - place + up] if up is not None else None,
                     "value": (i * 7919) % 90000 / 10, "first_deal": "2026-03-01" if i % 3 == 0 else None}
                    for i in batch], skip_invalid=False)
                ids.update(zip(batch, made))
    if engine.dialect.name == "postgresql":     # as autovacuum would after a bulk load: real row counts
        with engine.begin() as conn:
            conn.exec_driver_sql(f'ANALYZE "{compiled(app).tables.form_table("customers").name}"')
    return compiled(app), ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for name, engine in databases(args.db):
        app, ids = build(engine, args.rows)
        table = app.tables.form_table("customers").name
        with engine.connect() as conn:
            analytics = ReferralAnalytics(Records(conn, app))
            root = ids[0]
            ours = analytics.referrers(top=20)
            hand = conn.execute(sa.text(HAND_CHAINS.format(t=table))).all()
            assert [(c.referrer_id, c.direct, c.indirect, c.converted) for c in ours] == \
                [(r[0], int(r[2]), int(r[3]), int(r[4])) for r in hand], "the chains differ from the baseline"
            tree = analytics.tree(root)
            hand_tree = conn.execute(sa.text(HAND_TREE.format(t=table)), {"root": root}).all()
            assert [n.id for n in tree] == [r[0] for r in hand_tree] and len(tree) == GROUP
            chains = paired(lambda: analytics.referrers(top=20),
                            lambda: conn.execute(sa.text(HAND_CHAINS.format(t=table))).all(),
                            repeat=args.repeat, warmup=1)
            trees = paired(lambda: analytics.tree(root),
                           lambda: conn.execute(sa.text(HAND_TREE.format(t=table)), {"root": root}).all(),
                           repeat=args.repeat * 5, warmup=2)
        print(f"{name}: {args.rows} customers, chains up to 5 deep")
        print(f"  chain values of every referrer, top 20: {chains.describe('hand-written recursive SQL')}")
        print(f"  tree below one customer ({len(tree)} nodes): {trees.describe('hand-written recursive SQL')}")


if __name__ == "__main__":
    main()
