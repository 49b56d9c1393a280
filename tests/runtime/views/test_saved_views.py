"""Saved views: per user, checked on save (zh and en errors naming what is wrong), one
default per user and form, and still loading when a field was removed or is now hidden."""
from __future__ import annotations

import copy
import json

import pytest

from engine.definition.model import AppDef
from runtime.apps import apply_app
from runtime.permissions import FULL, FormAccess
from runtime.views import SavedViews, ViewError, ViewNotFound
from tests.support.record_pages_app import DEFINITION, install_crm

VIP = {"field": "level", "op": "eq", "value": "vip"}


@pytest.fixture
def crm(db):
    return install_crm(db)


def _views(conn, crm, actor=None, policy=FULL, lang=None):
    class Given:
        def access(self, app, form, _actor):
            return policy if form.key == "customers" else FULL
    return SavedViews(crm.records(conn, actor or crm.li, Given(), lang=lang))


def test_create_list_update_rename_delete(crm):
    with crm.engine.begin() as conn:
        views = _views(conn, crm)
        made = views.create("customers", "重要客户", filter=VIP, columns=["name", "level", "owner"],
                            sort="-credit,name", page_size=20, default=True)
        assert made["name"] == "重要客户" and made["is_default"] and made["page_size"] == 20
        assert made["sort"] == [{"field": "credit", "dir": "desc"}, {"field": "name", "dir": "asc"}]
        other = views.create("customers", "全部")
        assert [v["name"] for v in views.list("customers")] == ["重要客户", "全部"]
        assert views.update(made["id"], columns=["name"])["columns"] == ["name"]
        assert views.get(made["id"])["filter"] == VIP           # parts not given stay as saved
        assert views.rename(made["id"], "VIP")["name"] == "VIP"
        views.set_default(other["id"])
        assert [(v["name"], v["is_default"]) for v in views.list("customers")] == [("全部", True), ("VIP", False)]
        assert views.default("customers") == other["id"]
        views.delete(other["id"])
        assert [v["name"] for v in views.list("customers")] == ["VIP"] and views.default("customers") is None


def test_views_belong_to_their_user(crm):
    with crm.engine.begin() as conn:
        mine = _views(conn, crm).create("customers", "我的")
        theirs = _views(conn, crm, actor=crm.han)
        assert theirs.list("customers") == []
        for call in (lambda: theirs.get(mine["id"]), lambda: theirs.delete(mine["id"]),
                     lambda: theirs.rename(mine["id"], "x")):
            with pytest.raises(ViewNotFound):
                call()
        theirs.create("customers", "我的")       # the same name is another user's own


@pytest.mark.parametrize("kwargs, code, says", [
    ({"filter": {"field": "levle", "op": "eq", "value": "vip"}}, "view_filter_invalid", "levle"),
    ({"filter": {"field": "level", "op": "between", "value": 1}}, "view_filter_invalid", "between"),
    ({"filter": {"field": "credit", "op": "gt", "value": "很多"}}, "view_filter_invalid", "filter.value"),
    ({"columns": ["name", "levle"]}, "view_column_unknown", "did you mean 'level'"),
    ({"columns": ["name", "name"]}, "view_column_twice", "columns[1]"),
    ({"columns": "name"}, "view_columns_invalid", "list of field keys"),
    ({"sort": [{"field": "nmae"}]}, "view_sort_invalid", "nmae"),
    ({"sort": [{"field": "name", "dir": "up"}]}, "view_sort_invalid", "up"),
    ({"page_size": 501}, "view_page_size_invalid", "501"),
])
def test_a_bad_view_is_refused_in_both_languages(crm, kwargs, code, says):
    with crm.engine.begin() as conn:
        with pytest.raises(ViewError) as refused:
            _views(conn, crm).create("customers", "坏的", **kwargs)
        assert refused.value.code == code
        assert says in refused.value.message("en")
        zh = refused.value.message("zh")
        assert zh != refused.value.message("en") and any("\u4e00" <= ch <= "\u9fff" for ch in zh)


def test_names_are_checked(crm):
    with crm.engine.begin() as conn:
        views = _views(conn, crm)
        views.create("customers", "视图")
        for name, code in (("视图", "view_name_taken"), ("  ", "view_name_invalid"), ("长" * 101, "view_name_invalid")):
            with pytest.raises(ViewError) as refused:
                views.create("customers", name)
            assert refused.value.code == code
        assert "视图" in views.create("orders", "视图")["name"]      # per form


def test_a_hidden_field_cannot_be_saved_into_a_view(crm):
    with crm.engine.begin() as conn:
        hiding = FormAccess.limited(crm.app.require_form("customers"),
                                    visible=["name", "level", "owner", "dept", "credit"])
        views = _views(conn, crm, policy=hiding)
        for kwargs in ({"columns": ["name", "note"]}, {"filter": {"field": "note", "op": "contains", "value": "x"}},
                       {"sort": [{"field": "note"}]}):
            with pytest.raises(ViewError) as refused:
                views.create("customers", "v", **kwargs)
            assert refused.value.code in ("view_column_hidden", "view_field_hidden")


def test_a_view_naming_a_removed_or_hidden_field_loads_without_it(crm):
    with crm.engine.begin() as conn:
        view = _views(conn, crm).create(
            "customers", "旧视图", columns=["name", "note", "credit", "level"],
            filter={"and": [VIP, {"field": "note", "op": "contains", "value": "秘"},
                            {"or": [{"field": "credit", "op": "gt", "value": 10}]}]},
            sort=[{"field": "credit", "dir": "desc"}, {"field": "name"}])
    # `credit` is removed from the app; `note` is now hidden from this user.
    changed = copy.deepcopy(DEFINITION)
    changed["forms"][0]["fields"] = [f for f in changed["forms"][0]["fields"] if f["key"] != "credit"]
    app = AppDef.from_dict(changed)
    apply_app(crm.engine, app)      # the field is archived, its data kept
    crm.app = app
    hiding = FormAccess.limited(app.require_form("customers"), visible=["name", "level", "owner", "dept"])
    with crm.engine.connect() as conn:
        views = _views(conn, crm, policy=hiding, lang="en")
        saved, spec = views.load(view["id"])
        assert saved["name"] == "旧视图"
        assert spec.columns == ["name", "level"]
        assert spec.filter == {"and": [VIP]}
        assert spec.sort == [{"field": "name"}]
        messages = [w["message"] for w in spec.warnings]
        assert any("credit" in m for m in messages)
        assert {w["params"].get("path") for w in spec.warnings} >= {"sort[0].field", "filter.and[2].or[0]"}
        assert not any("note" in m for m in messages)        # a hidden field is never named
        assert len(spec.warnings) == 5
        listed = views.list("customers")
        assert [v["name"] for v in listed] == ["旧视图"] and listed[0]["columns"] == ["name", "level"]
        assert "note" not in json.dumps(listed, ensure_ascii=False) and len(listed[0]["warnings"]) == 5
        # Saving it again keeps what still fits: the dropped parts are gone for good.
        assert views.update(view["id"], page_size=30)["warnings"] == []


def test_the_system_has_no_views(crm):
    with crm.engine.begin() as conn:
        with pytest.raises(ViewError) as refused:
            SavedViews(crm.records(conn)).create("customers", "x")
        assert refused.value.code == "view_needs_user"
