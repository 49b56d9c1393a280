"""Members, departments and files in spreadsheets.

On the way out a member is written as its name ("李雷"), or "李雷 (li.lei)" when
several users share the name; a department as its name, or its path from the root
("总部/销售部/华东组") when the name is shared; a file as its file name.

On the way in a member may be given by account, by a name only one user has, or as
"name (account)"; a department by a unique name or its path. The org model resolves
them with one query per batch; the member and department field types read the
result from `ctx.lookups["users"]` / `["departments"]`.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

import sqlalchemy as sa

from engine.fields.base import FieldType
from engine.storage import system
from runtime.org import Org

LOOKUP_KINDS = ("users", "departments")   # the Reference kinds an import may name (ValueContext.lookups)
_NAME_WITH_ACCOUNT = re.compile(r"^(?P<name>.+?)\s*[（(]\s*(?P<account>[^()（）\s]+)\s*[)）]$")
_SEPARATORS = str.maketrans({"，": ",", "；": ",", ";": ",", "、": ",", "|": ",", "\n": ","})


def lookup_kind(ftype: FieldType) -> str | None:
    """'users' or 'departments' when cells of this field name members or departments."""
    kind = getattr(ftype, "kind", None)
    return kind if kind in LOOKUP_KINDS and getattr(ftype, "looks_up_names", False) else None


def cell_texts(raw: Any) -> set[str]:
    """The names a cell may hold: the whole text and its parts between separators."""
    text = str(raw).strip()
    parts = {p.strip() for p in text.translate(_SEPARATORS).split(",") if p.strip()}
    return parts | {text}


class Directory:
    """Name lookups for one import or export, inside its connection."""

    def __init__(self, conn: sa.Connection):
        self.conn = conn
        self.org = Org(conn)
        self._departments = None
        # Texts of the current batch that name several users or departments: {kind: {text: candidates}}.
        self.shared: dict[str, dict[str, list[str]]] = {}

    # ---- import -----------------------------------------------------------------------
    def lookups(self, texts: dict[str, set[str]]) -> dict[str, dict[str, int]]:
        """{kind: {text: id}} for the texts of a batch (ValueContext.lookups)."""
        extra: dict[str, dict[str, int]] = {}
        self.shared = {}
        for kind, wanted in texts.items():
            if not wanted:
                continue
            found, shared = (self._users(wanted) if kind == "users"
                             else self.org.departments.lookup(wanted))
            extra[kind] = found
            self.shared[kind] = shared
        return extra

    def _users(self, texts: set[str]) -> tuple[dict[str, int], dict[str, list[str]]]:
        accounts = {}
        for text in texts:
            m = _NAME_WITH_ACCOUNT.match(text)
            if m:
                accounts[text] = m.group("account")
        found, shared = self.org.users.lookup(texts | set(accounts.values()))
        for text, account in accounts.items():
            if account in found:
                found[text] = found[account]
                shared.pop(text, None)
        return found, shared

    def shared_reason(self, kind: str, raw: Any, lang: str) -> str | None:
        """Why a cell is ambiguous (a name several users or departments share), or None."""
        for text in sorted(cell_texts(raw)):
            candidates = self.shared.get(kind, {}).get(text)
            if not candidates:
                continue
            listed = "、".join(candidates[:5]) if lang == "zh" else ", ".join(candidates[:5])
            if kind == "users":
                return (f"“{text}”对应多名成员（账号 {listed}），请填写账号，或写成“{text} (账号)”"
                        if lang == "zh" else
                        f"'{text}' is the name of several members (accounts {listed}); give the account, "
                        f"or write '{text} (account)'")
            return (f"“{text}”对应多个部门（{listed}），请填写完整路径" if lang == "zh" else
                    f"'{text}' names several departments ({listed}); give the full path")
        return None

    # ---- export -----------------------------------------------------------------------
    def names(self, ids: dict[str, set[int]]) -> dict[str, dict[int, str]]:
        """{kind: {id: name}} for the ids of one page (ValueContext.names; one query per kind)."""
        extra: dict[str, dict[int, str]] = {}
        if ids.get("users"):
            extra["users"] = self._user_names(ids["users"])
        if ids.get("departments"):
            extra["departments"] = self._department_names(ids["departments"])
        if ids.get("files"):
            files = system.files
            extra["files"] = dict(self.conn.execute(
                sa.select(files.c.id, files.c.name).where(files.c.id.in_(ids["files"]))).all())
        return extra

    def _user_names(self, ids: Iterable[int]) -> dict[int, str]:
        users = self.org.users.by_ids(ids)
        _found, shared = self.org.users.lookup({u.name for u in users.values()})
        return {uid: f"{u.name} ({u.account})" if u.name in shared else u.name for uid, u in users.items()}

    def _department_names(self, ids: Iterable[int]) -> dict[int, str]:
        if self._departments is None:   # the whole tree, once per export (it is small)
            self._departments = self.org.departments.index()
        index = self._departments
        counts: dict[str, int] = {}
        for dept in index.by_id.values():
            counts[dept.name] = counts.get(dept.name, 0) + 1
        return {i: (index.by_id[i].name if counts[index.by_id[i].name] == 1 else index.path(i))
                for i in ids if i in index.by_id}
