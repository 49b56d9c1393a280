"""The state of one import wizard run, kept in a folder of its own under the instance
folder (`<instance>/imports/<token>/`): the uploaded file, `state.json` (who, which
form, the mapping, the stage, progress, the summary) and the reports.

Why files and not a table: until the jobs system (runtime/jobs) is merged, the real
import runs in a background thread of the web process (or inline when
FORMWORK_IMPORT_INLINE is set, as tests do). On SQLite that import holds the database's
write lock for its whole transaction, so progress written to a table could not be
committed while it runs; a small JSON file replaced atomically can, and every worker
of the same instance folder reads it. `execute()` is the one call of the runtime for a
real import: moving it onto runtime/jobs means queueing `execute` instead of starting
a thread.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from engine.errors import FormworkError
from runtime.actor import Actor
from runtime.import_export import import_file
from runtime.import_export.importer import ImportReport
from runtime.import_export.wizard import report_as_xlsx
from runtime.permissions import Policy

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


def start(engine: Engine, run: Run, *, actor: Actor, policy: Policy, lang: str, skip_bad_rows: bool,
          inline: bool) -> None:
    """Run the import: in a background thread, or (inline) before returning."""
    run.save(stage="running", skip_bad_rows=skip_bad_rows, rows_read=0, share=0.0, started=time.time())
    work = (lambda: execute(engine, run, actor=actor, policy=policy, lang=lang, skip_bad_rows=skip_bad_rows))
    if inline:
        work()
    else:
        threading.Thread(target=work, name=f"import-{run.token}", daemon=True).start()


def execute(engine: Engine, run: Run, *, actor: Actor, policy: Policy, lang: str, skip_bad_rows: bool) -> None:
    """The import itself (the one runtime call to move onto runtime/jobs), with progress."""
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
                             lang=lang, progress=progress)
    except FormworkError as exc:
        run.save(stage="failed", error=exc.message(lang) if hasattr(exc, "message") else str(exc))
        return
    except Exception as exc:   # noqa: BLE001 - a thread has nobody to raise to; the page shows it
        run.save(stage="failed", error=type(exc).__name__)
        raise
    run.save(stage="done", result=summary(report), rows_read=report.rows_read, share=1.0)


def summary(report: ImportReport) -> dict[str, Any]:
    return {"rows_read": report.rows_read, "rows_valid": report.rows_valid,
            "rows_imported": report.rows_imported, "rows_refused": report.rows_refused,
            "orphan_rows": report.orphan_rows, "problem_count": report.problem_count,
            "committed": report.committed, "notes": report.notes, "seconds": round(report.seconds, 2),
            "problems": [asdict(p) for p in report.problems[:SHOWN_PROBLEMS]]}
