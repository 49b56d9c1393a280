"""The form page (issue #9 part 4): a new record at `/apps/<app>/forms/<form>/new`, an
edit at `.../records/<id>/edit`, the live draft at `.../draft` (JSON: evaluate_draft of
runtime/forms on the posted page) and the pickers at `.../pick/...` (JSON).

`/apps/<app>/forms/<form>` itself is the data table (web/records), and a saved record
goes to its page `.../records/<id>`. Every value, default, visibility and issue comes
from the runtime: the page's script only posts what was typed and shows the answer."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request

from engine.errors import CodedError, ConflictError, RecordValidationError
from runtime.forms import evaluate_draft
from runtime.forms.chosen import chosen_labels
from runtime.forms.pickers import division_children, search_departments, search_members, search_records
from runtime.forms.widgets import describe_form
from runtime.referrals.channels import with_channel
from runtime.workflow.errors import WorkflowRefused
from web.context import login_required, page_lang, runtime_session
from web.forms.posted import posted_values
from web.forms.widgets import address_levels, draft_issue_texts, issues_by_path, shown

bp = Blueprint("forms", __name__, url_prefix="/apps/<app_key>/forms/<form_key>")


@dataclass
class FormPage:
    """What forms/form.html renders."""
    app_key: str
    form_key: str
    app_label: str
    description: dict
    values: dict
    draft: dict
    labels: dict
    issues: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    record_id: int | None = None
    version: int | None = None
    submitted: bool = False


def record_url(app_key: str, form_key: str, record_id: int) -> str:
    return f"/apps/{app_key}/forms/{form_key}/records/{record_id}"


def table_url(app_key: str, form_key: str) -> str:
    return f"/apps/{app_key}/forms/{form_key}"


def merged(values: dict, computed: dict) -> dict:
    """The values to show: what was typed or stored, with the draft's computed values
    (subform rows merged row by row)."""
    out = dict(values)
    for key, value in computed.items():
        if isinstance(value, list) and isinstance(out.get(key), list) and value and isinstance(value[0], dict):
            rows = list(out[key])
            for i, row in enumerate(value):
                if i < len(rows) and isinstance(rows[i], dict):
                    rows[i] = {**rows[i], **row}
            out[key] = rows
        else:
            out[key] = value
    return out


def build_page(app_key: str, form_key: str, values: dict, *, record_id=None, version=None,
               touched=None, issues=None, general=None, submitted=False) -> FormPage:
    lang = page_lang()
    with runtime_session().read() as uow:
        description = with_lookup_choices(uow, app_key, describe_form(uow, app_key, form_key, lang=lang), lang)
        draft = evaluate_draft(uow, app_key, form_key, values, record_id=record_id, version=version,
                               touched=touched).as_dict(lang)
        shown_values = merged(values, draft["values"])
        labels = chosen_labels(uow, description, shown_values)
        app_label = uow.app(app_key).label.get(lang) or app_key
    return FormPage(app_key, form_key, app_label, description, shown_values, draft, labels,
                    issues if issues is not None else {}, general or [], record_id, version, submitted)


CHOICE_KINDS = {"select", "radio", "multiselect", "checkbox"}


def with_lookup_choices(uow, app_key: str, description: dict, lang: str) -> dict:
    """Lookups of choice fields show the choices' labels, not their values: the choices
    of the field looked up (as the actor may see its form) are added to the lookup's
    options."""
    relations = {f["key"]: f["options"].get("target") for f in description["fields"] if f["kind"] == "relation"}
    targets: dict[str, dict] = {}
    for f in description["fields"]:
        if f["kind"] != "lookup" or f["options"].get("shows") not in CHOICE_KINDS:
            continue
        target = relations.get(f["options"].get("relation"))
        if target is None:
            continue
        if target not in targets:
            targets[target] = {t["key"]: t for t in describe_form(uow, app_key, target, lang=lang)["fields"]}
        shown_field = targets[target].get(f["options"].get("field"))
        if shown_field is not None:
            f["options"]["choices"] = shown_field["options"].get("choices", [])
    return description


def render_page(page: FormPage, status: int = 200):
    return render_template("forms/form.html", page=page, shown=shown, address_levels=address_levels,
                           table_url=table_url(page.app_key, page.form_key)), status


@bp.get("/new")
@login_required
def new_record(app_key: str, form_key: str):
    return render_page(build_page(app_key, form_key, {}, touched=[]))


@bp.post("/new")
@login_required
def create_record(app_key: str, form_key: str):
    with runtime_session().read() as uow:
        description = describe_form(uow, app_key, form_key, lang=page_lang())
    values = posted_values(description, request.form)
    try:
        record = runtime_session().write(lambda uow: submitted_record(uow, app_key, form_key, values))
    except RecordValidationError as exc:
        page = build_page(app_key, form_key, values, issues=issues_by_path(exc.issues, page_lang()),
                          submitted=True)
        return render_page(page, 422)
    except WorkflowRefused as refused:          # e.g. a step whose approvers the submitter must choose
        page = build_page(app_key, form_key, values, general=[refused.message(page_lang())], submitted=True)
        return render_page(page, 422)
    return redirect(record_url(app_key, form_key, record["id"]), 303)


def submitted_record(uow, app_key: str, form_key: str, values: dict) -> dict:
    """Create the record, then start the form's `start: submit` workflow on it (if it
    has one), in one transaction: a flow that cannot start leaves no record."""
    records = uow.records(app_key)
    record = records.create(form_key, with_channel(records, form_key, values, "staff"))
    uow.workflows.start_if_any(app_key, form_key, record["id"])
    return record


@bp.get("/records/<int:record_id>/edit")
@login_required
def edit_record(app_key: str, form_key: str, record_id: int):
    with runtime_session().read() as uow:
        record = uow.records(app_key).get(form_key, record_id)
        description = describe_form(uow, app_key, form_key, lang=page_lang())
    stored = {f["key"]: record["fields"].get(f["key"]) for f in description["fields"]}
    writable = {f["key"]: stored[f["key"]] for f in description["fields"] if not f["read_only"]}
    page = build_page(app_key, form_key, writable, record_id=record_id, version=record["version"])
    page.values = merged(stored, page.draft["values"])
    return render_page(page)


@bp.post("/records/<int:record_id>/edit")
@login_required
def update_record(app_key: str, form_key: str, record_id: int):
    lang = page_lang()
    with runtime_session().read() as uow:
        description = describe_form(uow, app_key, form_key, lang=lang)
    values = posted_values(description, request.form)
    version = _positive(request.form.get("version"))
    try:
        runtime_session().write(lambda uow: uow.records(app_key).update(
            form_key, record_id, values, expected_version=version))
    except RecordValidationError as exc:
        page = build_page(app_key, form_key, values, record_id=record_id, version=version,
                          issues=issues_by_path(exc.issues, lang), submitted=True)
        return render_page(page, 422)
    except ConflictError as exc:
        message = exc.message(lang) if isinstance(exc, CodedError) else str(exc)
        page = build_page(app_key, form_key, values, record_id=record_id, version=None,
                          general=[message], submitted=True)
        page.version = version
        return render_page(page, 409)
    return redirect(record_url(app_key, form_key, record_id), 303)


def _positive(raw: Any) -> int | None:
    try:
        found = int(str(raw))
    except ValueError:
        return None
    return found if found > 0 else None


@bp.post("/draft")
@login_required
def draft(app_key: str, form_key: str):
    """The live evaluation of the page as posted (the same parsing as a save)."""
    lang, form = page_lang(), request.form
    record_id = form.get("_record_id") or None
    with runtime_session().read() as uow:
        description = describe_form(uow, app_key, form_key, lang=lang)
        values = posted_values(description, form)
        answer = evaluate_draft(uow, app_key, form_key, values, record_id=record_id,
                                version=form.get("version") or None, changed=form.get("_changed") or None,
                                touched=None if record_id else form.getlist("_touched")).as_dict(lang)
    answer["messages"] = draft_issue_texts(answer["issues"])
    return jsonify(answer)


@bp.get("/pick/records/<field_key>")
@login_required
def pick_records(app_key: str, form_key: str, field_key: str):
    with runtime_session().read() as uow:
        return jsonify(search_records(uow, app_key, form_key, field_key, request.args.get("q", ""),
                                      cursor=request.args.get("cursor") or None))


@bp.get("/pick/members")
@login_required
def pick_members(app_key: str, form_key: str):
    with runtime_session().read() as uow:
        uow.app(app_key).require_form(form_key)
        return jsonify(search_members(uow, request.args.get("q", "")))


@bp.get("/pick/departments")
@login_required
def pick_departments(app_key: str, form_key: str):
    with runtime_session().read() as uow:
        uow.app(app_key).require_form(form_key)
        return jsonify(search_departments(uow, request.args.get("q", "")))


@bp.get("/pick/divisions")
@login_required
def pick_divisions(app_key: str, form_key: str):
    return jsonify(division_children(request.args.get("province") or None, request.args.get("city") or None))
