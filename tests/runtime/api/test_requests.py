"""Parsing the API's requests: list parameters into Records.list arguments, bodies,
the edited version, related-records tabs; every bad part named at once, in zh and en."""
from pathlib import Path

import pytest

from engine.compiled.app import compile_app
from engine.validation import load_definition
from runtime.api.errors import ApiError, error_response
from runtime.api.openapi import build_document
from runtime.api.requests import (ListQuery, etag, parse_create_body, parse_json_body, parse_list_query,
                                  parse_patch, parse_relation, request_lang, require_form)
from tests.support.api_docs import assert_valid
from tests.support.fields import messages
from tests.support.paths import APPS

FLAGSHIP = compile_app(load_definition(Path(APPS / "crm_referral.yaml")), 1)
DOC = build_document([FLAGSHIP])


def refused(call, *args) -> dict:
    """The error body of a refused request (checked against the Error schema, its
    messages complete in both languages), by field."""
    with pytest.raises(ApiError) as caught:
        call(*args)
    response = error_response(caught.value, "en")
    assert_valid(DOC, "Error", response.body)
    for issue in caught.value.issues:
        messages(issue.code, issue.params)
    return response.status, {f["field"]: f for f in response.body["error"]["fields"]}


def test_list_parameters_become_records_list_arguments():
    query = parse_list_query({"filter": '{"field": "level", "op": "eq", "value": "vip"}', "sort": "-created_at,name",
                              "search": "张", "limit": "500", "count": "exact", "cursor": "eyJrIjpbXX0"})
    assert query.list_arguments() == {
        "filter": {"field": "level", "op": "eq", "value": "vip"}, "sort": "-created_at,name", "search": "张",
        "cursor": "eyJrIjpbXX0", "page_size": 500, "deleted": False, "with_count": True}


def test_defaults_count_on_the_first_page_only():
    assert parse_list_query({}) == ListQuery()
    assert parse_list_query({}).list_arguments()["with_count"] is None
    assert parse_list_query({"count": "none"}).list_arguments()["with_count"] is False
    assert parse_list_query({"count": "estimate"}).list_arguments()["with_count"] is True
    assert parse_list_query({"limit": ["10", "20"]}).limit == 20        # a repeated parameter: the last
    assert parse_list_query({"sort": '[{"field": "name", "dir": "desc"}]'}).sort == [{"field": "name", "dir": "desc"}]
    assert parse_list_query({"deleted": "true"}).deleted is True


def test_a_filter_that_is_not_json_says_where():
    status, fields = refused(parse_list_query, {"filter": '{"field": "level",\n "op": eq}'})
    assert status == 400
    assert (fields["filter"]["line"], fields["filter"]["column"]) == (2, 8)
    assert "line 2, column 8" in fields["filter"]["message_en"]
    assert "第 2 行第 8 列" in fields["filter"]["message_zh"]
    _, fields = refused(parse_list_query, {"filter": '"vip"'})
    assert fields["filter"]["code"] == "api_filter_shape"


def test_every_bad_parameter_is_named_at_once():
    status, fields = refused(parse_list_query, {"limit": "501", "count": "all", "sort": "name desc",
                                                "cursor": "a b", "search": "x" * 201, "page_size": "10",
                                                "deleted": "maybe"})
    assert status == 400
    assert set(fields) == {"limit", "count", "sort", "cursor", "search", "page_size", "deleted"}
    assert "from 1 to 500" in fields["limit"]["message_en"]
    assert fields["page_size"]["code"] == "api_unknown_parameter"
    assert "exact, estimate or none" in fields["count"]["message_en"]


@pytest.mark.parametrize("limit", ["0", "-1", "1.5", "ten", "9" * 30])
def test_limits_outside_1_to_500(limit):
    _, fields = refused(parse_list_query, {"limit": limit})
    assert fields["limit"]["code"] == "api_limit_range"


