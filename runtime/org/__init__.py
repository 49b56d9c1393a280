"""The org model: users, a department tree with heads, roles and memberships.

`Org(conn)` works inside the caller's connection and transaction, like the
record service:

    with engine.begin() as conn:
        org = Org(conn)
        li = org.users.add("li.lei", "李雷", email="li.lei@example.com")
        east = org.departments.create("华东组", parent="总部/销售部", head=li)
        org.roles.assign("sales_manager", [li])
        org.departments.manager_of("han.meimei")    # the head above her -> li

Member and department fields of forms store the ids of these users and
departments; approvals ask `manager_of` / `manager_chains`; permissions will
ask `members(..., recursive=True)` and `subtree_ids_select`.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from runtime.org.departments import DepartmentRef, Departments
from runtime.org.errors import OrgConflict, OrgNotFound
from runtime.org.model import Department, DepartmentNode, Membership, Role, User, UserPage
from runtime.org.roles import RoleRef, Roles
from runtime.org.tree import MAX_DEPTH, subtree_ids_select
from runtime.org.users import UserRef, Users

__all__ = ["Org", "OrgConflict", "OrgNotFound", "User", "Department", "DepartmentNode", "Membership",
           "Role", "UserPage", "UserRef", "DepartmentRef", "RoleRef", "MAX_DEPTH", "subtree_ids_select"]


class Org:
    """The org service: `users`, `departments` (tree, heads, members, managers), `roles`."""

    def __init__(self, conn: sa.Connection, *, now: datetime | None = None):
        self.conn = conn
        self.users = Users(conn, now=now)
        self.departments = Departments(conn, self.users, now=now)
        self.roles = Roles(conn, self.users, now=now)
