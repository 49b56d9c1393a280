"""The referral analytics page: the top referrers by chain value and, for a chosen
customer, their tree; a customer the user may not see says so (the rest still shows)."""
from __future__ import annotations

import itertools

import pytest

from tests.support.web_api import OwnRowsPolicy, api_world

PHONES = itertools.count(1)
URL = "/apps/crm_referral/referrals/analytics"


@pytest.fixture
def scoped(db):
    made = api_world(db, FORMWORK_API_RATE="off", FORMWORK_POLICY=OwnRowsPolicy())
    yield made
    made.dispose()


def chain(world, who: str, *names: str) -> list[int]:
    ids: list[int] = []
    for name in names:
        ids.append(world.create({"name": name, "kind": "person", "phone": f"137{next(PHONES):08d}",
                                 "referrer": ids[-1] if ids else None}, who=who)["id"])
    return ids


def test_the_page_shows_the_callers_referrers_and_a_chosen_tree(scoped):
    li = chain(scoped, "li", "老王", "小李", "小张")
    han = chain(scoped, "han", "韩老板", "小韩")
    page = scoped.client.get(URL, headers=scoped.headers("li"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "老王" in text and "小李" in text and "韩老板" not in text
    assert f"?customer={li[0]}#tree" in text
    tree = scoped.client.get(f"{URL}?customer={li[0]}", headers=scoped.headers("li")).get_data(as_text=True)
    assert tree.count('data-depth="') == 3 and 'data-depth="2"' in tree
    refused = scoped.client.get(f"{URL}?customer={han[0]}", headers=scoped.headers("li"))
    assert refused.status_code == 200
    assert f"#{han[0]}" in refused.get_data(as_text=True) and "韩老板" not in refused.get_data(as_text=True)


def test_an_empty_programme_says_so(scoped):
    page = scoped.client.get(URL, headers=scoped.headers("li")).get_data(as_text=True)
    assert 'class="muted widget-empty"' in page
