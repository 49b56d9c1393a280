"""The org model at the size of a large company: a department tree (fan-out 8, 4 levels,
585 departments, each with a head) and 20,000 users, one leaf department each.

Prints, per database, with a baseline measured in the same run:
- adding users with `add_many` (every value validated) against a raw Core executemany
  of the same rows;
- the members of the whole tree (one recursive query) against one query per department;
- the manager chains of 1,000 users (one query) against one `manager_chain` call each;
- the printed tree (two queries) and the descendants of the root (one query).

    .venv/bin/python bench/bench_org.py [--users 20000] [--db both|sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import Counter, databases, median_ms, paired_medians  # noqa: E402
from engine.storage import system  # noqa: E402
from engine.storage.types import utcnow  # noqa: E402
from runtime.org import Org, User  # noqa: E402
from runtime.org.users import USER_COLUMNS, user_from_row  # noqa: E402

FAN_OUT, LEVELS = 8, 4
BATCH = 10_000


def build_tree(engine) -> tuple[int, list[int]]:
    """The department tree; returns (root id, leaf ids)."""
    with engine.begin() as conn:
        depts = Org(conn).departments
        root = depts.create("集团").id
        level = [root]
        for depth in range(1, LEVELS):
            level = [depts.create(f"{depth}级部门{i}", parent).id for parent in level for i in range(FAN_OUT)]
    return root, level


def add_users(engine, count: int, prefix: str) -> tuple[float, list[int]]:
    start = time.perf_counter()
    ids: list[int] = []
    for first in range(0, count, BATCH):
        with engine.begin() as conn:
            ids += [u.id for u in Org(conn).users.add_many(_rows(prefix, first, min(count, first + BATCH)))]
    return time.perf_counter() - start, ids


def raw_insert(engine, count: int, prefix: str) -> float:
    """The baseline: the same rows, already clean, in one Core executemany per batch."""
    start = time.perf_counter()
    for first in range(0, count, BATCH):
        rows = [{**row, "is_active": True, "is_admin": False, "created_at": utcnow()}
                for row in _rows(prefix, first, min(count, first + BATCH))]
        with engine.begin() as conn:
            conn.execute(system.users.insert(), rows)
    return time.perf_counter() - start


def _rows(prefix: str, first: int, end: int) -> list[dict]:
    return [{"account": f"{prefix}{n:06d}", "name": f"员工{n}", "email": f"{prefix}{n}@example.com",
             "phone": f"139{n:08d}"} for n in range(first, end)]


def staff_the_tree(engine, leaves: list[int], user_ids: list[int]) -> None:
    with engine.begin() as conn:
        depts = Org(conn).departments
        per_leaf = len(user_ids) // len(leaves)
        for index, leaf in enumerate(leaves):
            depts.add_members(leaf, user_ids[index * per_leaf:(index + 1) * per_leaf])
        index = depts.index()
        for dept_id in index.by_id:   # every department gets a head from its first leaf
            first_leaf = next(i for i, leaf in enumerate(leaves) if index.is_within(leaf, dept_id))
            depts.set_head(dept_id, user_ids[first_leaf * per_leaf + 1])


def members_per_department(engine, root: int) -> int:
    """The baseline: walk the tree and ask each department for its members' rows."""
    dm, d = system.department_members, system.departments
    with engine.connect() as conn:
        found: dict[int, User] = {}
        pending = [root]
        while pending:
            dept = pending.pop()
            rows = conn.execute(sa.select(*USER_COLUMNS).join(dm, dm.c.user_id == system.users.c.id)
                                .where(dm.c.department_id == dept)).all()
            found.update((r.id, user_from_row(r)) for r in rows)
            pending += conn.execute(sa.select(d.c.id).where(d.c.parent_id == dept)).scalars()
        return len(found)


def run(name: str, engine, users: int) -> None:
    print(f"\n== {name}: {FAN_OUT}-way tree, {LEVELS} levels, {users:,} users")
    start = time.perf_counter()
    root, leaves = build_tree(engine)
    print(f"  create {1 + sum(FAN_OUT ** i for i in range(1, LEVELS))} departments one by one: "
          f"{time.perf_counter() - start:.1f}s")
    ours, user_ids = add_users(engine, users, "u")
    baseline = raw_insert(engine, users, "raw")
    print(f"  add_many {users:,} users: {users / ours:,.0f} users/s; raw executemany {users / baseline:,.0f} rows/s; "
          f"ratio {ours / baseline:.1f}x the raw insert (validation, canonical phones, duplicate check)")
    start = time.perf_counter()
    staff_the_tree(engine, leaves, user_ids)
    print(f"  memberships and heads: {time.perf_counter() - start:.1f}s")

    def ours_members():
        with engine.connect() as conn:
            return len(Org(conn).departments.members(root, recursive=True, active_only=False))
    assert ours_members() == members_per_department(engine, root)
    ours_ms, base_ms = paired_medians(ours_members, lambda: members_per_department(engine, root), repeat=7, warmup=1)
    print(f"  members of the whole tree ({ours_members():,}): {ours_ms:.0f} ms in one query; "
          f"one query per department {base_ms:.0f} ms; ratio {base_ms / ours_ms:.1f}x faster")

    sample = user_ids[::max(1, len(user_ids) // 1000)][:1000]

    def ours_chains():
        with engine.connect() as conn:
            return Org(conn).departments.manager_chains(sample)

    def chain_per_user():
        with engine.connect() as conn:
            depts = Org(conn).departments
            return {uid: depts.manager_chain(uid) for uid in sample}
    assert ours_chains() == chain_per_user()
    ours_ms, base_ms = paired_medians(ours_chains, chain_per_user, repeat=3, warmup=1)
    print(f"  manager chains of {len(sample):,} users: {ours_ms:.0f} ms in one query; "
          f"one call per user {base_ms:.0f} ms; ratio {base_ms / ours_ms:.1f}x faster")

    with Counter(engine) as counter, engine.connect() as conn:
        nodes = sum(1 for _ in Org(conn).departments.tree()[0].walk())
    tree_ms = median_ms(lambda: _tree(engine), repeat=9)
    print(f"  tree of {nodes} departments with heads and counts: {tree_ms:.0f} ms, {counter.count} statements")
    descendants_ms = median_ms(lambda: _descendants(engine, root), repeat=9)
    print(f"  descendant ids of the root: {descendants_ms:.1f} ms (one recursive CTE)")


def _tree(engine):
    with engine.connect() as conn:
        return Org(conn).departments.tree()


def _descendants(engine, root: int):
    with engine.connect() as conn:
        return Org(conn).departments.descendant_ids(root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--db", choices=["both", "sqlite", "postgresql"], default="both")
    args = parser.parse_args()
    for name, engine in databases(args.db):
        run(name, engine, args.users)


if __name__ == "__main__":
    main()
