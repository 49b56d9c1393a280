"""CURRENTUSER(): the signed-in user in default formulas, rules and filters, on SQLite
and PostgreSQL; refused where a value is stored once for everyone (formula fields,
rollup filters), with the position of the call."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.errors import RecordValidationError
from engine.validation.validate import check_text
from runtime.actor import Actor
from runtime.apps import apply_app
from runtime.org import Org
from runtime.records import Records

DEFINITION = """
format_version: 1
app: {key: deals, label: {zh: 商机, en: Deals}}
forms:
  - key: deals
    label: {zh: 商机, en: Deals}
    title_field: title
    rules:
      - key: not_own_approval
        formula: OR(ISBLANK(approver), approver <> CURRENTUSER())
        message: {zh: 不能指定自己为审批人, en: You cannot name yourself as the approver}
        fields: [approver]
    fields:
      - {key: title, type: text, label: {zh: 标题, en: Title}, required: true}
      - {key: sales_rep, type: member, label: {zh: 销售, en: Sales rep}, default_formula: CURRENTUSER()}
      - {key: approver, type: member, label: {zh: 审批人, en: Approver}}
      - key: note
        type: text
        label: {zh: 本人备注, en: Own note}
        visible_if: sales_rep = CURRENTUSER()
        required: true
"""


def _app():
    app, problems = check_text(DEFINITION, "deals.yaml")
    assert problems == []
    return app


@pytest.fixture
def deals(db):
    app = _app()
    apply_app(db, app)
    with db.begin() as conn:
        wang, li = Org(conn).users.add_many([{"account": "wang", "name": "王芳"},
                                             {"account": "li", "name": "李雷"}])
    return db, app, wang.id, li.id


def test_default_formula_fills_in_the_signed_in_user(deals):
    db, app, wang, li = deals
    with db.begin() as conn:
        mine = Records(conn, app, actor=Actor(user_id=wang)).create("deals", {"title": "A", "note": "跟进中"})
        by_script = Records(conn, app).create("deals", {"title": "B", "note": "导入"})
    assert mine["fields"]["sales_rep"] == wang
    assert by_script["fields"]["sales_rep"] is None     # nobody signed in: empty


def test_visibility_follows_who_is_looking(deals):
    db, app, wang, li = deals
    with db.begin() as conn:
        # li fills in a deal for wang: the note is visible only to wang, so li need not fill it
        created = Records(conn, app, actor=Actor(user_id=li)).create("deals", {"title": "C", "sales_rep": wang})
        assert created["fields"]["sales_rep"] == wang
        with pytest.raises(RecordValidationError) as refused:
            Records(conn, app, actor=Actor(user_id=wang)).create("deals", {"title": "D"})
    assert [issue.field for issue in refused.value.issues] == ["note"]


def test_a_rule_compares_with_the_signed_in_user(deals):
    db, app, wang, li = deals
    with db.begin() as conn:
        deal = Records(conn, app, actor=Actor(user_id=wang)).create("deals", {"title": "E", "note": "x"})
        with pytest.raises(RecordValidationError) as refused:
            Records(conn, app, actor=Actor(user_id=wang)).update("deals", deal["id"], {"approver": wang})
        named = Records(conn, app, actor=Actor(user_id=wang)).update("deals", deal["id"], {"approver": li})
    assert [issue.field for issue in refused.value.issues] == ["approver"]
    assert "You cannot name yourself as the approver" in str(refused.value)
    assert named["fields"]["approver"] == li


def test_a_filter_lists_the_signed_in_users_records(deals):
    db, app, wang, li = deals
    with db.begin() as conn:
        Records(conn, app, actor=Actor(user_id=wang)).bulk_create("deals", [{"title": f"W{i}", "note": "n"} for i in range(3)])
        Records(conn, app, actor=Actor(user_id=li)).bulk_create("deals", [{"title": f"L{i}", "note": "n"} for i in range(2)])
        mine = {"formula": "sales_rep = CURRENTUSER()"}
        as_wang = Records(conn, app, actor=Actor(user_id=wang)).list("deals", filter=mine, page_size=50)
        as_nobody = Records(conn, app).list("deals", filter=mine, page_size=50)
        sent = []
        listen = lambda *args: sent.append((args[2], args[3]))     # noqa: E731 (statement, parameters)
        sa.event.listen(db, "before_cursor_execute", listen)
        try:
            as_li = Records(conn, app, actor=Actor(user_id=li)).list("deals", filter=mine, page_size=50)
        finally:
            sa.event.remove(db, "before_cursor_execute", listen)
    assert sorted(r["fields"]["title"] for r in as_wang.records) == ["W0", "W1", "W2"]
    assert sorted(r["fields"]["title"] for r in as_li.records) == ["L0", "L1"]
    assert as_nobody.records == []          # nobody signed in: empty matches no member
    # the user's id is a bound value of the page's SELECT and of its count
    selects = [(s, p) for s, p in sent if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2            # the page and its capped count
    for statement, parameters in selects:
        values = list(parameters.values() if isinstance(parameters, dict) else parameters)
        assert li in values, (statement, parameters)


@pytest.mark.parametrize("fields, where", [
    ("      - {key: mine, type: formula, label: {zh: 我的, en: Mine}, result: boolean,\n"
     "         formula: 'sales_rep = CURRENTUSER()'}\n", "forms[0].fields[1].formula"),
    ("      - {key: owned, type: rollup, label: {zh: 我的, en: Mine}, source: deals, via: parent,\n"
     "         aggregate: count, filter: {formula: 'AND(TRUE, sales_rep = CURRENTUSER())'}}\n",
     "forms[0].fields[1].filter.formula"),
])
def test_stored_values_cannot_read_the_user(fields, where):
    text = ("format_version: 1\napp: {key: t, label: {zh: t, en: t}}\nforms:\n  - key: deals\n"
            "    label: {zh: d, en: d}\n    fields:\n"
            "      - {key: sales_rep, type: member, label: {zh: s, en: s}}\n" + fields +
            "      - {key: parent, type: relation, target: deals, label: {zh: p, en: p}}\n")
    _, problems = check_text(text, "t.yaml")
    assert [p.code for p in problems] == ["user_in_stored"]
    problem = problems[0]
    assert problem.path == where
    assert "CURRENTUSER() gives the user who is looking" in problem.message
    assert "default_formula: CURRENTUSER()" in problem.message
    # the position is the call's, in the YAML file
    assert text.splitlines()[problem.line - 1][problem.column - 1:].startswith("CURRENTUSER()")
