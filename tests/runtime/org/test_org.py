"""The org service (runtime/org) on SQLite and PostgreSQL: users, the department
tree, heads and managers, memberships, roles; errors, edges and statement counts."""
import threading
import uuid

import pytest
import sqlalchemy as sa

from engine.errors import RecordValidationError
from engine.storage import system
from engine.storage.db import make_engine
from runtime.auth import epoch_of
from runtime.org import MAX_DEPTH, Org, OrgConflict, OrgNotFound, subtree_ids_select
from runtime.org.users import Users

HOSTILE = ["Robert'); DROP TABLE fw_users;--", "100% _done_", "<script>alert(1)</script>",
           "王\\小明", "Ω≈ç√ 😀 名字"]


def issue_codes(exc: RecordValidationError) -> dict[str, str]:
    return {(f"{i.field}[{i.row}].{i.subfield}" if i.row is not None else i.field): i.code for i in exc.issues}


@pytest.fixture
def company(db):
    """总部 (boss) / 销售部 (sales.head) / 华东组 (east.head: alice, bob), 华南组 (no head: carol);
    总部 / 客户成功部 (dave)."""
    with db.begin() as conn:
        org = Org(conn)
        org.users.add_many([{"account": a, "name": n} for a, n in [
            ("boss", "老板"), ("sales.head", "销售总监"), ("east.head", "华东组长"), ("alice", "爱丽丝"),
            ("bob", "鲍勃"), ("carol", "卡罗尔"), ("dave", "戴夫")]])
        org.departments.create("总部", head="boss")
        org.departments.create("销售部", "总部", head="sales.head")
        org.departments.create("华东组", "总部/销售部", head="east.head")
        org.departments.create("华南组", "总部/销售部")
        org.departments.create("客户成功部", "总部")
        org.departments.add_members("华东组", ["alice", "bob"])
        org.departments.add_members("华南组", ["carol"])
        org.departments.add_members("客户成功部", ["dave"])
    return db


# ---- users -----------------------------------------------------------------------------
def test_add_user_canonicalises_and_never_returns_the_hash(db):
    with db.begin() as conn:
        user = Org(conn).users.add("  Ｌｉ.Lei ", " 李雷 ", email="Li.Lei@Example.COM",
                                   phone="138 1234 5678", password="correct horse")
        stored = conn.execute(sa.select(system.users.c.password_hash)).scalar_one()
    assert (user.account, user.name, user.email, user.phone) == \
        ("li.lei", "李雷", "li.lei@example.com", "13812345678")  # as email and phone fields store them
    assert not hasattr(user, "password_hash") and "correct horse" not in stored
    assert stored.startswith("scrypt:")
    with db.connect() as conn:
        users = Org(conn).users
        assert users.check_password("LI.LEI", "correct horse").id == user.id
        assert users.check_password("li.lei", "wrong horse!") is None
        assert users.check_password("nobody", "correct horse") is None
        users.deactivate(["li.lei"])
        assert users.check_password("li.lei", "correct horse") is None


def test_every_problem_of_a_user_is_reported_at_once(db):
    with db.begin() as conn, pytest.raises(RecordValidationError) as caught:
        Org(conn).users.add("1abc", "a\u202eb", email="li@", phone="12345", password="short")
    assert issue_codes(caught.value) == {"account": "org_account_invalid", "name": "org_name_invalid",
                                         "email": "email_invalid", "phone": "phone_invalid",
                                         "password": "org_password_too_short"}
    zh = caught.value.as_dict("zh")["issues"][0]["message"]
    assert "以字母开头" in zh and "starting with a letter" in str(caught.value)
    with db.begin() as conn, pytest.raises(RecordValidationError) as caught:
        Org(conn).users.add("", "  ", password="aaaaaaaaaa")
    assert issue_codes(caught.value) == {"account": "required", "name": "required", "password": "org_password_weak"}
    with db.begin() as conn, pytest.raises(RecordValidationError) as caught:
        Org(conn).users.add("x" * 65, "名" * 101)
    assert issue_codes(caught.value) == {"account": "org_account_invalid", "name": "org_name_too_long"}


