"""`formwork validate` and `formwork schema`, and the JSON Schema they publish."""
from __future__ import annotations

import json

import jsonschema
import pytest
from jsonschema import Draft202012Validator

from engine.definition.loader import load_text
from engine.validation import load_definition
from tests.support.paths import BROKEN_DEFINITIONS as BROKEN, FLAGSHIP_APP as FLAGSHIP, REPO_ROOT
from tests.support.dashboard_texts import UNBUILDABLE_WIDGETS as DASHBOARD_SQL_TEXT
from web.cli import main

COMMITTED_SCHEMA = REPO_ROOT / "engine" / "definition" / "formwork.schema.json"


def flagship_ok() -> str:
    app = load_definition(FLAGSHIP)
    return f"ok: {FLAGSHIP} ({len(app.forms)} forms, {sum(len(f.fields) for f in app.forms)} fields)"


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_validate_reports_every_problem_of_every_file_and_exits_1(capsys):
    files = [BROKEN / "several_problems_at_once.yaml", FLAGSHIP, BROKEN / "empty.yaml",
             BROKEN / "json_semantic_problems.json"]
    code, out = run(capsys, "validate", *map(str, files))
    assert code == 1
    lines = out.splitlines()
    assert lines[:4] == [
        f"{files[0]}:16:15: forms[1].fields[0].type: unknown field type 'txt'; the types are listed in "
        "docs/field-types.md (did you mean 'text'?)",
        f"{files[0]}:21:17: forms[1].fields[1].target: relation target 'custmers' is not a form of this app; "
        "name one of its forms (customers, orders) (did you mean 'customers'?)",
        f"{files[0]}:22:14: forms[1].fields[2].key: field key 'title' is used twice in form 'orders' "
        "(also at forms[1].fields[0]); keys must be unique: rename one of them",
        f"{files[0]}: 3 problem(s)"]
    assert lines[4] == flagship_ok()
    assert lines[5].startswith(f"{files[2]}:1:1: <root>: the file is empty") and lines[6] == f"{files[2]}: 1 problem(s)"
    assert lines[7].startswith(f"{files[3]}:9:100: forms[0].fields[0].target: relation target 'clients'")
    assert lines[8].startswith(f"{files[3]}:10:91: forms[0].fields[1].min: min 10 is greater than max 1")
    assert lines[9:] == [f"{files[3]}: 2 problem(s)", "3 of 4 files with problems (6 in all)"]


def test_validate_exits_0_on_the_flagship_app(capsys):
    assert run(capsys, "validate", str(FLAGSHIP)) == (0, flagship_ok() + "\n")


def test_validate_names_files_it_cannot_read_and_goes_on(capsys, tmp_path):
    code, out = run(capsys, "validate", str(tmp_path / "missing.yaml"), str(tmp_path), str(FLAGSHIP))
    assert code == 1
    assert f"{tmp_path / 'missing.yaml'}: <root>: cannot read the file: No such file or directory" in out
    assert f"{tmp_path}: <root>: cannot read the file: Is a directory" in out
    assert f"ok: {FLAGSHIP}" in out and "Traceback" not in out


def test_validate_json_output(capsys):
    code, out = run(capsys, "validate", "--json", str(BROKEN / "reserved_sql_words.yaml"), str(FLAGSHIP))
    assert code == 1
    broken, flagship = map(json.loads, out.splitlines())
    assert flagship == {"file": str(FLAGSHIP), "ok": True, "problems": [], "warnings": []}
    assert broken["ok"] is False
    assert [(p["line"], p["column"], p["path"], p["code"]) for p in broken["problems"]] == [
        (3, 8, "app.key", "reserved_key"), (6, 10, "forms[0].key", "reserved_key"),
        (9, 14, "forms[0].fields[0].key", "reserved_key")]


def printed_schema(capsys) -> dict:
    code, out = run(capsys, "schema")
    assert code == 0
    return json.loads(out)


def test_schema_is_a_valid_draft_2020_12_json_schema(capsys):
    schema = printed_schema(capsys)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)     # meta-validation: raises if invalid
    with pytest.raises(jsonschema.exceptions.SchemaError):
        Draft202012Validator.check_schema({**schema, "type": "mapping"})


def test_the_flagship_app_validates_against_the_printed_schema(capsys):
    schema = printed_schema(capsys)
    data = load_text(FLAGSHIP.read_bytes()).data
    jsonschema.validate(data, schema, cls=Draft202012Validator)
    data["forms"][0]["fields"][0]["type"] = "txt"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=Draft202012Validator)


def test_the_committed_schema_file_is_the_printed_one(capsys):
    assert json.loads(COMMITTED_SCHEMA.read_text(encoding="utf-8")) == printed_schema(capsys), \
        "engine/definition/formwork.schema.json is stale: run " \
        "`.venv/bin/formwork schema > engine/definition/formwork.schema.json` and commit it"


def test_validate_reports_a_dashboard_widget_whose_sql_cannot_be_built(tmp_path, capsys):
    path = tmp_path / "shop.yaml"
    path.write_text(DASHBOARD_SQL_TEXT, encoding="utf-8")
    code = main(["validate", str(path)])
    out = capsys.readouterr()
    lines = (out.out + out.err).splitlines()
    assert code == 1
    assert any(line.startswith(f"{path}:23:") and "'bad_value': its SQL cannot be built" in line for line in lines)
    assert any(line.startswith(f"{path}:30:") and "bad_measure_filter" in line for line in lines)
