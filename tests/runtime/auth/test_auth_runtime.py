"""runtime/auth: API keys, the sign-in throttle and session epochs, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from engine.errors import FieldError
from engine.storage.types import utcnow
from runtime.auth import ApiKeys, SignInThrottle, bump_epochs, epoch_of
from runtime.auth.api_keys import ApiKeyNotFound, InactiveKeyOwner, TOUCH_EVERY
from runtime.auth.sign_in import attempt_sign_in
from runtime.auth.throttle import ACCOUNT_LIMIT, ADDRESS_LIMIT, LOCK_FOR, WINDOW
from runtime.session import Session
from tests.support.web import PASSWORD, add_user


def test_key_verifies_until_revoked(db):
    user_id = add_user(db)
    with db.begin() as conn:
        keys = ApiKeys(conn)
        key, secret = keys.create(user_id, "  sync   job ")
        assert key.name == "sync job" and secret.startswith(f"fwk_{key.prefix}_")
        assert keys.verify(secret) == user_id
        assert keys.verify(secret + "x") is None and keys.verify("") is None
        keys.revoke(key.id)
        assert keys.verify(secret) is None
        assert keys.revoke(key.id).revoked_at is not None          # again is harmless
        with pytest.raises(ApiKeyNotFound):
            keys.revoke(key.id + 1)


def test_last_use_is_written_at_most_once_a_minute(db):
    user_id = add_user(db)
    start = utcnow()
    with db.begin() as conn:
        key, secret = ApiKeys(conn, now=start).create(user_id, "k")
        ApiKeys(conn, now=start).verify(secret)
        ApiKeys(conn, now=start + TOUCH_EVERY / 2).verify(secret)
        assert ApiKeys(conn).get(key.id).last_used_at == start
        ApiKeys(conn, now=start + TOUCH_EVERY).verify(secret)
        assert ApiKeys(conn).get(key.id).last_used_at == start + TOUCH_EVERY


def test_no_key_for_a_deactivated_user(db):
    user_id = add_user(db)
    with Session(db).write() as uow:
        uow.org.users.deactivate([user_id])
    with db.begin() as conn, pytest.raises(InactiveKeyOwner, match="deactivated"):
        ApiKeys(conn).create(user_id, "k")


def test_a_key_name_is_required(db):
    user_id = add_user(db)
    with db.begin() as conn, pytest.raises(FieldError):
        ApiKeys(conn).create(user_id, " ")


def test_epochs_rise_for_many_users_in_a_fixed_number_of_statements(db, count_statements):
    ids = [add_user(db, f"user{i}", f"用户{i}") for i in range(5)]
    with db.begin() as conn:
        bump_epochs(conn, ids[:2])
        with count_statements(db) as counted:
            bump_epochs(conn, ids)
        assert counted.count == 3
        assert [epoch_of(conn, i) for i in ids] == [2, 2, 1, 1, 1]


def test_throttle_locks_an_account_and_forgets_old_failures(db):
    start = utcnow()
    with db.begin() as conn:
        for n in range(ACCOUNT_LIMIT - 1):
            assert SignInThrottle(conn, now=start).failed("Li.Lei", "10.0.0.1") is None
        lock = SignInThrottle(conn, now=start).failed("li.lei", "10.0.0.2")
        assert lock is not None and lock.until == start + LOCK_FOR and lock.minutes == 15
        assert SignInThrottle(conn, now=start + LOCK_FOR).locked("li.lei", "10.0.0.3") is None
        later = start + LOCK_FOR + WINDOW
        assert SignInThrottle(conn, now=later).failed("li.lei", "10.0.0.4") is None
        assert SignInThrottle(conn, now=later).failures("li.lei", "10.0.0.4") == 1


def test_throttle_locks_an_address_across_accounts(db):
    start = utcnow()
    with db.begin() as conn:
        for n in range(ADDRESS_LIMIT - 1):
            assert SignInThrottle(conn, now=start).failed(f"user{n}", "10.9.9.9") is None
        assert SignInThrottle(conn, now=start).failed("another", "10.9.9.9") is not None
        assert SignInThrottle(conn, now=start).locked("fresh.account", "10.9.9.9") is not None
        assert SignInThrottle(conn, now=start).locked("fresh.account", "10.0.0.1") is None


def test_attempt_sign_in(db):
    user_id = add_user(db)
    with db.begin() as conn:
        assert not attempt_sign_in(conn, "li.lei", "wrong", "1.1.1.1").ok
        result = attempt_sign_in(conn, "li.lei", PASSWORD, "1.1.1.1")
        assert result.ok and result.user.id == user_id and result.epoch == 0
        assert SignInThrottle(conn).failures("li.lei", "2.2.2.2") == 0

