"""Who is acting: the user behind a unit of work, as the record service, the permission
policy and formulas see them.

    actor = actor_for(conn, "li.lei")          # from the org model: three short queries
    actor = Actor.system()                      # the command line, admin tasks, jobs

An `Actor` is a frozen value, read once when a unit of work starts (runtime/session.py)
and handed to every service it opens, so a request, a command or a job sees one
consistent picture of its user even if an admin changes their roles meanwhile.

- `user_id` is written as created_by / updated_by / owner of the records it creates and
  as the user of their history, and is what CURRENTUSER() gives in formulas. None is the
  system: nobody in particular, recorded as such.
- `roles` (keys) and `department_ids` (primary first) are what permission sets and data
  filters name (runtime/permissions); `is_admin` is the user's admin flag (the system
  actor is an admin: it stands for the installation itself).
- `lang` is the language its answers are written in: the caller's choice, else the
  workspace language (FORMWORK_LANGUAGE, engine/workspace.py).

An Actor built by hand (a test, a seeder acting as a user it has just made) holds
exactly what it is given; `actor_for` is the way to get the real one.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import sqlalchemy as sa

from engine.errors import FormworkError
from engine.i18n import LANGS
from engine.storage import system
from engine.workspace import workspace_language
from runtime.org.users import UserRef, Users

_rm, _r, _dm = system.role_members, system.roles, system.department_members


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    account: str | None = None
    name: str | None = None
    roles: frozenset[str] = frozenset()
    department_ids: tuple[int, ...] = ()        # the primary department first
    is_admin: bool = False
    is_active: bool = True
    lang: str = field(default_factory=workspace_language)

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise FormworkError(f"an actor's language is one of {', '.join(LANGS)}, not {self.lang!r}")
        object.__setattr__(self, "roles", frozenset(self.roles))
        object.__setattr__(self, "department_ids", tuple(self.department_ids))

    @classmethod
    def system(cls, lang: str | None = None) -> "Actor":
        """The installation itself: no user (user_id None), an admin."""
        return cls(account=None, name="system", is_admin=True, lang=lang or workspace_language())

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    @property
    def primary_department_id(self) -> int | None:
        return self.department_ids[0] if self.department_ids else None

    def has_role(self, key: str) -> bool:
        return key in self.roles

    def speaking(self, lang: str | None) -> "Actor":
        """The same actor answering in `lang` (unchanged when lang is None)."""
        return self if lang is None or lang == self.lang else replace(self, lang=lang)


def actor_for(conn: sa.Connection, user: UserRef, *, lang: str | None = None) -> Actor:
    """The actor of a user named by id, account or unique name (runtime/org/users.py):
    one query for the user, one for their role keys, one for their departments. An
    unknown user raises OrgNotFound with a "did you mean"."""
    found = Users(conn).get(user)
    roles = conn.execute(sa.select(_r.c.key).join(_rm, _rm.c.role_id == _r.c.id)
                         .where(_rm.c.user_id == found.id)).scalars()
    departments = conn.execute(sa.select(_dm.c.department_id).where(_dm.c.user_id == found.id)
                               .order_by(_dm.c.is_primary.desc(), _dm.c.department_id)).scalars()
    return Actor(user_id=found.id, account=found.account, name=found.name, roles=frozenset(roles),
                 department_ids=tuple(departments), is_admin=found.is_admin, is_active=found.is_active,
                 lang=lang or workspace_language())
