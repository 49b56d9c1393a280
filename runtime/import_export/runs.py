"""One import wizard run and the job that imports its file.

A run's state is kept in a folder of its own (the web app's `<instance>/imports/<token>/`):
the uploaded file, `state.json` (who, which form, the mapping, the stage, progress, the
summary) and the reports. The state is a small JSON file replaced atomically, not a
table, because on SQLite the import holds the database's write lock for its whole
transaction: progress written to a table could not be committed while it runs, a file
can, and every web process and worker of the same folder reads it.

The import itself is the job kind `import_run` (docs/jobs.md), written to the outbox by
`start()` in the transaction that starts the run, with the key `import_run:<token>`, and
run after the commit: inline in the web process by default, by `formwork worker` on RQ
with REDIS_URL. It is idempotent: the whole import is one transaction (runtime/
import_export/importer.py), and the job is marked done inside that transaction
(JobContext.finish_in), so a retry after a failure starts from a file of which nothing
was kept, and a run whose import committed is never run again.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from engine.errors import FormworkError
from runtime.actor import Actor
from runtime import jobs
from runtime.import_export.importer import ImportReport, import_file
from runtime.import_export.wizard import report_as_xlsx
from runtime.permissions import Policy, policy_for

STATE = "state.json"
SHOWN_PROBLEMS = 200          # refused cells listed on the page; the report has them all
TOKEN_BYTES = 16
PROGRESS_EVERY = 0.5          # seconds between progress writes


class RunNotFound(LookupError):
    """No run of this token for this user (answered as 404)."""


class Run:
    def __init__(self, folder: Path, state: dict[str, Any]):
        self.folder, self.state = folder, state

    @property
    def token(self) -> str:
        return self.folder.name

    @property
    def file(self) -> Path:
        return self.folder / self.state["stored"]

    def report(self, stage: str, fmt: str) -> Path | None:
        """The refused cells of the dry run or the import ("dry" / "run") as csv or xlsx."""
        csv_path = self.folder / f"{stage}.errors.csv"
        if not csv_path.exists():
            return None
        if fmt == "csv":
            return csv_path
        xlsx_path = self.folder / f"{stage}.errors.xlsx"
        if not xlsx_path.exists():
            report_as_xlsx(csv_path, xlsx_path)
        return xlsx_path

    def save(self, **changes: Any) -> None:
        self.state.update(changes)
        partial = self.folder / (STATE + ".part")
        partial.write_text(json.dumps(self.state, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(partial, self.folder / STATE)


def create(root: Path, *, user_id: int, app_key: str, form_key: str, file_name: str) -> Run:
    folder = root / secrets.token_hex(TOKEN_BYTES)
    folder.mkdir(parents=True)
    suffix = Path(file_name).suffix.lower()
    run = Run(folder, {"user_id": user_id, "app": app_key, "form": form_key, "file_name": Path(file_name).name,
                       "stored": "upload" + suffix, "stage": "uploaded", "created": time.time()})
    run.save()
    return run


def load(root: Path, token: str, *, user_id: int, app_key: str, form_key: str) -> Run:
    """The run of `token`, if it is this user's and this form's (else RunNotFound)."""
    if not token.isalnum() or len(token) != 2 * TOKEN_BYTES:
        raise RunNotFound(token)
    folder = root / token
    try:
        state = json.loads((folder / STATE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        raise RunNotFound(token) from None
    if (state.get("user_id"), state.get("app"), state.get("form")) != (user_id, app_key, form_key):
        raise RunNotFound(token)
    return Run(folder, state)


def discard(run: Run) -> None:
    shutil.rmtree(run.folder, ignore_errors=True)


def dry_run(engine: Engine, run: Run, *, actor: Actor, policy: Policy, lang: str) -> None:
    """Check every cell with the chosen mapping, write nothing; the result goes to the run."""
    report = import_file(engine, run.state["app"], run.state["form"], run.file, dry_run=True,
                         mapping=run.state["mapping"], report_path=run.folder / "dry.errors.csv",
                         actor=actor, policy=policy, lang=lang)
    run.save(stage="checked", dry=summary(report))


IMPORT_RUN = "import_run"
MAX_ATTEMPTS = 3
BACKOFF = 30.0                # seconds before the second attempt, doubled after


def start(session, run: Run, *, lang: str, skip_bad_rows: bool) -> int | None:
    """Start the import of a checked run: the job `import_run` is written in a write
    transaction of `session` (the user's) and runs after its commit (inline: before this
    returns). Its id, or None when the run was started already (the key is the run's)."""
    run.save(stage="running", skip_bad_rows=skip_bad_rows, rows_read=0, share=0.0, started=time.time(),
             error=None, retry=False)
    try:
        with session.write() as uow:
            return uow.enqueue(IMPORT_RUN, {"folder": str(run.folder), "lang": lang, "skip_bad_rows": skip_bad_rows},
                               key=f"{IMPORT_RUN}:{run.token}", as_actor=True)
    except Exception:
        run.save(stage="checked")
        raise


def import_run(ctx, payload) -> None:
    """The job: import the run's file as the user who started it, under the policy of
    that user in every process (runtime.permissions.policy_for), marking the job done in
    the import's own transaction (so it commits with the rows, or not at all)."""
    folder = Path(payload["folder"])
    run = Run(folder, json.loads((folder / STATE).read_text(encoding="utf-8")))
    if run.state.get("stage") == "done":
        return
    actor = ctx.session.actor
    run.save(stage="running", attempt=ctx.attempt, error=None, retry=False)
    execute(ctx.engine, run, actor=actor, policy=policy_for(actor), lang=payload["lang"],
            skip_bad_rows=payload["skip_bad_rows"], before_commit=_finish_job(ctx),
            retry=ctx.attempt < ctx.job.max_attempts)


def _finish_job(ctx):
    def finish(conn) -> None:
        if not ctx.finish_in(conn):
            raise jobs.LeaseLost(f"import job {ctx.job.id} ran past its lease and another runner took it")
    return finish


def execute(engine: Engine, run: Run, *, actor: Actor, policy: Policy, lang: str, skip_bad_rows: bool,
            before_commit=None, retry: bool = False) -> None:
    """The import itself, with progress written to the run. A FormworkError (the file or
    the mapping no longer fits, the user lost the import action) ends the run as failed;
    any other error is raised (the job is tried again when `retry`)."""
    last = [0.0]

    def progress(rows: int, share: float | None) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY or share == 1.0:
            last[0] = now
            run.save(rows_read=rows, share=share)
    try:
        report = import_file(engine, run.state["app"], run.state["form"], run.file,
                             skip_bad_rows=skip_bad_rows, mapping=run.state["mapping"],
                             report_path=run.folder / "run.errors.csv", actor=actor, policy=policy,
                             lang=lang, progress=progress, before_commit=before_commit)
    except FormworkError as exc:
        run.save(stage="failed", error=exc.message(lang) if hasattr(exc, "message") else str(exc), retry=False)
        return
    except jobs.LeaseLost:
        raise               # another runner has the import now: the run is not failed
    except Exception as exc:
        run.save(stage="failed", error=f"{type(exc).__name__}: {exc}", retry=retry)
        raise
    run.save(stage="done", result=summary(report), rows_read=report.rows_read, share=1.0)


jobs.register(IMPORT_RUN, import_run, in_transaction=False, max_attempts=MAX_ATTEMPTS, backoff=BACKOFF)


def summary(report: ImportReport) -> dict[str, Any]:
    return {"rows_read": report.rows_read, "rows_valid": report.rows_valid,
            "rows_imported": report.rows_imported, "rows_refused": report.rows_refused,
            "orphan_rows": report.orphan_rows, "problem_count": report.problem_count,
            "committed": report.committed, "notes": report.notes, "seconds": round(report.seconds, 2),
            "problems": [asdict(p) for p in report.problems[:SHOWN_PROBLEMS]]}
