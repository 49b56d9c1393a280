"""Departments: the tree (create, rename, move, delete), heads and members.

A department is named by a `DepartmentRef`: a `Department`, an id (`3`, `"3"`,
`"#3"`), a path from the root (`"总部/销售部/华东组"`) or a name that only one
department has (`"华东组"`).

Membership rules: a user may belong to several departments, one of them primary
(their first department becomes primary; removing it promotes another). The
primary department is where "the manager of the submitter" is looked up.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Union

import sqlalchemy as sa

from engine.storage import system
from engine.storage.types import utcnow
from runtime.org._sql import chunked, insert_missing, insert_returning, lock_tree
from runtime.org.errors import OrgConflict, OrgNotFound
from runtime.org.model import Department, DepartmentNode, Membership, User
from runtime.org.tree import (DEPARTMENT_COLUMNS, MAX_DEPTH, DepartmentIndex, ancestors_select,
                              department_from_row, subtree_ids_select)
from runtime.org.users import USER_COLUMNS, UserRef, Users, ref_as_id, user_from_row
from runtime.org.values import Issues, clean_name

DepartmentRef = Union[Department, int, str]

_d, _u, _dm = system.departments, system.users, system.department_members


class Departments:
    def __init__(self, conn: sa.Connection, users: Users, *, now: datetime | None = None):
        self.conn, self.users, self.now = conn, users, now

    # ---- reading ----------------------------------------------------------------
    def get(self, ref: DepartmentRef) -> Department:
        rid = ref_as_id(ref)
        if rid is None:
            return self.index().find(str(ref))
        row = self.conn.execute(sa.select(*DEPARTMENT_COLUMNS).where(_d.c.id == rid)).first()
        if row is None:
            raise OrgNotFound("org_department_not_found", ref=f"#{rid}")
        return department_from_row(row)

    def index(self) -> DepartmentIndex:
        """Every department at once (paths, lookups); one query."""
        return DepartmentIndex.load(self.conn)

    def path(self, ref: DepartmentRef) -> str:
        return self.index().path(self.get(ref).id)

    def lookup(self, texts: Iterable[str]) -> tuple[dict[str, int], dict[str, list[str]]]:
        """For imports: {text: id} for texts naming one department (path, unique name or id),
        and {text: [paths]} for names several departments share. One query."""
        index = self.index()
        found: dict[str, int] = {}
        ambiguous: dict[str, list[str]] = {}
        for text in {str(t).strip() for t in texts if str(t).strip()}:
            rid = ref_as_id(text)
            if rid is not None and rid in index.by_id:
                found[text] = rid
                continue
            try:
                found[text] = index.find(text).id
            except OrgNotFound as exc:
                if exc.code == "org_department_ambiguous":
                    ambiguous[text] = exc.params["paths"].split("; ")
        return found, ambiguous

    def descendant_ids(self, ref: DepartmentRef, *, include_self: bool = True) -> list[int]:
        """Ids of every department below `ref` (and `ref` itself), in one query."""
        root = self._id(ref)
        ids = list(self.conn.execute(subtree_ids_select([root])).scalars())
        return ids if include_self else [i for i in ids if i != root]

    def ancestors(self, ref: DepartmentRef) -> list[Department]:
        """The department and the departments above it, nearest first, in one query."""
        start = sa.select(_d.c.id.label("owner"), _d.c.id, _d.c.parent_id, _d.c.head_user_id,
                          sa.literal(0).label("depth")).where(_d.c.id == self._id(ref))
        chain = ancestors_select(start)
        rows = self.conn.execute(sa.select(*DEPARTMENT_COLUMNS).join(chain, chain.c.id == _d.c.id)
                                 .order_by(chain.c.depth)).all()
        return [department_from_row(r) for r in rows]

    def tree(self, root: DepartmentRef | None = None) -> list[DepartmentNode]:
        """The tree (or the subtree under `root`) with heads and member counts: two queries,
        whatever its size."""
        head = _u.alias("fw_head")
        rows = self.conn.execute(
            sa.select(*DEPARTMENT_COLUMNS, *(head.c[c.name].label(f"head_{c.name}") for c in USER_COLUMNS))
            .outerjoin(head, head.c.id == _d.c.head_user_id).order_by(_d.c.position, _d.c.id)).all()
        counts = dict(self.conn.execute(sa.select(_dm.c.department_id, sa.func.count())
                                        .group_by(_dm.c.department_id)).all())
        index = DepartmentIndex.of([department_from_row(r) for r in rows])
        heads = {r.id: _head_from_row(r) for r in rows}

        def build(dept: Department, depth: int) -> DepartmentNode:
            return DepartmentNode(dept, index.path(dept.id), depth, heads[dept.id], counts.get(dept.id, 0),
                                  [build(c, depth + 1) for c in index.children.get(dept.id, [])])
        if root is None:
            return [build(d, 0) for d in index.children.get(None, [])]
        return [build(self._from_index(index, root), 0)]

    def head_of(self, ref: DepartmentRef) -> User | None:
        head_id = self.get(ref).head_user_id
        return None if head_id is None else self.users.by_ids([head_id]).get(head_id)

    # ---- changing the tree ------------------------------------------------------------
    def create(self, name: str, parent: DepartmentRef | None = None, *,
               head: UserRef | None = None) -> Department:
        """A department at the end of its parent's children (or a new root)."""
        lock_tree(self.conn)
        name = _clean_department_name(name)
        index = self.index()
        parent_dept = self._from_index(index, parent) if parent is not None else None
        parent_id = parent_dept.id if parent_dept else None
        depth = 1 + (index.depth(parent_id) if parent_id else 0)
        if depth > MAX_DEPTH:
            raise OrgConflict("org_department_too_deep", max=MAX_DEPTH, depth=depth)
        self._refuse_taken_name(index, name, parent_id)
        siblings = index.children.get(parent_id, [])
        position = 1 + max((s.position for s in siblings), default=-1)
        row = insert_returning(self.conn, _d, [{"name": name, "parent_id": parent_id, "position": position,
                                                "created_at": self.now or utcnow()}], DEPARTMENT_COLUMNS)[0]
        dept = department_from_row(row)
        if head is not None:
            dept = self.set_head(dept.id, head)
        return dept

    def rename(self, ref: DepartmentRef, name: str) -> Department:
        lock_tree(self.conn)
        name = _clean_department_name(name)
        index = self.index()
        dept = self._from_index(index, ref)
        if name != dept.name:
            self._refuse_taken_name(index, name, dept.parent_id)
            self.conn.execute(sa.update(_d).where(_d.c.id == dept.id).values(name=name))
        return self.get(dept.id)

    def move(self, ref: DepartmentRef, new_parent: DepartmentRef | None, *,
             position: int | None = None) -> Department:
        """Put a department (with everything below it) under `new_parent`, or make it a
        root with None; at `position` among its new siblings (0 = first), else last."""
        lock_tree(self.conn)
        index = self.index()
        dept = self._from_index(index, ref)
        target = self._from_index(index, new_parent) if new_parent is not None else None
        target_id = target.id if target else None
        if target is not None and index.is_within(target.id, dept.id):
            raise OrgConflict("org_department_cycle", department=index.path(dept.id), target=index.path(target.id))
        depth = (index.depth(target_id) if target_id else 0) + index.height(dept.id)
        if depth > MAX_DEPTH:
            raise OrgConflict("org_department_too_deep", max=MAX_DEPTH, depth=depth)
        if target_id != dept.parent_id:
            self._refuse_taken_name(index, dept.name, target_id)
        siblings = [s for s in index.children.get(target_id, []) if s.id != dept.id]
        at = len(siblings) if position is None else max(0, min(int(position), len(siblings)))
        ordered = siblings[:at] + [dept] + siblings[at:]
        self.conn.execute(sa.update(_d).where(_d.c.id == dept.id).values(parent_id=target_id))
        self._renumber(ordered)
        return self.get(dept.id)

    def delete(self, ref: DepartmentRef) -> None:
        """Delete an empty department; one with sub-departments or members is refused."""
        lock_tree(self.conn)
        dept = self.get(ref)
        children, members = self.conn.execute(sa.select(
            sa.select(sa.func.count()).where(_d.c.parent_id == dept.id).scalar_subquery(),
            sa.select(sa.func.count()).where(_dm.c.department_id == dept.id).scalar_subquery())).one()
        if children or members:
            raise OrgConflict("org_department_not_empty", department=self.index().path(dept.id),
                              children=children, members=members)
        self.conn.execute(sa.delete(_d).where(_d.c.id == dept.id))

    # ---- heads and members ----------------------------------------------------------
    def set_head(self, ref: DepartmentRef, user: UserRef) -> Department:
        """Make an active user the head (负责人), adding them as a member if they are not."""
        dept, head = self.get(ref), self.users.get(user)
        if not head.is_active:
            raise OrgConflict("org_head_inactive", account=head.account)
        self.add_members(dept.id, [head.id])
        self.conn.execute(sa.update(_d).where(_d.c.id == dept.id).values(head_user_id=head.id))
        return self.get(dept.id)

    def clear_head(self, ref: DepartmentRef) -> Department:
        dept = self.get(ref)
        self.conn.execute(sa.update(_d).where(_d.c.id == dept.id).values(head_user_id=None))
        return self.get(dept.id)

    def add_members(self, ref: DepartmentRef, users: Iterable[UserRef], *, primary: bool = False) -> int:
        """Add users to a department (those already in it are left alone); returns how many
        joined. A user's first department becomes primary; `primary=True` makes this one
        primary for all of them. A fixed number of statements for any number of users."""
        lock_tree(self.conn)
        dept_id = self._id(ref)
        user_ids = self.users.ids(users)
        if not user_ids:
            return 0
        present = set(self.conn.execute(sa.select(_dm.c.user_id).where(
            _dm.c.department_id == dept_id, _dm.c.user_id.in_(user_ids))).scalars())
        joining = [u for u in user_ids if u not in present]
        if joining:
            insert_missing(self.conn, _dm, [{"department_id": dept_id, "user_id": u, "is_primary": False}
                                            for u in joining])
        if primary:
            self._make_primary(dept_id, user_ids)
        else:
            self._ensure_primary(joining, prefer=dept_id)
        return len(joining)

    def remove_members(self, ref: DepartmentRef, users: Iterable[UserRef]) -> int:
        """Take users out of a department; returns how many left. A head who leaves stops
        being its head; a user who leaves their primary department gets another one."""
        lock_tree(self.conn)
        dept_id = self._id(ref)
        user_ids = self.users.ids(users)
        if not user_ids:
            return 0
        removed = self.conn.execute(sa.delete(_dm).where(_dm.c.department_id == dept_id,
                                                         _dm.c.user_id.in_(user_ids))).rowcount
        self.conn.execute(sa.update(_d).where(_d.c.id == dept_id, _d.c.head_user_id.in_(user_ids))
                          .values(head_user_id=None))
        self._ensure_primary(user_ids)
        return removed

    def set_primary(self, user: UserRef, ref: DepartmentRef) -> None:
        """Make `ref` the user's primary department (joining it if needed)."""
        self.add_members(ref, [user], primary=True)

    def members(self, ref: DepartmentRef, *, recursive: bool = False,
                active_only: bool = True) -> list[User]:
        """The members of a department, or of it and every department below it: one query."""
        dept_id = self._id(ref)
        scope = subtree_ids_select([dept_id]) if recursive else sa.select(sa.literal(dept_id))
        query = sa.select(*USER_COLUMNS).where(_u.c.id.in_(
            sa.select(_dm.c.user_id).where(_dm.c.department_id.in_(scope))))
        if active_only:
            query = query.where(_u.c.is_active == sa.true())
        return [user_from_row(r) for r in self.conn.execute(query.order_by(_u.c.account)).all()]

    def memberships(self, user: UserRef) -> list[Membership]:
        user_id = self.users.get(user).id
        return self.memberships_of([user_id])[user_id]

    def memberships_of(self, user_ids: Iterable[int]) -> dict[int, list[Membership]]:
        """Each user's departments with paths, primary first: two queries for any number."""
        user_ids = list(dict.fromkeys(user_ids))
        out: dict[int, list[Membership]] = {u: [] for u in user_ids}
        if not user_ids:
            return out
        rows = [row for batch in chunked(user_ids) for row in self.conn.execute(
            sa.select(_dm.c.user_id, _dm.c.department_id, _dm.c.is_primary).where(_dm.c.user_id.in_(batch)))]
        index = self.index()
        for row in rows:
            dept = index.by_id[row.department_id]
            out[row.user_id].append(Membership(dept, index.path(dept.id), bool(row.is_primary)))
        for memberships in out.values():
            memberships.sort(key=lambda m: (not m.is_primary, m.path))
        return out

    def manager_chain(self, user: UserRef) -> list[User]:
        """The heads above a user, nearest first: the head of their primary department, then
        of its parent, and so on up to the root. Empty or deactivated heads, the user
        themself and repeats are skipped. One query."""
        user_id = self.users.get(user).id
        return self.manager_chains([user_id])[user_id]

    def manager_of(self, user: UserRef, level: int = 1) -> User | None:
        """The user's manager (level 1), their manager's manager (level 2)... or None."""
        chain = self.manager_chain(user)
        return chain[level - 1] if 0 < level <= len(chain) else None

    def manager_chains(self, user_ids: Iterable[int]) -> dict[int, list[User]]:
        """`manager_chain` of many users (the submitters of many records) in one query
        (per MAX_BATCH users)."""
        user_ids = list(dict.fromkeys(user_ids))
        out: dict[int, list[User]] = {u: [] for u in user_ids}
        rows = [row for batch in chunked(user_ids) for row in self.conn.execute(self._chains_query(batch))]
        for row in rows:
            heads = out[row.owner]
            if row.id != row.owner and all(h.id != row.id for h in heads):
                heads.append(user_from_row(row))
        return out

    # ---- helpers ----------------------------------------------------------------
    @staticmethod
    def _chains_query(user_ids: list[int]) -> sa.Select:
        """(owner, head columns...) for the active heads above each user's primary
        department, nearest first."""
        start = (sa.select(_dm.c.user_id.label("owner"), _d.c.id, _d.c.parent_id, _d.c.head_user_id,
                           sa.literal(0).label("depth"))
                 .join(_d, _d.c.id == _dm.c.department_id)
                 .where(_dm.c.user_id.in_(user_ids), _dm.c.is_primary == sa.true()))
        chain = ancestors_select(start)
        return (sa.select(chain.c.owner, *USER_COLUMNS).join(_u, _u.c.id == chain.c.head_user_id)
                .where(_u.c.is_active == sa.true()).order_by(chain.c.owner, chain.c.depth))

    def _id(self, ref: DepartmentRef) -> int:
        return self.get(ref).id

    def _from_index(self, index: DepartmentIndex, ref: DepartmentRef) -> Department:
        rid = ref_as_id(ref)
        if rid is None:
            return index.find(str(ref))
        if rid not in index.by_id:
            raise OrgNotFound("org_department_not_found", ref=f"#{rid}")
        return index.by_id[rid]

    def _refuse_taken_name(self, index: DepartmentIndex, name: str, parent_id: int | None) -> None:
        if any(s.name == name for s in index.children.get(parent_id, [])):
            parent = index.path(parent_id) if parent_id else "/"
            raise OrgConflict("org_department_name_taken", name=name, parent=parent)

    def _renumber(self, ordered: list[Department]) -> None:
        """Store sibling positions 0, 1, 2... (one executemany) where they changed."""
        changes = [{"dept_id": d.id, "new_position": i} for i, d in enumerate(ordered) if d.position != i]
        if changes:
            self.conn.execute(sa.update(_d).where(_d.c.id == sa.bindparam("dept_id"))
                              .values(position=sa.bindparam("new_position")), changes)

    def _make_primary(self, dept_id: int, user_ids: list[int]) -> None:
        self.conn.execute(sa.update(_dm).where(_dm.c.user_id.in_(user_ids))
                          .values(is_primary=_dm.c.department_id == dept_id))

    def _ensure_primary(self, user_ids: list[int], prefer: int | None = None) -> None:
        """Give users who have departments but no primary one a primary department:
        `prefer` if they are in it, else the one with the smallest id. One statement."""
        if not user_ids:
            return
        other = _dm.alias("fw_other")
        has_primary = sa.exists().where(other.c.user_id == _dm.c.user_id, other.c.is_primary == sa.true())
        first = sa.select(sa.func.min(other.c.department_id)).where(other.c.user_id == _dm.c.user_id)
        chosen = _dm.c.department_id == prefer if prefer is not None \
            else _dm.c.department_id == first.scalar_subquery()
        self.conn.execute(sa.update(_dm).where(_dm.c.user_id.in_(user_ids), ~has_primary, chosen)
                          .values(is_primary=True))


def _clean_department_name(raw) -> str:
    issues = Issues()
    name = issues.clean("name", lambda v: clean_name(v, department=True), raw)
    issues.raise_if_any()
    return name


def _head_from_row(row) -> User | None:
    if row.head_id is None:
        return None
    return User(id=row.head_id, account=row.head_account, name=row.head_name, email=row.head_email,
                phone=row.head_phone, is_active=bool(row.head_is_active), is_admin=bool(row.head_is_admin),
                created_at=row.head_created_at)
