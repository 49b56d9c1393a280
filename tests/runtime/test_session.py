"""The unit of work (runtime/session.py) and the actor (runtime/actor.py): after-commit
work runs once, only after a commit; a retried unit of work re-runs the caller's work in
a new transaction; a read unit of work cannot write; the actor's user is the records'
creator, their history's user and CURRENTUSER() in formulas."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.errors import ConcurrentWriteError, FormworkError, ReadOnlyTransactionError
from runtime.actor import Actor, actor_for
from runtime.org import OrgNotFound
from runtime.permissions import FULL_ACCESS, ROLE_POLICY
from runtime.records import Records
from runtime.session import AppNotInstalled, Session
from tests.support.records_app import install_shop


@pytest.fixture
def shop(db):
    return db, install_shop(db)


@pytest.fixture
def staff(db):
    """li.lei: sales_manager and member of 华东 and 华南 (primary, the newer department);
    han.meimei: no roles, no department."""
    def build(uow):
        org = uow.org
        li = org.users.add("li.lei", "李雷", is_admin=True)
        han = org.users.add("han.meimei", "韩梅梅")
        org.roles.create("sales_manager", "销售经理")
        org.roles.create("finance", "财务")
        org.roles.assign("sales_manager", [li])
        east, south = org.departments.create("华东"), org.departments.create("华南")
        org.departments.add_members(east, [li])
        org.departments.add_members(south, [li], primary=True)
        return {"li": li.id, "han": han.id, "east": east.id, "south": south.id}
    return Session(db).write(build)


def _abort_like_a_deadlock(conn) -> None:
    """Make the database abort the transaction as a deadlock does (SQLSTATE 40P01): for
    real on PostgreSQL; SQLite cannot deadlock, so there the error is made by hand."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected (injected by the test)' "
                             "USING ERRCODE = '40P01'; END $$")

    class DeadlockDetected(Exception):
        sqlstate = "40P01"
    raise sa.exc.OperationalError("(injected by the test)", {}, DeadlockDetected("deadlock detected"))


def _names(db, app) -> list[str]:
    with db.connect() as conn:
        return [r["fields"]["name"] for r in Records(conn, app).list("customers", sort="name").records]


# ---- after commit -----------------------------------------------------------------------------

def test_after_commit_runs_once_after_the_commit(shop):
    db, app = shop
    ran = []

    def work(uow):
        uow.records("shop").create("customers", {"name": "甲"})
        uow.after_commit(lambda: ran.append(("first", _names(db, app))))
        uow.after_commit(lambda: ran.append(("second", None)))
        assert ran == []                     # nothing before the commit
        return "done"

    assert Session(db).write(work) == "done"
    assert ran == [("first", ["甲"]), ("second", None)]    # in order, seeing the committed data
    with Session(db).write() as uow:
        uow.records("shop").create("customers", {"name": "乙"})
        uow.after_commit(lambda: ran.append(("block", _names(db, app))))
        assert len(ran) == 2
    assert ran[2:] == [("block", ["乙", "甲"])]


def test_after_commit_never_runs_after_a_rollback(shop):
    db, app = shop
    ran = []
    with pytest.raises(ValueError, match="changed my mind"):
        with Session(db).write() as uow:
            uow.records("shop").create("customers", {"name": "甲"})
            uow.after_commit(lambda: ran.append("block"))
            raise ValueError("changed my mind")

    def refused(uow):
        uow.records("shop").create("customers", {"name": "乙"})
        uow.after_commit(lambda: ran.append("work"))
        uow.records("shop").create("customers", {"credit": "abc"})
    with pytest.raises(FormworkError):
        Session(db).write(refused)
    assert ran == [] and _names(db, app) == []


def test_a_retried_unit_of_work_runs_again_and_only_the_committed_attempt_calls_back(shop):
    db, app = shop
    attempts, ran, pauses = [], [], []

    def work(uow):
        attempts.append(uow)
        number = len(attempts)
        uow.records("shop").create("customers", {"name": f"第{number}次"})
        uow.after_commit(lambda: ran.append(number))
        if number == 1:
            _abort_like_a_deadlock(uow.conn)
        return number

    assert Session(db).write(work, sleep=pauses.append) == 2
    assert ran == [2] and len(pauses) == 1
    assert attempts[0] is not attempts[1] and attempts[0].conn is not attempts[1].conn
    assert _names(db, app) == ["第2次"]


def test_a_unit_of_work_that_keeps_aborting_gives_up_without_calling_back(shop):
    db, app = shop
    ran = []

    def work(uow):
        uow.records("shop").create("customers", {"name": "甲"})
        uow.after_commit(lambda: ran.append(1))
        _abort_like_a_deadlock(uow.conn)

    with pytest.raises(ConcurrentWriteError):
        Session(db).write(work, attempts=3, sleep=lambda pause: None)
    # The block form is run once: an abort is reported as "try again", not run again.
    with pytest.raises(ConcurrentWriteError) as caught:
        with Session(db).write() as uow:
            uow.records("shop").create("customers", {"name": "乙"})
            uow.after_commit(lambda: ran.append(2))
            _abort_like_a_deadlock(uow.conn)
    assert (caught.value.attempts, caught.value.reason) == (1, "deadlock detected")
    assert "请重试" in caught.value.message("zh")
    assert ran == [] and _names(db, app) == []


