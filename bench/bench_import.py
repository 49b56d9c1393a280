"""Importing 100k rows of a 15-field form from CSV and from XLSX: rows per second and
the ratio to a raw SQLAlchemy Core executemany of the same rows, in the same run.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--db both|sqlite|postgresql]

Each figure is given in wall-clock time and in CPU time of this process. On a shared,
busy machine the wall-clock figures swing with the load; the CPU figures do not, and on
SQLite (in-process) they are the whole cost. On PostgreSQL the server's own work is
not in this process's CPU time, so compare wall-clock figures there.
"""
from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import L, databases, rows_and_databases  # noqa: E402
from engine.compiled import compiled  # noqa: E402
from engine.definition.model import AppDef  # noqa: E402
from engine.fields.base import ValueContext  # noqa: E402
from engine.fields.registry import get_type  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.import_export import import_file  # noqa: E402


def fields() -> list[dict]:
    """15 fields; richer types are used when they are registered."""
    spec = [
        {"key": "name", "type": "text", "label": L("名称"), "required": True},
        {"key": "code", "type": "text", "label": L("编码"), "unique": True, "max_length": 20},
        {"key": "city", "type": "text", "label": L("城市")},
        {"key": "contact", "type": "text", "label": L("联系人")},
        {"key": "note", "type": "textarea", "label": L("备注")},
        {"key": "amount", "type": "number", "label": L("金额"), "precision": 2},
        {"key": "quantity", "type": "number", "label": L("数量"), "precision": 0, "min": 0},
        {"key": "discount", "type": "number", "label": L("折扣"), "precision": 2, "max": 1},
        {"key": "score", "type": "number", "label": L("评分"), "precision": 1},
        {"key": "remark", "type": "text", "label": L("说明")},
    ]
    optional = [
        {"key": "phone", "type": "phone", "label": L("电话")},
        {"key": "signed_on", "type": "date", "label": L("签约日期")},
        {"key": "level", "type": "select", "label": L("等级"),
         "options": [{"value": v, "label": L(v)} for v in ("A", "B", "C")]},
        {"key": "active", "type": "switch", "label": L("启用")},
        {"key": "email", "type": "email", "label": L("邮箱")},
    ]
    for extra in optional:
        if get_type(extra["type"]) is not None:
            spec.append(extra)
        else:
            spec.append({"key": extra["key"], "type": "text", "label": extra["label"]})
    return spec


def cell(key: str, i: int, rnd: random.Random) -> str:
    return {
        "name": f"客户{i}", "code": f"C{i:08d}", "city": rnd.choice(["上海", "北京", "深圳", "杭州"]),
        "contact": f"联系人{i % 977}", "note": "备注" * (i % 5), "amount": f"{rnd.randint(0, 10**7) / 100:.2f}",
        "quantity": str(rnd.randint(0, 500)), "discount": f"{rnd.random():.2f}", "score": f"{rnd.randint(0, 50) / 10}",
        "remark": "", "phone": f"13{rnd.randint(100000000, 999999999)}", "signed_on": f"2025-{rnd.randint(1, 12)}-{rnd.randint(1, 28)}",
        "level": rnd.choice("ABC"), "active": rnd.choice(["是", "否"]), "email": f"user{i}@example.com",
    }[key]


def make_files(folder: Path, rows: int, spec: list[dict]) -> tuple[Path, Path, list[dict]]:
    rnd = random.Random(1)
    keys = [f["key"] for f in spec]
    data = [[cell(k, i, rnd) for k in keys] for i in range(rows)]
    csv_path = folder / "rows.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(keys)
        writer.writerows(data)
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(keys)
    for row in data:
        sheet.append(row)
    xlsx_path = folder / "rows.xlsx"
    book.save(xlsx_path)
    return csv_path, xlsx_path, [dict(zip(keys, row)) for row in data]


class Timer:
    """Wall-clock and CPU seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def timed_import(engine, app_key: str, path: Path, rows: int) -> Timer:
    with Timer() as timer:
        report = import_file(engine, app_key, "items", path)
    assert report.committed and report.rows_imported == rows, report.problems[:3]
    return timer


def line(name: str, label: str, rows: int, timer: Timer, raw: Timer | None = None) -> str:
    text = (f"[{name}] {label:<22} wall {timer.wall:6.2f}s {rows / timer.wall:>8,.0f} rows/s   "
            f"cpu {timer.cpu:6.2f}s {rows / timer.cpu:>8,.0f} rows/s")
    if raw is not None:
        text += f"   ratio to raw: wall {timer.wall / raw.wall:.2f}x, cpu {timer.cpu / raw.cpu:.2f}x"
    return text


def raw_insert(engine, app, rows: list[dict]) -> Timer:
    """The floor: the same rows, already typed (outside the timing), through Core
    executemany with no checks, no history."""
    form = app.require_form("items")
    table = compiled(app).tables.form_table("items")
    types = {f.key: compiled(app).types.of(f) for f in form.fields}
    ctx = ValueContext()
    now = datetime.now(timezone.utc)
    typed = []
    for row in rows:
        values = {"created_at": now, "updated_at": now, "version": 1}
        for key, text in row.items():
            values.update(types[key].to_row(types[key].parse_text(text, ctx) if text else None))
        typed.append(values)
    with Timer() as timer, engine.begin() as conn:
        for i in range(0, len(typed), 10_000):
            conn.execute(table.insert(), typed[i:i + 10_000])
    return timer


def fresh_app(engine, key: str) -> AppDef:
    app = AppDef.from_dict({"format_version": 1, "app": {"key": key, "label": L(key)},
                            "forms": [{"key": "items", "label": L("条目"), "fields": fields()}]})
    apply_app(engine, app)
    return app


def main():
    count, which = rows_and_databases(__doc__, 100_000)
    folder = Path(tempfile.mkdtemp(prefix="formwork-import-"))
    spec = fields()
    csv_path, xlsx_path, rows = make_files(folder, count, spec)
    print(f"{count:,} rows x {len(spec)} fields; types: "
          f"{', '.join(sorted({f['type'] for f in spec}))}")
    for name, engine in databases(which):
        raw = raw_insert(engine, fresh_app(engine, "rawapp"), rows)
        print(line(name, "raw Core executemany", count, raw), flush=True)
        fresh_app(engine, "csvapp")
        print(line(name, "import csv", count, timed_import(engine, "csvapp", csv_path, count), raw),
              flush=True)
        fresh_app(engine, "xlsxapp")
        print(line(name, "import xlsx", count, timed_import(engine, "xlsxapp", xlsx_path, count), raw),
              flush=True)


if __name__ == "__main__":
    main()
