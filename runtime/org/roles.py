"""Roles: named groups of users across departments (销售经理, 财务...), which
permissions and approval steps will name.

A role is named by a `RoleRef`: a `Role`, an id, its key (`sales_manager`) or,
when no key matches, a display name only one role has.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Union

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from engine.storage import system
from engine.storage.types import utcnow
from engine.suggest import did_you_mean
from runtime.org._sql import chunked, insert_missing, insert_returning
from runtime.org.errors import OrgConflict, OrgNotFound
from runtime.org.model import Role, User
from runtime.org.users import USER_COLUMNS, UserRef, Users, ref_as_id, user_from_row
from runtime.org.values import Issues, clean_description, clean_name, clean_role_key

RoleRef = Union[Role, int, str]

_r, _rm, _u = system.roles, system.role_members, system.users
ROLE_COLUMNS = [_r.c.id, _r.c.key, _r.c.name, _r.c.description]
_UNSET: Any = object()


def role_from_row(row) -> Role:
    return Role(id=row.id, key=row.key, name=row.name, description=row.description)


class Roles:
    def __init__(self, conn: sa.Connection, users: Users, *, now: datetime | None = None):
        self.conn, self.users, self.now = conn, users, now

    # ---- reading ----------------------------------------------------------------
    def get(self, ref: RoleRef) -> Role:
        rid = ref_as_id(ref)
        text = None if rid is not None else str(ref).strip()
        where = _r.c.id == rid if rid is not None else sa.or_(_r.c.key == text, _r.c.name == text)
        rows = [role_from_row(r) for r in self.conn.execute(sa.select(*ROLE_COLUMNS).where(where)
                                                            .order_by(_r.c.id)).all()]
        by_key = [r for r in rows if text is None or r.key == text]
        if by_key:
            return by_key[0]
        if len(rows) == 1:
            return rows[0]
        if rows:
            raise OrgNotFound("org_role_ambiguous", ref=text, count=len(rows), keys=", ".join(r.key for r in rows))
        if rid is not None:
            raise OrgNotFound("org_role_not_found", ref=f"#{rid}")
        every = self.conn.execute(sa.select(_r.c.key, _r.c.name)).all()
        raise OrgNotFound("org_role_not_found", ref=text[:100],
                          suggestion=did_you_mean(text, [r.key for r in every] + [r.name for r in every]))

    def list(self) -> list[tuple[Role, int]]:
        """Every role with its number of active members, by key: one query."""
        active = sa.select(_rm.c.role_id, sa.func.count().label("n")).join(_u, _u.c.id == _rm.c.user_id) \
            .where(_u.c.is_active == sa.true()).group_by(_rm.c.role_id).subquery()
        rows = self.conn.execute(sa.select(*ROLE_COLUMNS, sa.func.coalesce(active.c.n, 0).label("n"))
                                 .outerjoin(active, active.c.role_id == _r.c.id).order_by(_r.c.key)).all()
        return [(role_from_row(r), r.n) for r in rows]

    def members(self, ref: RoleRef, *, active_only: bool = True) -> list[User]:
        role = self.get(ref)
        query = sa.select(*USER_COLUMNS).join(_rm, _rm.c.user_id == _u.c.id).where(_rm.c.role_id == role.id)
        if active_only:
            query = query.where(_u.c.is_active == sa.true())
        return [user_from_row(r) for r in self.conn.execute(query.order_by(_u.c.account)).all()]

    def roles_of(self, user: UserRef) -> list[Role]:
        user_id = self.users.get(user).id
        return self.roles_of_many([user_id])[user_id]

    def roles_of_many(self, user_ids: Iterable[int]) -> dict[int, list[Role]]:
        """Each user's roles, by key, in one query."""
        user_ids = list(dict.fromkeys(user_ids))
        out: dict[int, list[Role]] = {u: [] for u in user_ids}
        for batch in chunked(user_ids):
            rows = self.conn.execute(sa.select(_rm.c.user_id, *ROLE_COLUMNS).join(_r, _r.c.id == _rm.c.role_id)
                                     .where(_rm.c.user_id.in_(batch)).order_by(_r.c.key)).all()
            for row in rows:
                out[row.user_id].append(role_from_row(row))
        return out

    # ---- writing ----------------------------------------------------------------
    def create(self, key: str, name: str, description: str | None = None) -> Role:
        issues = Issues()
        values = {"key": issues.clean("key", clean_role_key, key),
                  "name": issues.clean("name", clean_name, name),
                  "description": clean_description(description)}
        if values["key"] and self._key_taken(values["key"]):
            issues.add("key", "org_role_key_taken", key=values["key"])
        issues.raise_if_any()
        try:
            with self.conn.begin_nested():
                row = insert_returning(self.conn, _r, [{**values, "created_at": self.now or utcnow()}], ROLE_COLUMNS)[0]
        except IntegrityError:   # another transaction created the same key meanwhile
            raise OrgConflict("org_role_key_taken", key=values["key"]) from None
        return role_from_row(row)

    def rename(self, ref: RoleRef, name: str, description: str | None = _UNSET) -> Role:
        role = self.get(ref)
        issues = Issues()
        values = {"name": issues.clean("name", clean_name, name)}
        issues.raise_if_any()
        if description is not _UNSET:
            values["description"] = clean_description(description)
        self.conn.execute(sa.update(_r).where(_r.c.id == role.id).values(**values))
        return self.get(role.id)

    def delete(self, ref: RoleRef, *, force: bool = False) -> None:
        """Delete a role; one that still has members only with force=True."""
        role = self.get(ref)
        members = self.conn.execute(sa.select(sa.func.count()).where(_rm.c.role_id == role.id)).scalar_one()
        if members and not force:
            raise OrgConflict("org_role_not_empty", role=role.key, members=members)
        self.conn.execute(sa.delete(_rm).where(_rm.c.role_id == role.id))
        self.conn.execute(sa.delete(_r).where(_r.c.id == role.id))

    def assign(self, ref: RoleRef, users: Iterable[UserRef]) -> int:
        """Give users a role (those who have it are left alone); returns how many gained it."""
        role = self.get(ref)
        user_ids = self.users.ids(users)
        if not user_ids:
            return 0
        present = set(self.conn.execute(sa.select(_rm.c.user_id).where(
            _rm.c.role_id == role.id, _rm.c.user_id.in_(user_ids))).scalars())
        joining = [u for u in user_ids if u not in present]
        if joining:
            insert_missing(self.conn, _rm, [{"role_id": role.id, "user_id": u} for u in joining])
        return len(joining)

    def unassign(self, ref: RoleRef, users: Iterable[UserRef]) -> int:
        role = self.get(ref)
        user_ids = self.users.ids(users)
        if not user_ids:
            return 0
        return self.conn.execute(sa.delete(_rm).where(_rm.c.role_id == role.id,
                                                      _rm.c.user_id.in_(user_ids))).rowcount

    # ---- helpers ----------------------------------------------------------------
    def _key_taken(self, key: str) -> bool:
        return self.conn.execute(sa.select(_r.c.id).where(_r.c.key == key)).first() is not None
