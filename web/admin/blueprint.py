"""The /admin blueprint and what its views share: every view is for workspace
administrators (`admin_required`), and refusals of the org model are shown beside
the input they concern, in the page language."""
from __future__ import annotations

from flask import Blueprint

from engine.errors import CodedError, RecordValidationError
from engine.i18n import render
from web.context import page_lang

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50


def field_errors(exc: RecordValidationError) -> dict[str, str]:
    """Each issue's message by the input it concerns (`account`, `email`...)."""
    errors: dict[str, str] = {}
    for issue in exc.issues:
        key = issue.subfield or issue.field
        text = render(issue.code, issue.params, page_lang())
        errors[key] = f"{errors[key]}; {text}" if key in errors else text
    return errors


def coded(exc: CodedError) -> str:
    return exc.message(page_lang())


def id_list(text: str | None) -> list[str]:
    """Accounts typed into one input: separated by commas, spaces or new lines."""
    return [part for part in (text or "").replace("，", ",").replace("\n", ",").replace(" ", ",").split(",")
            if part.strip()]