def test_an_unknown_parameter_gets_a_did_you_mean():
    _, fields = refused(parse_list_query, {"serach": "x"})
    assert "('search'?)" in fields["serach"]["message_en"]


def test_create_bodies_are_one_record_or_a_list_of_up_to_1000():
    assert parse_create_body({"name": "张三"}) == ([{"name": "张三"}], False)
    assert parse_create_body([{"name": "a"}, {"name": "b"}]) == ([{"name": "a"}, {"name": "b"}], True)
    status, fields = refused(parse_create_body, [{}] * 1001)
    assert status == 400
    for body in ([], "text", [1, 2], None):
        status, fields = refused(parse_create_body, body)
        assert fields["body"]["code"] == "api_body_record"


def test_a_body_that_is_not_json_says_where():
    status, fields = refused(parse_json_body, b'{"name": "x",}')
    assert (status, fields["body"]["line"], fields["body"]["column"]) == (400, 1, 14)


@pytest.mark.parametrize("header, body, version", [
    ('"3"', {"name": "x"}, 3), ('W/"3"', {"name": "x"}, 3), ("3", {"name": "x"}, 3),
    (None, {"name": "x", "version": 4}, 4), ('"5"', {"version": 5}, 5), (None, {"name": "x"}, None),
    ("*", {"name": "x"}, None),
])
def test_the_edited_version_comes_from_if_match_or_the_body(header, body, version):
    changes, found = parse_patch(body, header)
    assert found == version and "version" not in changes


def test_versions_that_cannot_be_or_disagree():
    status, fields = refused(parse_patch, {"name": "x"}, "abc")
    assert (status, fields["If-Match"]["code"]) == (400, "api_version_invalid")
    _, fields = refused(parse_patch, {"version": 0}, None)
    assert fields["version"]["code"] == "api_version_invalid"
    _, fields = refused(parse_patch, {"version": 2}, '"3"')
    assert fields["version"]["code"] == "api_version_mismatch"
    _, fields = refused(parse_patch, ["x"], None)
    assert fields["body"]["code"] == "api_body_patch"
    assert etag({"version": 7}) == '"7"'


def test_related_tabs_name_the_relations_pointing_at_the_form():
    source, filter_ = parse_relation(FLAGSHIP, "customers", "orders.customer", 12)
    assert (source, filter_) == ("orders", {"field": "customer", "op": "eq", "value": 12})
    with pytest.raises(ApiError) as caught:
        parse_relation(FLAGSHIP, "customers", "orders.custmer", 12)
    response = error_response(caught.value, "en")
    assert response.status == 404 and response.body["error"]["code"] == "not_found"
    assert "orders.customer" in response.body["error"]["message_en"]


def test_urls_naming_no_app_or_form_are_404s():
    for app, form in ((None, "customers"), (FLAGSHIP, "custmers")):
        with pytest.raises(ApiError) as caught:
            require_form(app, "crm_referral" if app else "nope", form)
        assert error_response(caught.value).status == 404
    assert require_form(FLAGSHIP, "crm_referral", "customers").key == "customers"


def test_the_language_of_messages_from_the_query_or_accept_language():
    assert request_lang("en", "zh-CN") == "en"
    assert request_lang(None, "fr;q=1, en-US;q=0.8, zh;q=0.5") == "en"
    assert request_lang(None, "zh-TW,en") == "zh"
    assert request_lang("fr", None) == "zh" and request_lang(None, None) == "zh"


def test_json_nested_past_what_the_parser_can_take_is_a_400_not_a_crash():
    _, fields = refused(parse_list_query, {"filter": "[" * 100_000})
    assert fields["filter"]["code"] == "api_json_too_deep"
    _, fields = refused(parse_json_body, b"[" * 1_000_000)
    assert fields["body"]["code"] == "api_json_too_deep"
    _, fields = refused(parse_list_query, {"sort": "[" * 100_000})
    assert fields["sort"]["code"] == "api_sort_syntax"
