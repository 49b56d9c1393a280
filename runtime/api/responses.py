"""The REST API's response bodies, as its OpenAPI document describes them
(runtime/api/schemas.py): records, pages with their count, history, stored files."""
from __future__ import annotations

from typing import Any

from engine.compiled.app import App
from runtime.records.serialize import history_to_json, record_to_json, records_to_json
from runtime.records.service import Count, Page


def record_body(app: App, form_key: str, record: dict[str, Any]) -> dict[str, Any]:
    return record_to_json(app, form_key, record)


def records_body(app: App, form_key: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Records created from a list, in the order sent."""
    return {"items": records_to_json(app, form_key, records)}


def count_body(count: Count | None) -> dict[str, Any] | None:
    if count is None:
        return None
    kind = "exact" if count.exact else "estimate" if count.estimated else "capped"
    return {"value": count.value, "kind": kind}


def page_body(app: App, form_key: str, page: Page) -> dict[str, Any]:
    return {"items": records_to_json(app, form_key, page.records),
            "next_cursor": page.next_cursor, "count": count_body(page.count)}


def history_body(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": history_to_json(entries)}


def file_body(row: dict[str, Any]) -> dict[str, Any]:
    """A stored file (FileStore.put's row) without where it is kept."""
    body = {"id": row["id"], "name": row["name"], "size": row["size"], "content_type": row["content_type"],
            "sha256": row["sha256"]}
    if row.get("created_at") is not None:
        body["created_at"] = row["created_at"].isoformat()
    return body
