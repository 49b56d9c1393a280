"""Member(s) and department(s): ids of the org model, names in imports, filters."""
import pytest

from engine.fields import ValueContext
from engine.storage import system
from runtime.actor import Actor
from runtime.records import Records
from tests.support.fields import CTX, NOW, Lab, L, make, problem_at, refused

TYPES = {"member", "members", "department", "departments"}


@pytest.mark.parametrize("type_name", ["member", "department"])
@pytest.mark.parametrize("raw", [5, "5", " #5 ", {"id": 5, "name": "李雷"}, 5.0])
def test_single_ids(type_name, raw):
    assert make(type_name).clean(raw, CTX) == 5


@pytest.mark.parametrize("raw", ["李雷", 0, -1, 2 ** 63, True, 1.5, [5], ""])
def test_what_is_not_a_member(raw):
    refused(make("member"), raw, "member_invalid", zh=["成员编号"], en=["member's id"])
    refused(make("department"), raw, "department_invalid", zh=["部门编号"], en=["department's id"])


def test_imports_name_people_and_departments():
    ctx = ValueContext(lookups={"users": {"li.lei": 3, "李雷": 3, "韩梅梅": 4},
                                "departments": {"销售部": 7}})
    assert make("member").parse_text("李雷", ctx) == 3
    assert make("members").parse_text("李雷、韩梅梅，li.lei", ctx) == [3, 4]
    assert make("department").parse_text("销售部", ctx) == 7
    assert make("departments").parse_cell(7, ctx) == [7]
    refused(make("member"), "王五", "member_unknown", zh=["王五"], en=["account or name '王五'"], ctx=ctx)
    refused(make("departments"), "销售部,市场部", "department_unknown", zh=["市场部"], ctx=ctx)


def test_multiple_members():
    members = make("members", max=2)
    assert members.clean([3, "4", {"id": 3}], CTX) == [3, 4]
    assert members.clean("3; 4", CTX) == [3, 4]
    refused(members, [1, 2, 3], "member_too_many", zh=["最多选择 2 个"], en=["at most 2"])
    assert members.is_empty([]) and members.references([3, 4]).ids == (3, 4)
    assert make("departments").references([7]).kind == "departments"
    problem_at([{"key": "team", "type": "members", "label": L("成员"), "max": 0}], "forms[0].fields[0].max")
    problem_at([{"key": "owner", "type": "member", "label": L("负责人"), "default": 1}],
               "forms[0].fields[0].default", "cannot have a default")


def test_display_uses_names_when_known():
    ctx = ValueContext(names={"users": {3: "李雷"}})
    assert make("members").display([3, 9], ctx) == "李雷、#9"
    assert make("member").export_value(3, ctx) == "李雷"
    assert make("member").display(None, ctx) == ""


def test_default_current_user():
    owner = make("member", default_current_user=True)
    assert owner.initial_value(ValueContext(user_id=42)) == 42
    assert make("member").initial_value(ValueContext(user_id=42)) is None


FIELDS = [
    {"key": "owner", "type": "member", "label": L("负责人", "Owner"), "default_current_user": True},
    {"key": "team", "type": "members", "label": L("成员", "Team")},
    {"key": "dept", "type": "department", "label": L("部门", "Department")},
    {"key": "depts", "type": "departments", "label": L("协作部门", "Departments")},
]


def _org(engine) -> tuple[list[int], list[int]]:
    with engine.begin() as conn:
        users = [conn.execute(system.users.insert().values(account=f"u{i}", name=name, created_at=NOW)
                              .returning(system.users.c.id)).scalar_one()
                 for i, name in enumerate(["李雷", "韩梅梅", "O'Brien; --"])]
        depts = [conn.execute(system.departments.insert().values(name=name, created_at=NOW)
                              .returning(system.departments.c.id)).scalar_one() for name in ["销售部", "市场部"]]
    return users, depts


def test_round_trip_references_and_filters(db):
    lab = Lab(db, FIELDS)
    (li, han, obrien), (sales, market) = _org(db)
    with db.begin() as conn:
        a = lab.records(conn).create("items", {"team": [han, li], "dept": sales, "depts": [sales, market]})
        a = a["id"]
    with db.begin() as conn:
        mine = Records(conn, lab.app, actor=Actor(user_id=obrien), now=NOW).create("items", {"dept": str(market)})
    b, c = mine["id"], lab.create(owner=han, team=f"{obrien}")["id"]
    assert lab.get(a)["fields"] == {"owner": None, "team": [han, li], "dept": sales, "depts": [sales, market]}
    assert mine["fields"]["owner"] == obrien                      # default_current_user
    lab.check_filters("owner", [("eq", obrien, [b]), ("in", [han, obrien], [b, c]), ("ne", han, [a, b]),
                                ("not_in", [obrien], [a, c]), ("empty", None, [a]), ("not_empty", None, [b, c])])
    lab.check_filters("team", [("contains", li, [a]), ("in", [li, obrien], [a, c]), ("eq", [li, han], [a]),
                               ("eq", [li], []), ("ne", han, [b, c]), ("not_in", [obrien], [a, b]),
                               ("empty", None, [b]), ("not_empty", None, [a, c])])
    lab.check_filters("depts", [("contains", market, [a]), ("eq", [sales, market], [a]), ("ne", sales, [b, c]),
                                ("in", [sales], [a]), ("not_in", [sales], [b, c]),
                                ("empty", None, [b, c]), ("not_empty", None, [a])])
    lab.check_filters("dept", [("eq", f"#{market}", [b]), ("ne", sales, [b, c]), ("in", [sales, market], [a, b]),
                               ("not_in", [market], [a, c]), ("empty", None, [c]), ("not_empty", None, [a, b])])
    missing = 10_000
    assert lab.refused({"owner": missing, "team": [li, missing], "dept": missing, "depts": [missing]}) == {
        "owner": "member_missing", "team": "member_missing", "dept": "department_missing",
        "depts": "department_missing"}
    assert lab.update(a, team=None)["fields"]["team"] is None
    assert [i for i in lab.ids(sort="owner") if i != a] == sorted([b, c], key=lambda i: lab.value(i, "owner"))
