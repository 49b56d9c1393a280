"""docs/api.md stays true: each JSON example is valid against the schema named above it
in the flagship app's generated document, an error example's field messages are the
catalogue's, and each request line is a path of the document whose query the API's
parser accepts."""
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from engine.compiled.app import compile_app
from engine.i18n import render
from engine.validation import load_definition
from runtime.api.errors import ApiError
from runtime.api.openapi import build_document
from runtime.api.requests import parse_json_body, parse_list_query
from tests.support.api_docs import assert_valid
from tests.support.paths import APPS, DOCS

TEXT = (DOCS / "api.md").read_text(encoding="utf-8")
DOC = build_document([compile_app(load_definition(Path(APPS / "crm_referral.yaml")), 1)])
EXAMPLES = re.findall(r"^<!-- schema: (\S+) -->\n```json\n(.*?)^```", TEXT, re.M | re.S)


def test_every_json_example_matches_its_schema():
    assert len(EXAMPLES) >= 7
    for name, block in EXAMPLES:
        assert_valid(DOC, name, json.loads(block))


def test_error_examples_say_what_the_api_says():
    errors = [json.loads(block)["error"] for name, block in EXAMPLES if name == "Error"]
    issues = [issue for error in errors for issue in error["fields"]]
    assert issues
    for issue in issues:
        for lang in ("zh", "en"):
            assert issue[f"message_{lang}"] == render(issue["code"], issue["params"], lang)
    bad_json = next(i for i in issues if i["code"] == "api_filter_json")
    refused = '{"field":"level","op":"eq","value":vip}'
    assert f"filter={refused}" in TEXT
    with pytest.raises(ApiError) as caught:
        parse_json_body(refused)
    assert caught.value.issues[0].where == {"line": bad_json["line"], "column": bad_json["column"]}


def test_request_lines_are_paths_of_the_document_with_queries_the_parser_takes():
    lines = re.findall(r"^GET (\S+)$", TEXT, re.M)
    assert lines
    for line in lines:
        url = urlsplit(line)
        assert url.path in DOC["paths"], url.path
        parse_list_query({k: v for k, v in parse_qs(url.query).items()})
