"""One function maps every exception to the API's status and error body: each family
to its status, the body always of the Error schema, both languages always there,
nothing of the internals in a 500."""
import re

import pytest

from engine.computed.filter_tree import FilterError
from engine.errors import (ConcurrentWriteError, ConflictError, FieldIssue, FormworkError, IntegrityProblem,
                           NotFound, RecordValidationError)
from engine.query.pages import CursorError
from engine.storage.files import FileRefused
from runtime.api.errors import (ERROR_CODES, body_too_large, csrf_missing, error_response, not_found, rate_limited,
                                unauthorized)
from runtime.api.openapi import build_document
from runtime.permissions.errors import PermissionDenied
from runtime.records.service import BulkValidationError
from tests.support.api_docs import assert_valid

DOC = build_document([])
CJK = re.compile(r"[\u4e00-\u9fff]")

CASES = [
    (RecordValidationError([FieldIssue("phone", "phone_invalid", {"value": "12"})]), 422, "validation"),
    (BulkValidationError({0: [FieldIssue("name", "required")], 2: [FieldIssue("name", "required")]}), 422,
     "validation"),
    (PermissionDenied("permission_edit_denied", form="customers"), 403, "permission_denied"),
    (NotFound("customers record #9 does not exist"), 404, "not_found"),
    (ConflictError("customers", 9, 2, 3), 409, "conflict"),
    (ConcurrentWriteError(3, "deadlock"), 409, "write_contention"),
    (IntegrityProblem("cannot delete: 2 orders record(s) refer to it"), 409, "integrity"),
    (FilterError("filter.and[0].op", "unknown operator 'equals'"), 400, "bad_request"),
    (FilterError("sort[0].field", "no field 'nme'"), 400, "bad_request"),
    (CursorError(), 400, "bad_request"),
    (FileRefused("file_too_large", name="a.pdf", max_mb="20"), 413, "validation"),
    (FileRefused("file_not_image", name="a.pdf"), 422, "validation"),
    (FormworkError("at most 10000 records per call"), 400, "refused"),
    (unauthorized(), 401, "unauthorized"),
    (csrf_missing("X-CSRF-Token"), 400, "csrf_missing"),
    (rate_limited(30), 429, "rate_limited"),
    (body_too_large(2 * 1024 * 1024), 413, "body_too_large"),
    (not_found("there is no installed app 'x'"), 404, "not_found"),
    (KeyError("internal detail /srv/secret.py"), 500, "internal"),
]


@pytest.mark.parametrize("exc, status, code", CASES, ids=[type(c[0]).__name__ + str(c[1]) for c in CASES])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_exception_family_has_its_status_and_the_one_error_shape(exc, status, code, lang):
    response = error_response(exc, lang)
    assert (response.status, response.body["error"]["code"]) == (status, code)
    assert code in ERROR_CODES
    assert_valid(DOC, "Error", response.body)
    error = response.body["error"]
    assert CJK.search(error["message_zh"]) and not CJK.search(error["message_en"])
    assert error["message"] == error["message_" + lang]
    for issue in error["fields"]:
        assert CJK.search(issue["message_zh"]) and issue["message"] == issue["message_" + lang]


def test_validation_lists_every_field_with_its_record_in_a_batch():
    body = error_response(CASES[1][0], "en").body["error"]
    assert [(f["field"], f["record"], f["code"]) for f in body["fields"]] == [("name", 0, "required"),
                                                                             ("name", 2, "required")]
    assert body["message_en"].startswith("2 value(s) are wrong")


def test_subform_cells_say_their_row_and_column():
    exc = RecordValidationError([FieldIssue("items", "number_invalid", {"value": "x"}, row=1, subfield="qty")])
    issue = error_response(exc).body["error"]["fields"][0]
    assert (issue["field"], issue["row"], issue["subfield"]) == ("items", 1, "qty")


def test_filter_errors_say_where_in_the_filter():
    issue = error_response(CASES[7][0], "en").body["error"]["fields"][0]
    assert (issue["field"], issue["path"]) == ("filter", "filter.and[0].op")
    assert error_response(CASES[8][0]).body["error"]["fields"][0]["field"] == "sort"


def test_rate_limits_and_missing_keys_carry_their_headers():
    limited = error_response(rate_limited(30))
    assert limited.headers == {"Retry-After": "30"} and limited.body["error"]["details"] == {"retry_after": 30}
    assert "WWW-Authenticate" in error_response(unauthorized()).headers


def test_a_500_tells_nothing_of_the_internals():
    body = error_response(KeyError("internal detail /srv/secret.py")).body
    assert "secret" not in str(body) and body["error"]["fields"] == []