def test_duplicate_accounts_are_refused_with_the_account_named(db):
    with db.begin() as conn:
        Org(conn).users.add("li.lei", "李雷")
    with db.begin() as conn, pytest.raises(RecordValidationError) as caught:
        Org(conn).users.add("LI.LEI", "另一个李雷")
    assert issue_codes(caught.value) == {"account": "org_account_taken"}
    assert "'li.lei' is already taken" in str(caught.value)
    with db.begin() as conn, pytest.raises(RecordValidationError) as caught:
        Org(conn).users.add_many([{"account": "han", "name": "韩"}, {"account": "li.lei", "name": "李"},
                                  {"account": "Han", "name": "韩二"}, {"account": "ok", "name": "a\nb"}])
    assert issue_codes(caught.value) == {"users[1].account": "org_account_taken",
                                         "users[2].account": "org_account_taken", "users[3].name": "org_name_invalid"}
    with db.connect() as conn:   # all or nothing
        assert conn.execute(sa.select(sa.func.count()).select_from(system.users)).scalar_one() == 1


def test_the_unique_constraint_backs_the_check_with_a_clear_error(db, monkeypatch):
    """When another transaction takes the account between our check and our insert,
    the unique constraint refuses it: an OrgConflict, and the transaction lives on."""
    with db.begin() as conn:
        Org(conn).users.add("li.lei", "李雷")
    real_taken = Users._taken
    monkeypatch.setattr(Users, "_taken", lambda self, accounts: set())   # the check sees nothing
    with db.begin() as conn:
        org = Org(conn)
        with pytest.raises(OrgConflict) as caught:
            org.users.add("li.lei", "另一个")
        monkeypatch.setattr(Users, "_taken", real_taken)
        assert caught.value.code == "org_account_taken" and "li.lei" in str(caught.value)
        assert "已被使用" in caught.value.message("zh")
        org.users.add("han", "韩梅梅")      # the savepoint kept the transaction usable
    with db.connect() as conn:
        assert sorted(conn.execute(sa.select(system.users.c.account)).scalars()) == ["han", "li.lei"]


