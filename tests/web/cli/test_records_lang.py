"""`formwork records` answers in `--lang`, by default the workspace language
(FORMWORK_LANGUAGE, zh unless set), and acts as `--user-id` through a unit of work."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from runtime.org import Org
from tests.support.records_app import install_shop
from web.cli import cli, main

BAD = '{"credit": "abc"}'


def run(url, *args):
    return CliRunner().invoke(cli, ["--database-url", url, "records", *args], catch_exceptions=False)


def _messages(result) -> dict[str, tuple[str, str]]:
    assert result.exit_code == 1, result.output
    return {i["field"]: (i["message"], i["message_en"]) for i in json.loads(result.output)["issues"]}


@pytest.fixture
def shop(db, db_url, monkeypatch):
    monkeypatch.delenv("FORMWORK_LANGUAGE", raising=False)
    install_shop(db)
    return db_url


def test_refused_values_are_explained_in_the_workspace_language_or_in_lang(shop, monkeypatch):
    url = shop
    chinese = _messages(run(url, "create", "shop", "customers", "--data", BAD))
    assert chinese["name"] == ("此项为必填项", "This field is required")
    assert chinese["credit"][0] != chinese["credit"][1] and chinese["credit"][1] == "'abc' is not a number"
    english = _messages(run(url, "create", "shop", "customers", "--lang", "en", "--data", BAD))
    assert english == {"name": ("This field is required",) * 2, "credit": ("'abc' is not a number",) * 2}
    monkeypatch.setenv("FORMWORK_LANGUAGE", "en")
    assert _messages(run(url, "create", "shop", "customers", "--data", BAD)) == english
    assert _messages(run(url, "create", "shop", "customers", "--lang", "zh", "--data", BAD)) == chinese
    made = json.loads(run(url, "create", "shop", "customers", "--data", '{"name": "甲"}').output)
    refused = run(url, "update", "shop", "customers", str(made["id"]), "--lang", "zh", "--data", BAD)
    assert _messages(refused) == {"credit": chinese["credit"]}


def test_every_records_command_takes_lang(shop):
    url = shop
    made = json.loads(run(url, "create", "shop", "customers", "--lang", "en", "--data", '{"name": "甲"}').output)
    rid = str(made["id"])
    for lang in ("zh", "en"):
        for args in (["list", "shop", "customers"], ["get", "shop", "customers", rid],
                     ["history", "shop", "customers", rid],
                     ["update", "shop", "customers", rid, "--data", f'{{"name": "{lang}"}}'],
                     ["delete", "shop", "customers", rid], ["restore", "shop", "customers", rid]):
            assert run(url, *args, "--lang", lang).exit_code == 0, args
    assert run(url, "list", "shop", "customers", "--lang", "fr").exit_code == 2


def test_a_language_the_workspace_does_not_have_stops_the_command(shop, monkeypatch, capsys):
    monkeypatch.setenv("FORMWORK_LANGUAGE", "fr")
    assert main(["--database-url", shop, "records", "list", "shop", "customers"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: FORMWORK_LANGUAGE='fr' is not a language of Formwork; give one of zh, en, or unset it for zh")


def test_writes_act_as_the_user_and_an_unknown_user_is_refused(shop, db, capsys):
    url = shop
    with db.begin() as conn:
        li = Org(conn).users.add("li.lei", "李雷").id
    made = json.loads(run(url, "create", "shop", "customers", "--user-id", str(li),
                          "--data", '{"name": "甲"}').output)
    assert (made["created_by"], made["owner_id"]) == (li, li)
    assert run(url, "update", "shop", "customers", str(made["id"]), "--data", '{"name": "乙"}').exit_code == 0
    log = json.loads(run(url, "history", "shop", "customers", str(made["id"])).output)
    assert [(e["action"], e["user_id"]) for e in log] == [("create", li), ("update", None)]
    assert main(["--database-url", url, "records", "delete", "shop", "customers", str(made["id"]),
                 "--user-id", "99"]) == 2
    assert capsys.readouterr().err.strip() == "error: No user '#99'"
    assert json.loads(run(url, "get", "shop", "customers", str(made["id"])).output)["deleted_at"] is None