def test_every_after_commit_callback_runs_and_the_first_error_is_raised(shop):
    db, app = shop
    ran = []

    def work(uow):
        uow.records("shop").create("customers", {"name": "甲"})
        uow.after_commit(lambda: ran.append(1))
        uow.after_commit(lambda: 1 / 0)
        uow.after_commit(lambda: ran.append(3))
        uow.after_commit(lambda: {}["missing"])

    with pytest.raises(ZeroDivisionError) as caught:
        Session(db).write(work)
    assert ran == [1, 3]
    assert "1 more after-commit callback(s) failed too" in caught.value.__notes__[0]
    assert _names(db, app) == ["甲"]            # committed all the same


# ---- reading ------------------------------------------------------------------------------------

def test_a_read_unit_of_work_cannot_write(shop):
    db, app = shop
    Session(db).write(lambda uow: uow.records("shop").create("customers", {"name": "甲"}))
    with Session(db).read() as uow:
        assert uow.records("shop").count("customers").value == 1
        with pytest.raises(ReadOnlyTransactionError):
            uow.records("shop").create("customers", {"name": "乙"})
    with Session(db).read() as uow:
        with pytest.raises(FormworkError, match="open it with session.write"):
            uow.after_commit(lambda: None)
    assert Session(db).read(lambda uow: uow.records("shop").count("customers").value) == 1
    assert _names(db, app) == ["甲"]


def test_records_are_loaded_once_per_unit_of_work_and_an_unknown_app_is_named(shop, count_statements):
    db, app = shop
    with Session(db).read() as uow:
        first = uow.records("shop")
        with count_statements(db) as counter:
            again = uow.records("shop")
        assert again is first and counter.count == 0
        assert uow.app("shop") is first.app and first.app.key == "shop"
        with pytest.raises(AppNotInstalled) as missing:
            uow.records("shpo")
    assert missing.value.message("en") == "app 'shpo' is not installed; run `formwork apply FILE` first"
    assert missing.value.message("zh").startswith("应用“shpo”尚未安装")


# ---- the actor ------------------------------------------------------------------------------------

def test_actor_for_reads_roles_and_departments_in_three_queries(db, staff, count_statements):
    with db.connect() as conn:
        with count_statements(db) as counter:
            li = actor_for(conn, "li.lei")
        han = actor_for(conn, staff["han"], lang="en")
        with pytest.raises(OrgNotFound):
            actor_for(conn, "nobody")
    assert counter.count == 3
    assert (li.user_id, li.account, li.name, li.is_admin, li.is_active) == (staff["li"], "li.lei", "李雷", True, True)
    assert li.roles == {"sales_manager"} and li.has_role("sales_manager") and not li.has_role("finance")
    assert li.department_ids == (staff["south"], staff["east"]) and li.primary_department_id == staff["south"]
    assert (han.roles, han.department_ids, han.primary_department_id, han.lang) == (frozenset(), (), None, "en")
    assert not li.is_system and Actor.system().is_system and Actor.system().is_admin


def test_an_actor_is_frozen_and_speaks_the_workspace_language_unless_told(monkeypatch):
    assert Actor().lang == "zh" and Actor.system().lang == "zh"
    monkeypatch.setenv("FORMWORK_LANGUAGE", "en")
    assert Actor().lang == "en" and Actor.system().lang == "en" and Actor.system("zh").lang == "zh"
    assert Actor(user_id=3).speaking("zh") == Actor(user_id=3, lang="zh")
    with pytest.raises(FormworkError, match="an actor's language is one of zh, en, not 'fr'"):
        Actor(lang="fr")
    with pytest.raises(AttributeError):
        Actor().user_id = 5


def test_the_actor_is_the_creator_the_history_user_and_the_current_user(shop, staff):
    db, app = shop
    li, han = staff["li"], staff["han"]
    # Attribution, not permissions: these sessions are given FULL_ACCESS (a user's session
    # is otherwise under the app's permission sets: tests/runtime/permissions).
    as_li = Session.for_user(db, "li.lei", policy=FULL_ACCESS)
    assert as_li.actor.user_id == li
    made = as_li.write(lambda uow: uow.records("shop").create("customers", {"name": "甲"}))
    assert (made["created_by"], made["updated_by"], made["owner_id"]) == (li, li, li)
    Session.for_user(db, han, policy=FULL_ACCESS).write(lambda uow: uow.records("shop").update("customers", made["id"], {"name": "乙"}))
    Session(db).write(lambda uow: uow.records("shop").create("customers", {"name": "丙"}))
    with Session(db).read() as uow:
        log = uow.records("shop").history("customers", made["id"])
        assert [(e["action"], e["user_id"]) for e in log] == [("create", li), ("update", han)]
        assert uow.records("shop").get("customers", made["id"])["updated_by"] == han
    mine = {"formula": "created_by = CURRENTUSER()"}
    # The system has no user: CURRENTUSER() is empty, as is created_by of what it made.
    for session, expected in ((as_li, ["乙"]), (Session.for_user(db, han, policy=FULL_ACCESS), []),
                              (Session(db), ["丙"])):
        with session.read() as uow:
            assert [r["fields"]["name"] for r in uow.records("shop").list("customers", filter=mine).records] \
                == expected
    with pytest.raises(OrgNotFound):
        Session.for_user(db, "nobody")
    assert Session.for_user(db, None).actor.is_system
    assert Session.for_user(db, None).policy is FULL_ACCESS and Session(db).policy is FULL_ACCESS
    assert Session.for_user(db, "li.lei").policy is ROLE_POLICY