def test_two_connections_racing_for_one_account(db_url):
    """PostgreSQL: the second transaction passes the check, then waits on the unique
    index until the first commits, and gets the coded conflict (not IntegrityError)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE: no race to lose")
    from engine.storage.system_upgrade import upgrade_system
    tag = f"fw_race_{uuid.uuid4().hex[:8]}"
    first = make_engine(db_url)
    second = make_engine(db_url, connect_args={"application_name": tag})
    upgrade_system(first)
    outcome: list[BaseException | None] = []

    def racer():
        try:
            with second.begin() as conn:
                Org(conn).users.add("li.lei", "第二个李雷")
            outcome.append(None)
        except BaseException as exc:   # reported to the main thread
            outcome.append(exc)
    with first.begin() as conn:
        Org(conn).users.add("li.lei", "李雷")
        thread = threading.Thread(target=racer)
        thread.start()
        _wait_until_blocked(first, tag, thread)
    thread.join(timeout=90)
    first.dispose()
    second.dispose()
    assert len(outcome) == 1 and isinstance(outcome[0], OrgConflict), outcome
    assert outcome[0].code == "org_account_taken" and "li.lei" in str(outcome[0])


def _wait_until_blocked(engine, application_name: str, thread: threading.Thread) -> None:
    """Wait (up to 90 s: a loaded CI machine may take long to start the racer's first
    connection) until the racing connection waits for a lock."""
    import time
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                    "AND wait_event_type = 'Lock'")
    with engine.connect() as probe:
        for _ in range(900):
            if probe.execute(query, {"name": application_name}).scalar_one() or not thread.is_alive():
                return
            time.sleep(0.1)
    raise AssertionError("the second transaction never reached the unique index")


def test_add_many_uses_a_fixed_number_of_statements(db, count_statements):
    counts = {}
    for n in (3, 300):
        with db.begin() as conn, count_statements(db) as counter:
            Org(conn).users.add_many([{"account": f"u{n}x{i}", "name": f"用户{i}", "phone": f"1380000{i:04d}"}
                                      for i in range(n)])
        counts[n] = counter.count
    assert counts[3] == counts[300] <= 3


def test_resolving_users_by_id_account_and_name(company):
    with company.connect() as conn:
        users = Org(conn).users
        alice = users.get("alice")
        assert users.get(alice.id) == users.get(f"#{alice.id}") == users.get(str(alice.id)) == alice
        assert users.get("爱丽丝") == users.get("ALICE") == alice
        assert users.ids(["alice", alice.id, "bob"]) == [alice.id, users.get("bob").id]
        with pytest.raises(OrgNotFound) as caught:
            users.get("alise")
        assert caught.value.suggestion == "alice" and "did you mean 'alice'" in str(caught.value)
        with pytest.raises(OrgNotFound, match="#999"):
            users.get(999)
    with company.begin() as conn:
        Org(conn).users.add("alice2", "爱丽丝")
    with company.connect() as conn, pytest.raises(OrgNotFound) as caught:
        Org(conn).users.get("爱丽丝")
    assert caught.value.code == "org_user_ambiguous" and "alice, alice2" in str(caught.value)
    with company.connect() as conn:
        found, ambiguous = Org(conn).users.lookup(["alice", "鲍勃", "爱丽丝", "nobody"])
        assert set(found) == {"alice", "鲍勃"} and ambiguous == {"爱丽丝": ["alice", "alice2"]}


def test_edit_deactivate_reactivate(company):
    with company.begin() as conn:
        users = Org(conn).users
        edited = users.edit("alice", name="艾丽丝", email="alice@example.com", phone="010 1234 5678")
        assert (edited.name, edited.email, edited.phone) == ("艾丽丝", "alice@example.com", "010-12345678")
        assert users.edit("alice", email="", phone=None).email is None
        assert users.edit("alice", account="Alice.W").account == "alice.w"
        with pytest.raises(RecordValidationError) as caught:
            users.edit("alice.w", account="bob", email="nope")
        assert issue_codes(caught.value) == {"account": "org_account_taken", "email": "email_invalid"}
        with pytest.raises(TypeError):
            users.edit("bob", password_hash="x")
        assert users.deactivate(["bob", "carol", "bob"]) == 2
        assert users.deactivate(["bob"]) == 0
        assert [u.account for u in users.list(active=False).users] == ["bob", "carol"]
        assert users.reactivate(["carol"]) == 1


def test_listing_searches_and_pages(company):
    with company.begin() as conn:
        users = Org(conn).users
        users.add_many([{"account": f"staff{i:02d}", "name": name} for i, name in enumerate(HOSTILE)])
        page = users.list(search="STAFF", limit=2, offset=2)
        assert page.total == len(HOSTILE) and [u.account for u in page.users] == ["staff02", "staff03"]
        # LIKE wildcards and quotes in a search are plain text
        assert [u.name for u in users.list(search="% _").users] == ["100% _done_"]
        assert users.list(search="'); DROP").users[0].name == HOSTILE[0]
        assert users.list(search="\\小").users[0].name == "王\\小明"
        assert users.list(search="%%%").total == 0
        for name in HOSTILE:   # stored and found verbatim
            assert users.get(name).name == name
    with company.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(system.users)).scalar_one() == 7 + len(HOSTILE)


def test_passwords_are_checked_and_replaced(company):
    with company.begin() as conn:
        users = Org(conn).users
        with pytest.raises(RecordValidationError) as caught:
            users.set_password("alice", "alice")
        assert issue_codes(caught.value) == {"password": "org_password_too_short"}
        with pytest.raises(RecordValidationError):
            users.set_password("alice", "x" * 129)
        users.set_password("alice", "new secret 1")
        assert users.check_password("alice", "new secret 1").account == "alice"


# ---- departments -----------------------------------------------------------------------
def test_tree_paths_and_resolution(company):
    with company.connect() as conn:
        depts = Org(conn).departments
        tree = depts.tree()
        assert [(n.path, n.depth, n.head.account if n.head else None, n.member_count)
                for root in tree for n in root.walk()] == [
            ("总部", 0, "boss", 1), ("总部/销售部", 1, "sales.head", 1), ("总部/销售部/华东组", 2, "east.head", 3),
            ("总部/销售部/华南组", 2, None, 1), ("总部/客户成功部", 1, None, 1)]
        east = depts.get("总部/销售部/华东组")
        assert depts.get("华东组") == depts.get(east.id) == depts.get(f"#{east.id}") == depts.get("/总部/销售部/华东组/")
        assert depts.path(east) == "总部/销售部/华东组" and depts.get("销售部/华东组") == east
        with pytest.raises(OrgNotFound):
            depts.get("/销售部/华东组")        # a leading / insists on a path from the root
        assert [n.path for n in depts.tree("销售部")[0].walk()][1:] == ["总部/销售部/华东组", "总部/销售部/华南组"]
        with pytest.raises(OrgNotFound) as caught:
            depts.get("总部/销售部/华东")
        assert caught.value.suggestion in ("华东组", "总部/销售部/华东组")
        with pytest.raises(OrgNotFound, match="No department '#4242'"):
            depts.get(4242)


def test_create_rename_and_name_rules(company):
    with company.begin() as conn:
        depts = Org(conn).departments
        with pytest.raises(OrgConflict) as caught:
            depts.create("华东组", "销售部")
        assert "'总部/销售部' already has a department named '华东组'" in str(caught.value)
        with pytest.raises(RecordValidationError) as caught:
            depts.create("华东/华南", "销售部")
        assert issue_codes(caught.value) == {"name": "org_department_name_slash"}
        with pytest.raises(RecordValidationError):
            depts.create("\t", "销售部")
        other = depts.create("华东组", "客户成功部")     # the same name under another parent is fine
        with pytest.raises(OrgNotFound) as caught:
            depts.get("华东组")
        assert caught.value.code == "org_department_ambiguous"
        assert "总部/客户成功部/华东组; 总部/销售部/华东组" in str(caught.value)
        assert depts.rename(other, "华东服务组").name == "华东服务组"
        with pytest.raises(OrgConflict):
            depts.rename("华南组", "华东组")
        hostile = "dave's 😀 <b>组<\\b> '); DROP TABLE fw_departments;--"
        depts.rename("华东服务组", hostile)
        assert depts.get(hostile).parent_id == depts.get("客户成功部").id
        assert depts.path(f"客户成功部/{hostile}") == f"总部/客户成功部/{hostile}"


def test_move_refuses_cycles_and_keeps_order(company):
    with company.begin() as conn:
        depts = Org(conn).departments
        for target in ("销售部", "华东组"):
            with pytest.raises(OrgConflict) as caught:
                depts.move("销售部", target)
            assert caught.value.code == "org_department_cycle"
        assert "不能把部门“总部/销售部”移到“总部/销售部/华东组”之下" in caught.value.message("zh")
        depts.move("华南组", "总部", position=0)
        assert [c.department.name for c in depts.tree()[0].children] == ["华南组", "销售部", "客户成功部"]
        depts.move("华南组", "总部")     # to the end
        assert [c.department.name for c in depts.tree()[0].children] == ["销售部", "客户成功部", "华南组"]
        root = depts.move("销售部", None)
        assert root.parent_id is None and [r.department.name for r in depts.tree()] == ["总部", "销售部"]
        assert depts.path("华东组") == "销售部/华东组"
        depts.create("华南组", "销售部")
        with pytest.raises(OrgConflict, match="already has a department named '华南组'"):
            depts.move("销售部/华南组", "总部")


def test_deep_trees_are_bounded_and_queried_in_one_statement(db, count_statements):
    with db.begin() as conn:
        depts = Org(conn).departments
        parent = None
        for level in range(MAX_DEPTH):
            parent = depts.create(f"第{level + 1}层", parent)
        with pytest.raises(OrgConflict) as caught:
            depts.create("太深了", parent)
        assert caught.value.code == "org_department_too_deep"
        side = depts.create("旁支", None)
        with pytest.raises(OrgConflict, match="at most 50 levels"):
            depts.move("第1层", side)
    with db.connect() as conn, count_statements(db) as counter:
        ids = Org(conn).departments.descendant_ids(1)
    assert len(ids) == MAX_DEPTH and counter.count == 2        # the id check + the recursive CTE
    with db.connect() as conn:
        assert len(Org(conn).departments.ancestors(parent)) == MAX_DEPTH
        assert Org(conn).departments.path(parent).count("/") == MAX_DEPTH - 1


def test_tree_and_subtree_queries_do_not_grow_with_the_org(db, count_statements):
    counts = {}
    for width in (2, 20):
        with db.begin() as conn:
            org = Org(conn)
            top = org.departments.create(f"公司{width}")
            staff = org.users.add_many([{"account": f"w{width}u{i}", "name": f"员工{i}"} for i in range(width * 3)])
            for i in range(width):
                child = org.departments.create(f"部门{i}", top)
                grandchild = org.departments.create("小组", child)
                org.departments.add_members(grandchild, staff[i * 3:i * 3 + 3])
        with db.connect() as conn, count_statements(db) as counter:
            org = Org(conn)
            nodes = list(org.departments.tree(top.id)[0].walk())
            members = org.departments.members(top.id, recursive=True)
            chains = org.departments.manager_chains([u.id for u in staff])
            memberships = org.departments.memberships_of([u.id for u in staff])
        assert len(nodes) == 1 + 2 * width and len(members) == width * 3 and len(chains) == width * 3
        assert all(len(m) == 1 for m in memberships.values())
        counts[width] = counter.count
    assert counts[2] == counts[20] <= 8


def test_subtree_select_composes_into_other_queries(company):
    with company.connect() as conn:
        sales = Org(conn).departments.get("销售部").id
        dm = system.department_members
        count = conn.execute(sa.select(sa.func.count(sa.distinct(dm.c.user_id)))
                             .where(dm.c.department_id.in_(subtree_ids_select([sales])))).scalar_one()
    assert count == 5   # sales.head, east.head, alice, bob, carol


def test_delete_only_empty_departments(company):
    with company.begin() as conn:
        depts = Org(conn).departments
        with pytest.raises(OrgConflict) as caught:
            depts.delete("销售部")
        assert "'总部/销售部' still has 2 sub-department(s) and 1 member(s)" in str(caught.value)
        with pytest.raises(OrgConflict, match="0 sub-department.* and 1 member"):
            depts.delete("华南组")
        assert depts.remove_members("华南组", ["carol"]) == 1
        depts.delete("华南组")
        with pytest.raises(OrgNotFound):
            depts.get("华南组")


def test_heads_members_and_primary_departments(company):
    with company.begin() as conn:
        org = Org(conn)
        depts = org.departments
        assert depts.head_of("华东组").account == "east.head"
        assert depts.add_members("华南组", ["alice", "bob", "carol"]) == 2
        alice = org.users.get("alice")
        assert [(m.path, m.is_primary) for m in depts.memberships(alice)] == [
            ("总部/销售部/华东组", True), ("总部/销售部/华南组", False)]
        depts.set_primary("alice", "华南组")
        assert [(m.path, m.is_primary) for m in depts.memberships(alice)] == [
            ("总部/销售部/华南组", True), ("总部/销售部/华东组", False)]
        depts.remove_members("华南组", ["alice"])      # her primary department: another is promoted
        assert [(m.path, m.is_primary) for m in depts.memberships(alice)] == [("总部/销售部/华东组", True)]
        depts.set_head("华南组", "carol")
        depts.remove_members("华南组", ["carol"])      # a head who leaves is no longer head
        assert depts.head_of("华南组") is None
        org.users.deactivate(["dave"])
        with pytest.raises(OrgConflict, match="'dave' is deactivated"):
            depts.set_head("客户成功部", "dave")
        assert [u.account for u in depts.members("客户成功部")] == []
        assert [u.account for u in depts.members("客户成功部", active_only=False)] == ["dave"]
        assert [u.account for u in depts.members("销售部", recursive=True)] == [
            "alice", "bob", "east.head", "sales.head"]
        assert depts.clear_head("华东组").head_user_id is None


def test_managers_walk_up_the_chain(company):
    with company.begin() as conn:
        org = Org(conn)
        depts = org.departments
        chain = lambda who: [u.account for u in depts.manager_chain(who)]   # noqa: E731
        assert chain("alice") == ["east.head", "sales.head", "boss"]
        assert chain("east.head") == ["sales.head", "boss"]          # not their own manager
        assert chain("carol") == ["sales.head", "boss"]              # 华南组 has no head
        assert chain("boss") == [] and depts.manager_of("boss") is None
        assert depts.manager_of("alice", level=2).account == "sales.head"
        assert depts.manager_of("alice", level=4) is None
        org.users.deactivate(["sales.head"])                        # skipped while deactivated
        assert chain("alice") == ["east.head", "boss"]
        org.users.add("nobody.home", "无部门")
        assert chain("nobody.home") == []
        depts.set_head("华南组", "boss")                              # repeats are dropped
        assert chain("carol") == ["boss"]


# ---- roles -------------------------------------------------------------------------------
def test_roles(company):
    with company.begin() as conn:
        org = Org(conn)
        roles = org.roles
        manager = roles.create("sales_manager", "销售经理", "审批折扣")
        with pytest.raises(RecordValidationError) as caught:
            roles.create("Sales Manager", "")
        assert issue_codes(caught.value) == {"key": "org_role_key_invalid", "name": "required"}
        with pytest.raises(RecordValidationError) as caught:
            roles.create("sales_manager", "重复")
        assert issue_codes(caught.value) == {"key": "org_role_key_taken"}
        assert roles.get("销售经理") == roles.get(manager.id) == manager
        with pytest.raises(OrgNotFound) as caught:
            roles.get("sales_manger")
        assert caught.value.suggestion == "sales_manager"
        assert roles.assign("sales_manager", ["alice", "bob", "alice"]) == 2
        assert roles.assign(manager, ["bob", "carol"]) == 1
        assert [u.account for u in roles.members(manager)] == ["alice", "bob", "carol"]
        roles.create("finance", "财务")
        roles.assign("finance", ["alice"])
        by_user = roles.roles_of_many([org.users.get("alice").id, org.users.get("dave").id])
        assert [[r.key for r in rs] for rs in by_user.values()] == [["finance", "sales_manager"], []]
        org.users.deactivate(["carol"])
        assert [(r.key, n) for r, n in roles.list()] == [("finance", 1), ("sales_manager", 2)]
        assert roles.unassign("sales_manager", ["bob", "dave"]) == 1
        assert roles.rename("finance", "财务部", description="").description is None
        with pytest.raises(OrgConflict) as caught:
            roles.delete("sales_manager")
        assert caught.value.code == "org_role_not_empty" and "2 member(s)" in str(caught.value)
        roles.delete("sales_manager", force=True)
        assert [r.key for r, _ in roles.list()] == ["finance"]


def test_errors_render_in_both_languages(company):
    with company.connect() as conn, pytest.raises(OrgNotFound) as caught:
        Org(conn).departments.get("销售不")
    data = caught.value.as_dict("zh")
    assert data["error"] == "org_department_not_found" and data["message"].startswith("找不到部门“销售不”")
    assert data["message_en"] == "No department '销售不' (did you mean '销售部'?)"


def test_the_sample_data_organisation_is_built_through_the_service(db):
    """runtime/seed makes its sales organisation with Org: deterministic, reused on a re-run."""
    import random

    from faker import Faker

    from runtime.seed.crm_referral import DEPARTMENTS, _organisation

    def build():
        fake = Faker("zh_CN")
        fake.seed_instance(42)
        return _organisation(db, fake, random.Random(42), 700, 42)
    with db.begin() as conn:   # an organisation the user built first is kept and reused
        org = Org(conn)
        org.departments.create("总部", head=org.users.add("ceo", "总经理"))
    staff, departments = build()
    assert build() == (staff, departments) and len(staff) == 7 and len(departments) == len(DEPARTMENTS)
    with db.connect() as conn:
        org = Org(conn)
        assert [n.path for root in org.departments.tree() for n in root.walk()] == [
            "总部", "总部/销售部", "总部/销售部/华东大区", "总部/销售部/华南大区", "总部/销售部/华北大区", "总部/客户成功部"]
        assert org.departments.head_of("总部").account == "ceo" and org.users.list().total == 8
        for region in ("华东大区", "华南大区", "华北大区"):
            head = org.departments.head_of(region)
            assert head.id in staff and head in org.departments.members(region)
        chains = org.departments.manager_chains(staff)
        for uid in staff:   # up to the head the user had put on top, never oneself, no repeats
            ids = [u.id for u in chains[uid]]
            assert chains[uid][-1].account == "ceo" and uid not in ids and len(set(ids)) == len(ids)
        assert sum(m.is_primary for ms in org.departments.memberships_of(staff).values() for m in ms) == len(staff)


def test_large_id_sets_are_read_in_batches_and_writes_are_bounded(db):
    from runtime.org._sql import MAX_BATCH
    with db.begin() as conn:
        org = Org(conn)
        ann = org.users.add("ann", "安")
        many = list(range(1, 2 * MAX_BATCH + 500))       # more than one IN list can bind on SQLite
        assert org.users.by_ids(many) == {ann.id: ann} and org.users.names(many) == {ann.id: "安"}
        assert org.departments.memberships_of(many)[ann.id] == [] and org.roles.roles_of_many(many)[ann.id] == []
        assert org.departments.manager_chains(many)[ann.id] == []
        with pytest.raises(OrgConflict) as caught:
            org.roles.assign(org.roles.create("crowd", "人群"), many)
        assert caught.value.code == "org_too_many" and "split the batch" in str(caught.value)



def test_resetting_a_password_gives_a_generated_one_and_ends_sessions(db):
    with db.begin() as conn:
        users = Org(conn).users
        user = users.add("li.lei", "李雷", password="correct-horse-9")
        before = epoch_of(conn, user.id)
        password = users.reset_password(user.id)
        assert len(password) >= 12 and users.check_password("li.lei", password) is not None
        assert users.check_password("li.lei", "correct-horse-9") is None
        assert epoch_of(conn, user.id) > before
        assert users.reset_password(user.id) != password
