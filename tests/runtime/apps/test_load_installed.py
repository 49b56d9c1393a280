"""Loading an installed app on a warm process: the compiled app is kept per installed
version, so a request pays one short query and no parse; an upgrade gives a new one."""
import copy

from engine.compiled import compiled
from engine.compiled.app import AppCache
from engine.definition.model import AppDef
from runtime.apps import apply_app, load_installed
from tests.support.records_app import DEFINITION, install_shop


def test_a_warm_load_is_one_query_and_the_same_compiled_app(db, count_statements):
    install_shop(db)
    with db.connect() as conn:
        first = load_installed(conn, "shop")
        with count_statements(db) as counted:
            again = load_installed(conn, "shop")
    assert again is first
    assert counted.count == 1        # the installed version and checksum, not the definition


def test_an_upgrade_loads_the_new_version_compiled_afresh(db):
    install_shop(db)
    with db.connect() as conn:
        before = load_installed(conn, "shop")
    doc = copy.deepcopy(DEFINITION)
    customers = next(f for f in doc["forms"] if f["key"] == "customers")
    customers["fields"].append({"key": "city", "type": "text", "label": {"zh": "城市", "en": "City"}})
    apply_app(db, AppDef.from_dict(doc))
    with db.connect() as conn:
        after = load_installed(conn, "shop")
    assert after is not before and after.version == before.version + 1
    assert after.require_form("customers").field("city") is not None
    assert before.require_form("customers").field("city") is None


def test_a_definition_is_compiled_once_and_an_app_is_its_own_compiled_app():
    definition = AppDef.from_dict(copy.deepcopy(DEFINITION))
    app = compiled(definition)
    assert compiled(definition) is app and compiled(app) is app
    assert compiled(AppDef.from_dict(copy.deepcopy(DEFINITION))) is not app   # by identity, not by content


def test_the_cache_keeps_the_most_recently_used():
    cache = AppCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1          # "a" is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
