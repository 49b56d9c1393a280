"""The import wizard of a form, /apps/<app>/forms/<form>/import:

1. upload a CSV or XLSX file (IMPORT_MAX_MB at most) -> the run's page;
2. the run's page shows each column of the file with the field the runtime proposes
   (runtime/import_export/wizard.py propose), changeable; "check" saves the mapping and
   runs a dry run that lists every refused cell (row, column, value, reason);
3. "import" starts the job that runs it (runtime/import_export/runs.py: the job kind
   `import_run`, inline after the commit by default, on RQ with REDIS_URL) and the page
   polls /status for the progress;
4. the report of refused cells as CSV or XLSX.

The user needs the import action on the form (and create: runtime/permissions); the
views only parse the request and call the runtime.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, send_file, url_for

from engine.errors import FormworkError
from engine.storage.db import instance_dir
from runtime.import_export import runs
from runtime.import_export.mapping import MappingError
from runtime.import_export.wizard import ImportFileError, Proposal, check_choice, check_file_name, propose
from runtime.permissions import IMPORT
from web.context import current_actor, db_engine, login_required, page_lang, runtime_session

bp = Blueprint("imports", __name__, url_prefix="/apps/<app_key>/forms/<form_key>/import")

IMPORT_MAX_MB = 20
UPLOAD_ENDPOINT = "imports.upload"


def allow_large_upload() -> None:
    """Before the CSRF check reads the form: an import upload may be larger than the
    app's 2 MB request limit (registered in web/app.py ahead of check_csrf)."""
    if request.endpoint == UPLOAD_ENDPOINT and request.method == "POST":
        request.max_content_length = IMPORT_MAX_MB * 1024 * 1024


def _root() -> Path:
    configured = current_app.config.get("FORMWORK_IMPORT_DIR")
    if configured:
        return Path(configured)
    return Path(current_app.config.get("FORMWORK_INSTANCE") or instance_dir()) / "imports"


def _form_page(app_key: str, form_key: str):
    """The app and form, after checking the user may import into the form (403 else)."""
    with runtime_session().read() as uow:
        app = uow.app(app_key)
        form = app.require_form(form_key)
        uow.records(app_key).access(form_key, IMPORT)
    return app, form


def _labels(app, form) -> dict[str, str]:
    lang = page_lang()
    return {"app": app.label.get(lang) or app.key, "form": form.label.get(lang) or form.key}


def _run(app_key: str, form_key: str, token: str) -> runs.Run:
    try:
        return runs.load(_root(), token, user_id=current_actor().user_id, app_key=app_key, form_key=form_key)
    except runs.RunNotFound:
        abort(404)


@bp.get("")
@login_required
def start(app_key: str, form_key: str):
    app, form = _form_page(app_key, form_key)
    return render_template("imports/upload.html", app=app, form=form, labels=_labels(app, form),
                           error=None, max_mb=IMPORT_MAX_MB)


@bp.post("")
@login_required
def upload(app_key: str, form_key: str):
    app, form = _form_page(app_key, form_key)
    upload_file = request.files.get("file")
    name = upload_file.filename if upload_file else None
    try:
        check_file_name(name)
        run = runs.create(_root(), user_id=current_actor().user_id, app_key=app_key, form_key=form_key,
                          file_name=name)
        upload_file.save(run.file)
        try:
            proposal = _propose(run)
        except ImportFileError:
            runs.discard(run)
            raise
    except ImportFileError as exc:
        return render_template("imports/upload.html", app=app, form=form, labels=_labels(app, form),
                               error=exc.message(page_lang()), max_mb=IMPORT_MAX_MB), 422
    run.save(choice={str(c.index): c.target for c in proposal.columns})
    return redirect(url_for("imports.run_page", app_key=app_key, form_key=form_key, token=run.token))


def _propose(run: runs.Run) -> Proposal:
    with runtime_session().read() as uow:
        return propose(uow.records(run.state["app"]), run.state["form"], run.file, display_name=run.state["file_name"])


@bp.get("/<token>")
@login_required
def run_page(app_key: str, form_key: str, token: str):
    app, form = _form_page(app_key, form_key)
    run = _run(app_key, form_key, token)
    return _render_run(app, form, run, choice=_saved_choice(run), problems={})


def _saved_choice(run: runs.Run) -> dict[int, str | None]:
    return {int(k): v for k, v in run.state.get("choice", {}).items()}


def _render_run(app, form, run: runs.Run, *, choice, problems, status: int = 200):
    proposal = _propose(run)
    body = render_template("imports/run.html", app=app, form=form, labels=_labels(app, form), run=run,
                           state=run.state, proposal=proposal, choice=choice, problems=problems,
                           lang=page_lang())
    return body, status


@bp.post("/<token>/check")
@login_required
def check(app_key: str, form_key: str, token: str):
    """Save the mapping the user chose and run a dry run with it."""
    app, form = _form_page(app_key, form_key)
    run = _run(app_key, form_key, token)
    if run.state["stage"] in ("running", "done"):
        abort(409)
    proposal = _propose(run)
    choice = {c.index: (request.form.get(f"map_{c.index}") or None) for c in proposal.columns}
    problems = check_choice(proposal, choice, page_lang())
    run.save(choice={str(k): v for k, v in choice.items()}, stage="uploaded", dry=None)
    if problems:
        return _render_run(app, form, run, choice=choice, problems=problems, status=422)
    run.save(mapping=proposal.mapping(choice))
    try:
        runs.dry_run(db_engine(), run, actor=current_actor(), policy=runtime_session().policy, lang=page_lang())
    except MappingError as exc:          # what the page's check could not foresee
        return _render_run(app, form, run, choice=choice, problems={"mapping": str(exc)}, status=422)
    return redirect(url_for("imports.run_page", app_key=app_key, form_key=form_key, token=token) + "#check")


@bp.post("/<token>/run")
@login_required
def execute(app_key: str, form_key: str, token: str):
    _form_page(app_key, form_key)
    run = _run(app_key, form_key, token)
    if run.state["stage"] != "checked":
        abort(409)
    runs.start(runtime_session(), run, lang=page_lang(), skip_bad_rows=request.form.get("skip_bad_rows") == "1")
    return redirect(url_for("imports.run_page", app_key=app_key, form_key=form_key, token=token) + "#progress")


@bp.get("/<token>/status")
@login_required
def status(app_key: str, form_key: str, token: str):
    run = _run(app_key, form_key, token)
    state = run.state
    return jsonify({"stage": state["stage"], "rows_read": state.get("rows_read", 0), "share": state.get("share"),
                    "result": _counts(state.get("result")), "error": state.get("error")})


def _counts(result):
    return None if result is None else {k: v for k, v in result.items() if k != "problems"}


@bp.get("/<token>/report.<fmt>")
@login_required
def report(app_key: str, form_key: str, token: str, fmt: str):
    _form_page(app_key, form_key)
    run = _run(app_key, form_key, token)
    stage = "run" if request.args.get("of") == "run" else "dry"
    if fmt not in ("csv", "xlsx"):
        abort(404)
    try:
        path = run.report(stage, fmt)
    except (OSError, FormworkError):
        path = None
    if path is None:
        abort(404)
    stem = Path(run.state["file_name"]).stem
    name = f"{stem}.{'errors' if stage == 'run' else 'check'}.{fmt}"
    mimetype = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=name)
