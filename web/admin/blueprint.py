"""The /admin blueprint and what its views share: every view is for workspace
administrators (`admin_required`), and refusals of the org model are shown beside
the input they concern, in the page language."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect

from engine.errors import CodedError, RecordValidationError
from engine.i18n import render
from web.context import page_lang, runtime_session

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


def change_or_refuse(change: Callable, *, field: str, values: dict, page: Callable, done: str, to: str,
                     one_field: bool = False):
    """Run `change(uow)` in one write and redirect to `to` with `done` flashed; a refusal
    renders `page(values=, errors=, status=422)` with the typed `values` kept and the
    message beside `field` (beside each input it names, unless `one_field`)."""
    try:
        with runtime_session().write() as uow:
            change(uow)
    except RecordValidationError as exc:
        errors = field_errors(exc)
        if one_field or not errors:
            errors = {field: "; ".join(errors.values())}
        return page(values=values, errors=errors, status=422)
    except CodedError as exc:
        return page(values=values, errors={field: coded(exc)}, status=422)
    flash(done, "success")
    return redirect(to)
