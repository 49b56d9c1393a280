"""The department tree in SQL and in memory.

- `subtree_ids_select(ids)`: a recursive CTE selecting a department and every
  department below it. It is one statement, and composes as a subquery, so
  "members of 销售部 and everything under it" is one query too (and so will be a
  permission filter on "my department and its sub-departments").
- `ancestors_select(...)`: the chain from a department up to its root, nearest first.
- `DepartmentIndex`: every department read in one query, for paths
  ("总部/销售部/华东组"), resolving a path or name, cycle checks and the printed tree.
  Organisations have thousands of departments, not millions, so reading them
  all is one cheap query where walking a path level by level would be one each.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa

from engine.storage import system
from engine.suggest import did_you_mean
from runtime.org.errors import OrgNotFound
from runtime.org.model import Department

MAX_DEPTH = 50        # levels of nesting; also bounds the recursive queries if data was corrupted
SEPARATOR = "/"

_d = system.departments
DEPARTMENT_COLUMNS = [_d.c.id, _d.c.name, _d.c.parent_id, _d.c.head_user_id, _d.c.position]


def department_from_row(row) -> Department:
    return Department(id=row.id, name=row.name, parent_id=row.parent_id, head_user_id=row.head_user_id,
                      position=row.position)


def subtree_ids_select(root_ids: Iterable[int] | sa.ColumnElement) -> sa.Select:
    """SELECT id of the given departments and all their descendants (one recursive CTE)."""
    roots = root_ids if isinstance(root_ids, sa.ColumnElement) else _d.c.id.in_(list(root_ids))
    tree = sa.select(_d.c.id, sa.literal(0).label("depth")).where(roots).cte("fw_subtree", recursive=True)
    child = _d.alias("fw_child")
    tree = tree.union_all(
        sa.select(child.c.id, tree.c.depth + 1).where(child.c.parent_id == tree.c.id, tree.c.depth < MAX_DEPTH))
    return sa.select(tree.c.id)


def ancestors_select(start: sa.Select) -> sa.CTE:
    """A recursive CTE walking up from `start` (which selects owner, id, parent_id,
    head_user_id and depth = 0) to the roots: one row per (owner, department) with its
    depth above the start. `owner` is whatever the caller tracks (a user id...)."""
    chain = start.cte("fw_chain", recursive=True)
    parent = _d.alias("fw_parent")
    return chain.union_all(sa.select(
        chain.c.owner, parent.c.id, parent.c.parent_id, parent.c.head_user_id, chain.c.depth + 1
    ).where(parent.c.id == chain.c.parent_id, chain.c.depth < MAX_DEPTH))


@dataclass
class DepartmentIndex:
    """Every department, read at once, with the tree's shape."""

    by_id: dict[int, Department]
    children: dict[int | None, list[Department]]

    @classmethod
    def load(cls, conn: sa.Connection) -> "DepartmentIndex":
        rows = conn.execute(sa.select(*DEPARTMENT_COLUMNS).order_by(_d.c.position, _d.c.id)).all()
        return cls.of([department_from_row(r) for r in rows])

    @classmethod
    def of(cls, departments: list[Department]) -> "DepartmentIndex":
        """An index of departments given in display order (position, id)."""
        children: dict[int | None, list[Department]] = {}
        for dept in departments:
            children.setdefault(dept.parent_id, []).append(dept)
        return cls({d.id: d for d in departments}, children)

    def chain(self, dept_id: int) -> list[Department]:
        """The department and its ancestors, root first."""
        out: list[Department] = []
        current = self.by_id.get(dept_id)
        while current is not None and len(out) <= MAX_DEPTH:
            out.append(current)
            current = self.by_id.get(current.parent_id) if current.parent_id is not None else None
        return out[::-1]

    def path(self, dept_id: int) -> str:
        return SEPARATOR.join(d.name for d in self.chain(dept_id))

    def depth(self, dept_id: int) -> int:
        """1 for a root department, 2 for its children..."""
        return len(self.chain(dept_id))

    def height(self, dept_id: int) -> int:
        """Levels in the subtree of a department: 1 when it has no children."""
        below = [self.height(child.id) for child in self.children.get(dept_id, [])]
        return 1 + max(below, default=0)

    def is_within(self, dept_id: int, ancestor_id: int) -> bool:
        """True when `dept_id` is `ancestor_id` or lies below it."""
        return any(d.id == ancestor_id for d in self.chain(dept_id))

    def find(self, text: str) -> Department:
        """A department by path: from the root ("总部/销售部/华东组", or "/总部/..." to insist
        on the root), or the end of one path ("销售部/华东组", "华东组") that no other
        department's path ends with. Ids are resolved by the caller."""
        text = str(text).strip()
        parts = [p.strip() for p in text.strip(SEPARATOR).split(SEPARATOR)]
        exact = self._by_path(parts)
        if exact is not None:
            return exact
        if text.startswith(SEPARATOR):
            raise self.not_found(text)
        tail = SEPARATOR.join(parts)
        matches = [d for d in self.by_id.values()
                   if d.name == parts[-1] and (self.path(d.id) + SEPARATOR).endswith(SEPARATOR + tail + SEPARATOR)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            paths = sorted(self.path(d.id) for d in matches)
            raise OrgNotFound("org_department_ambiguous", ref=text, count=len(matches), paths="; ".join(paths))
        raise self.not_found(text)

    def not_found(self, text: str) -> OrgNotFound:
        names = [d.name for d in self.by_id.values()] + [self.path(i) for i in self.by_id]
        return OrgNotFound("org_department_not_found", ref=text[:200], suggestion=did_you_mean(text, names))

    def _by_path(self, parts: list[str]) -> Department | None:
        level: list[Department] = self.children.get(None, [])
        found: Department | None = None
        for part in parts:
            found = next((d for d in level if d.name == part), None)
            if found is None:
                return None
            level = self.children.get(found.id, [])
        return found
