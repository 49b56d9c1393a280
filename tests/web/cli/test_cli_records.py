import json

from click.testing import CliRunner

from tests.support.records_app import install_shop
from web.cli import cli, main


def run(url, *args, input=None):
    result = CliRunner().invoke(cli, ["--database-url", url, "records", *args], input=input,
                                catch_exceptions=False)
    return result


def test_records_commands_end_to_end(db, db_url):
    install_shop(db)
    created = run(db_url, "create", "shop", "customers", "--data", '{"name": "张三", "code": "Z3"}')
    assert created.exit_code == 0, created.output
    rec = json.loads(created.output)
    assert rec["fields"]["name"] == "张三" and rec["fields"]["credit"] == "100.00"
    updated = run(db_url, "update", "shop", "customers", str(rec["id"]), "--version", "1",
                  "--data", '{"credit": "1,234.5"}')
    assert json.loads(updated.output)["fields"]["credit"] == "1234.50"
    listed = json.loads(run(db_url, "list", "shop", "customers", "--filter",
                            '{"field": "credit", "op": "gt", "value": 1000}').output)
    assert listed["count"]["value"] == 1 and listed["records"][0]["id"] == rec["id"]
    assert run(db_url, "delete", "shop", "customers", str(rec["id"])).exit_code == 0
    assert json.loads(run(db_url, "list", "shop", "customers", "--deleted").output)["count"]["value"] == 1
    assert run(db_url, "restore", "shop", "customers", str(rec["id"])).exit_code == 0
    log = json.loads(run(db_url, "history", "shop", "customers", str(rec["id"])).output)
    assert [e["action"] for e in log] == ["create", "update", "delete", "restore"]


def test_records_errors_are_clear_and_non_zero(db, db_url, capsys):
    install_shop(db)
    bad = run(db_url, "create", "shop", "customers", "--data", '{"credit": "abc"}')
    assert bad.exit_code == 1
    issues = {i["field"]: i["code"] for i in json.loads(bad.output)["issues"]}
    assert issues == {"name": "required", "credit": "number_invalid"}
    assert main(["--database-url", db_url, "records", "get", "shop", "customers", "42"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["--database-url", db_url, "records", "list", "shop", "custmers"]) == 2
    assert "did you mean 'customers'" in capsys.readouterr().err
    assert main(["--database-url", db_url, "records", "list", "nope", "x"]) == 1
    assert main(["--database-url", db_url, "records", "create", "shop", "customers", "--data", "{bad"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
