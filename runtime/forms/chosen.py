"""What the form page shows for the members, departments and files a record's fields
hold (a picker shows a name, not an id): one statement per kind named.

    chosen_labels(uow, description, values)
    # {"users": {3: "李雷"}, "departments": {2: "销售部/华东组"}, "files": {7: {...}}}

Relation titles come from the draft evaluation (its `titles`, within the actor's row
scope), not from here.
"""
from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa

from engine.fields.base import parse_id
from engine.storage import system

MEMBER_KINDS = {"member", "members"}
DEPARTMENT_KINDS = {"department", "departments"}
FILE_KINDS = {"attachment", "image", "signature"}


def _ids(value: Any) -> Iterable[int]:
    for item in value if isinstance(value, (list, tuple)) else [value]:
        found = parse_id(item) if item not in (None, "") else None
        if found is not None:
            yield found


def _wanted(description: dict, values: dict, kinds: set[str]) -> set[int]:
    wanted: set[int] = set()
    for field in description["fields"]:
        if field["kind"] in kinds:
            wanted.update(_ids(values.get(field["key"])))
        elif field["kind"] == "subform":
            for column in field["options"]["columns"]:
                if column["kind"] in kinds:
                    for row in values.get(field["key"]) or []:
                        if isinstance(row, dict):
                            wanted.update(_ids(row.get(column["key"])))
    return wanted


def chosen_labels(uow, description: dict, values: dict) -> dict[str, dict[int, Any]]:
    conn = uow.conn
    users = _wanted(description, values, MEMBER_KINDS)
    departments = _wanted(description, values, DEPARTMENT_KINDS)
    files = _wanted(description, values, FILE_KINDS)
    out: dict[str, dict[int, Any]] = {"users": {}, "departments": {}, "files": {}}
    if users:
        u = system.users
        out["users"] = {r.id: r.name for r in conn.execute(sa.select(u.c.id, u.c.name).where(u.c.id.in_(users)))}
    if departments:
        d = system.departments
        out["departments"] = {r.id: r.name for r in conn.execute(
            sa.select(d.c.id, d.c.name).where(d.c.id.in_(departments)))}
    if files:
        f = system.files
        out["files"] = {r.id: {"id": r.id, "name": r.name, "size": r.size, "content_type": r.content_type}
                        for r in conn.execute(sa.select(f.c.id, f.c.name, f.c.size, f.c.content_type)
                                              .where(f.c.id.in_(files)))}
    return out
