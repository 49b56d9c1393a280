"""What the runtime really returns and accepts, checked against the generated document:
records of every field type, pages, history, errors. A field type whose to_json gives
something its read schema refuses fails here, on SQLite and PostgreSQL."""
import pytest

from engine.errors import ConflictError, RecordValidationError
from runtime.api.errors import error_response
from runtime.api.openapi import installed_document
from runtime.api.responses import count_body, history_body, page_body, record_body, records_body
from runtime.records.service import Count
from tests.support.api_docs import ALL_FIELDS, assert_valid, org_and_files, sample_values
from tests.support.fields import Lab


@pytest.fixture
def lab(db, tmp_path):
    made = Lab(db, ALL_FIELDS)
    made.ids = org_and_files(db, tmp_path / "files")
    return made


def test_records_of_every_field_type_read_as_their_schema_says(db, lab):
    with db.connect() as conn:
        doc = installed_document(conn)
    first_values = sample_values(lab.ids)
    assert_valid(doc, "lab.items.Create", first_values)
    with db.begin() as conn:
        records = lab.records(conn)
        first = records.create("items", first_values)
        second_values = sample_values(lab.ids, ref=first["id"])
        assert_valid(doc, "lab.items.Create", second_values)
        second = records.create("items", second_values)
        empty = records.create("items", {"title": "空"})
        patch = {"f_number": 7, "f_checkbox": [], "f_subform": [{"id": 1, "line": "改"}], "version": 1}
        assert_valid(doc, "lab.items.Patch", patch)
        records.update("items", second["id"], {k: v for k, v in patch.items() if k != "version"},
                       expected_version=1)
    with db.connect() as conn:
        records = lab.records(conn)
        page = records.list("items", page_size=2)
        shown = [record_body(lab.app, "items", records.get("items", rid)) for rid in (first["id"], second["id"], empty["id"])]
        history = records.history("items", second["id"])
    for body in shown:
        assert_valid(doc, "lab.items.Record", body)
    assert shown[1]["fields"]["f_lookup"] == "张三 <b>&amp;</b>"            # the title of the record it points at
    assert shown[1]["fields"]["f_number"] == "7.00" and shown[0]["fields"]["f_number"] == "1234.50"
    assert shown[1]["titles"]["ref"][str(first["id"])]["title"] == "张三 <b>&amp;</b>"
    body = page_body(lab.app, "items", page)
    assert_valid(doc, "lab.items.Page", body)
    assert body["next_cursor"] and body["count"] == {"value": 3, "kind": "exact"}
    assert_valid(doc, "lab.items.List", records_body(lab.app, "items", []))
    assert_valid(doc, "History", history_body(history))
    assert [e["action"] for e in history_body(history)["items"]] == ["create", "update"]


def test_a_refused_record_answers_with_the_error_schema_naming_each_field(db, lab):
    with db.connect() as conn:
        doc = installed_document(conn)
    with db.begin() as conn, pytest.raises(RecordValidationError) as caught:
        lab.records(conn).create("items", {"f_email": "not mail", "f_subform": [{"line": "x", "colour": 1}]})
    response = error_response(caught.value, "en")
    assert response.status == 422
    assert_valid(doc, "Error", response.body)
    fields = {(f["field"], f.get("subfield")): f for f in response.body["error"]["fields"]}
    assert fields[("title", None)]["code"] == "required"
    assert fields[("f_email", None)]["code"] == "email_invalid"
    assert fields[("f_subform", "colour")]["row"] == 0
    assert "必填" in fields[("title", None)]["message_zh"]


def test_counts_say_whether_they_are_exact():
    assert count_body(Count(12, exact=True)) == {"value": 12, "kind": "exact"}
    assert count_body(Count(1_200_000, exact=False, estimated=True))["kind"] == "estimate"
    assert count_body(Count(10_000, exact=False)) == {"value": 10_000, "kind": "capped"}
    assert count_body(None) is None


def test_a_conflict_body_says_which_versions(db, lab):
    with db.connect() as conn:
        doc = installed_document(conn)
    response = error_response(ConflictError("items", 5, 2, 3), "zh")
    assert response.status == 409
    assert_valid(doc, "Error", response.body)
    assert response.body["error"]["details"] == {"record_id": 5, "your_version": 2, "current_version": 3}
    assert "第 2 版" in response.body["error"]["message"]


ODD = ["'; DROP TABLE x; --", "名字🙂\u200b𠀀", "\u202e反转\u202c", " 0 ", "-0", "1e3", str(2 ** 63), 2 ** 62, 0,
       1.5, -1, True, False, [], [1, "2"], {}, {"id": 1}, "2025-02-29", "1900-01-01 00:00", "★★", "是", "%"]


def test_whatever_the_runtime_accepts_reads_back_as_its_schema_says(db, lab):
    """Odd but accepted values (each field given each value) read back within the schema."""
    with db.connect() as conn:
        doc = installed_document(conn)
    writable = [key for key, schema in doc["components"]["schemas"]["lab.items.Create"]["properties"].items()
                if key != "title"]
    with db.begin() as conn:
        records = lab.records(conn)
        for raw in ODD:
            records.create_many("items", [{"title": "t", key: raw} for key in writable], skip_invalid=True)
    with db.connect() as conn:
        page = lab.records(conn).list("items", page_size=500)
    assert len(page.records) > len(ODD)
    for record in page.records:
        assert_valid(doc, "lab.items.Record", record_body(lab.app, "items", record))
