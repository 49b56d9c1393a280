"""GET /api/v1/apps/{app}/referrals/tree/{customer_id} and .../referrals/referrers: the
referral analytics as the document says, counting only the caller's customers (a
row-scoped policy); a customer they may not see is 404, a bad `top` 400 naming it."""
from __future__ import annotations

import itertools

import pytest

from tests.support.web_api import OwnRowsPolicy, api_world, assert_answer_matches

BASE = "/api/v1/apps/crm_referral/referrals"
PHONES = itertools.count(1)


@pytest.fixture
def scoped(db):
    made = api_world(db, FORMWORK_API_RATE="off", FORMWORK_POLICY=OwnRowsPolicy())
    yield made
    made.dispose()


def chain(world, who: str, *names: str) -> list[int]:
    ids: list[int] = []
    for i, name in enumerate(names):
        ids.append(world.create({"name": name, "kind": "person", "phone": f"139{next(PHONES):08d}",
                                 "referrer": ids[-1] if ids else None}, who=who)["id"])
    return ids


def test_the_tree_and_the_referrers_of_the_callers_customers(scoped):
    li = chain(scoped, "li", "老王", "小李", "小张")
    han = chain(scoped, "han", "老韩", "小韩")
    tree = scoped.client.get(f"{BASE}/tree/{li[0]}", headers=scoped.headers("li"))
    assert tree.status_code == 200, tree.json
    assert_answer_matches(scoped.document("li"), "ReferralTree", tree)
    assert [(n["name"], n["depth"], n["value"]) for n in tree.json["nodes"]] == [
        ("老王", 0, "0.00"), ("小李", 1, "0.00"), ("小张", 2, "0.00")]
    chains = scoped.client.get(f"{BASE}/referrers?top=5&lang=en", headers=scoped.headers("li"))
    assert chains.status_code == 200, chains.json
    assert_answer_matches(scoped.document("li"), "ReferralChains", chains)
    assert [(c["referrer_id"], c["direct"], c["indirect"]) for c in chains.json["referrers"]] == [
        (li[0], 1, 1), (li[1], 1, 0)]
    hidden = scoped.client.get(f"{BASE}/tree/{han[0]}", headers=scoped.headers("li"))
    assert hidden.status_code == 404 and hidden.json["error"]["code"] == "not_found"
    assert [c["referrer_id"] for c in scoped.client.get(f"{BASE}/referrers",
                                                        headers=scoped.headers("han")).json["referrers"]] == [han[0]]


@pytest.mark.parametrize("top", ["0", "501", "abc", "-1", "1.5"])
def test_a_bad_top_is_refused_naming_it(scoped, top):
    answer = scoped.client.get(f"{BASE}/referrers?top={top}&lang=en", headers=scoped.headers("li"))
    assert answer.status_code == 400
    [issue] = answer.json["error"]["fields"]
    assert issue["field"] == "top" and "from 1 to 500" in issue["message_en"]


def test_refusals(scoped):
    assert scoped.client.get(f"{BASE}/tree/999999", headers=scoped.headers("li")).status_code == 404
    assert scoped.client.get("/api/v1/apps/crm/referrals/referrers", headers=scoped.headers("li")).status_code == 404
    assert scoped.client.get(f"{BASE}/referrers").status_code == 401
    document = scoped.document("li")
    assert f"{BASE}/tree/{{customer_id}}" in document["paths"] and f"{BASE}/referrers" in document["paths"]
