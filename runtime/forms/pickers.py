"""What the form page's pickers ask for: the records a relation may point at, members
and departments, and the address cascader's divisions.

    search_records(uow, "crm", "orders", "customer", "明达")   # the customers named so
    search_members(uow, "li")                                 # users by account, name, email, phone
    search_departments(uow, "销售")                            # departments by name or path
    division_children() / division_children("440000")          # provinces / cities of 广东省
    division_children("440000", "440300")                     # the districts of 深圳市

Record search is the record service's own list (Records.list with `search`), so the
actor's row scope and hidden fields apply as on every read: the text is looked for
in the fields the actor may see, keyset paged, one statement a page (no count).
"""
from __future__ import annotations

from typing import Any

from engine.errors import CodedError, NotFound
from engine.fields.base import ValueContext
from engine.fields.divisions import divisions
from engine.fields.relation import RelationField
from engine.i18n import register_messages
from runtime.org.tree import DepartmentIndex

MAX_PICKS = 50
MAX_NEEDLE = 200

register_messages({
    "picker_not_relation": {"zh": "表单“{form}”的字段“{field}”不是关联字段，没有可选的关联记录",
                            "en": "Field '{field}' of form '{form}' is not a relation; there are no records "
                                  "to pick for it"},
    "picker_no_field": {"zh": "表单“{form}”没有字段“{field}”", "en": "Form '{form}' has no field '{field}'"},
    "picker_no_division": {"zh": "{parent}中没有代码为“{division}”的行政区划；请使用上一级列表中的 6 位代码",
                           "en": "There is no division with code '{division}' in {parent}; give a 6-digit "
                                 "code from the list above it"},
})


class PickerError(CodedError):
    """A picker asked for something that cannot be picked (a field that is not a relation)."""


class PickerNotFound(CodedError, NotFound):
    """A picker asked about a field or a division that does not exist."""


def _page_size(limit: Any) -> int:
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and 1 <= limit <= MAX_PICKS \
        else 20


def _needle(text: Any) -> str:
    return str(text or "").strip()[:MAX_NEEDLE]


def search_records(uow, app_key: str, form_key: str, field_key: str, text: Any = "", *,
                   cursor: str | None = None, limit: Any = 20) -> dict[str, Any]:
    """{"records": [{"id", "title"}], "next_cursor"}: the records of the target form of
    relation `field_key` holding `text`, newest first, within the actor's scope."""
    records = uow.records(app_key)
    form = records.app.require_form(form_key)
    fdef = form.field(field_key)
    access = records.access(form_key)
    if fdef is None or not access.can_see(field_key):
        raise PickerNotFound("picker_no_field", form=form_key, field=str(field_key)[:100])
    relation = records.app.types.of(fdef)
    if not isinstance(relation, RelationField):
        raise PickerError("picker_not_relation", form=form_key, field=field_key)
    target = records.app.require_form(relation.target)
    title_key = target.title_key()
    if title_key is not None and not records.access(target.key).can_see(title_key):
        title_key = None
    page = records.list(target.key, search=_needle(text) or None, page_size=_page_size(limit),
                        cursor=cursor, with_count=False, sort=[{"field": "id", "dir": "desc"}],
                        fields=[title_key] if title_key else [])
    title_type = records.app.types.of(target.field(title_key)) if title_key else None
    return {"records": [{"id": r["id"], "title": _title(title_type, r["fields"].get(title_key), r["id"],
                                                        records.ctx)} for r in page.records],
            "next_cursor": page.next_cursor}


def _title(title_type, value, rid: int, ctx: ValueContext) -> str:
    shown = title_type.display(value, ctx) if title_type is not None and value is not None else ""
    return shown or f"#{rid}"


def search_members(uow, text: Any = "", *, limit: Any = 20) -> dict[str, Any]:
    """{"members": [{"id", "name", "account"}], "total"}: active users whose account,
    name, email or phone holds `text` (runtime/org Users.list: the page and its count)."""
    page = uow.org.users.list(search=_needle(text) or None, active=True, limit=_page_size(limit))
    return {"members": [{"id": u.id, "name": u.name, "account": u.account} for u in page.users],
            "total": page.total}


def search_departments(uow, text: Any = "", *, limit: Any = 20) -> dict[str, Any]:
    """{"departments": [{"id", "name", "path"}]}: departments whose name or path holds
    `text` (the whole tree is one query: an organisation has hundreds, not millions)."""
    index: DepartmentIndex = uow.org.departments.index()
    needle = _needle(text).lower()
    found = []
    for department in index.by_id.values():
        path = index.path(department.id)
        if not needle or needle in path.lower():
            found.append({"id": department.id, "name": department.name, "path": path})
    found.sort(key=lambda d: d["path"])
    return {"departments": found[:_page_size(limit)]}


def division_children(province: Any = None, city: Any = None) -> dict[str, Any]:
    """{"path": [{"code", "name"}...], "children": [{"code", "name", "leaf"}]}: the
    provinces (no code), the cities of a province, or the districts of a city of a
    province, by GB/T 2260 code, as the address field checks them (engine/fields/
    divisions.py). A municipality (北京市) has one city of its own name and code, so
    its districts are asked for as (110000, 110000). Unknown codes: PickerNotFound (a NotFound)."""
    data = divisions()
    level, path = data.provinces, []
    for code in (province, city):
        if code in (None, ""):
            break
        found = next((d for d in level.values() if d.code == str(code).strip()), None)
        if found is None:
            raise PickerNotFound("picker_no_division", division=str(code)[:20],
                                 parent=path[-1]["name"] if path else "省级列表 / the provinces")
        path.append({"code": found.code, "name": found.name})
        level = found.children
    return {"path": path, "children": [{"code": d.code, "name": d.name, "leaf": not d.children}
                                       for d in level.values()]}
