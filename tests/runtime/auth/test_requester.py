"""runtime/auth/requester.py: who a request comes from in one SELECT gives the same Actor
as actor_for (three), with the session epoch; a key answers only while unrevoked and its
user active; ApiKeys.note_use writes at most once a minute. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from engine.storage.types import utcnow
from runtime.actor import actor_for
from runtime.auth import ApiKeys, bump_epochs
from runtime.auth.api_keys import TOUCH_EVERY
from runtime.auth.requester import key_user, session_user
from runtime.session import Session
from tests.support.web import add_user


def _member_of_two_roles_and_departments(db) -> int:
    user_id = add_user(db)
    with Session(db).write() as uow:
        for key in ("sales", "auditor"):
            uow.org.roles.create(key, key)
            uow.org.roles.assign(key, [user_id])
        first = uow.org.departments.create("华东")
        second = uow.org.departments.create("华北")
        uow.org.departments.add_members(first.id, [user_id])
        uow.org.departments.add_members(second.id, [user_id], primary=True)
    return user_id


def test_a_session_user_is_the_actor_actor_for_gives_with_the_epoch(db, count_statements):
    user_id = _member_of_two_roles_and_departments(db)
    with db.begin() as conn:
        bump_epochs(conn, [user_id])
    with db.connect() as conn:
        expected = actor_for(conn, user_id, lang="en")
        with count_statements(db) as counter:
            found = session_user(conn, user_id, lang="en")
    assert counter.count == 1
    assert found.actor == expected and found.epoch == 1
    assert found.actor.roles == {"sales", "auditor"} and len(found.actor.department_ids) == 2
    with db.connect() as conn:
        assert session_user(conn, 999_999) is None and session_user(conn, "li.lei") is None


def test_a_key_user_until_revoked_or_deactivated(db):
    user_id = _member_of_two_roles_and_departments(db)
    with db.begin() as conn:
        key, secret = ApiKeys(conn).create(user_id, "sync")
    with db.connect() as conn:
        found = key_user(conn, secret, lang="zh")
        expected = actor_for(conn, user_id, lang="zh")
        assert found.actor == expected and found.key_id == key.id and found.touch_due
        assert key_user(conn, secret + "x") is None and key_user(conn, "") is None
    with Session(db).write() as uow:
        uow.org.users.deactivate([user_id])          # revokes the keys too
    with db.begin() as conn:
        assert key_user(conn, secret) is None


def test_note_use_writes_only_when_the_last_is_a_minute_old(db):
    user_id = add_user(db)
    start = utcnow()
    with db.begin() as conn:
        key, secret = ApiKeys(conn).create(user_id, "k")
        assert ApiKeys(conn, now=start).note_use(key.id)
        assert not ApiKeys(conn, now=start + TOUCH_EVERY / 2).note_use(key.id)
        assert not key_user(conn, secret, now=start + TOUCH_EVERY / 2).touch_due
        assert key_user(conn, secret, now=start + TOUCH_EVERY + timedelta(seconds=1)).touch_due
        assert ApiKeys(conn, now=start + TOUCH_EVERY).note_use(key.id)
        assert ApiKeys(conn).get(key.id).last_used_at == start + TOUCH_EVERY
