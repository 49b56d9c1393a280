"""What the org service returns: plain, immutable values (never a password hash)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class User:
    id: int
    account: str
    name: str
    email: str | None
    phone: str | None
    is_active: bool
    is_admin: bool
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return data


@dataclass(frozen=True)
class Department:
    id: int
    name: str
    parent_id: int | None
    head_user_id: int | None
    position: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Role:
    id: int
    key: str
    name: str
    description: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Membership:
    """One department of a user, with its full path ("总部/销售部")."""

    department: Department
    path: str
    is_primary: bool


@dataclass
class DepartmentNode:
    """A department in the tree, with its head and direct member count."""

    department: Department
    path: str
    depth: int
    head: User | None
    member_count: int
    children: list["DepartmentNode"] = field(default_factory=list)

    def walk(self):
        """This node and every node below it, depth first, in display order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def as_dict(self) -> dict[str, Any]:
        return {**self.department.as_dict(), "path": self.path,
                "head": None if self.head is None else {"id": self.head.id, "account": self.head.account,
                                                        "name": self.head.name},
                "member_count": self.member_count, "children": [c.as_dict() for c in self.children]}


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int          # every user matching the search, not just this page
    offset: int
    limit: int
