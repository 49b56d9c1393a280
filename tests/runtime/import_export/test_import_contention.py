"""An import pass aborted by the database for other writers (a deadlock on PostgreSQL)
runs again from the start: every row once, a report of the pass that committed."""
from __future__ import annotations

import sqlalchemy as sa

from runtime.import_export import importer as importer_module
from runtime.import_export.importer import import_file
from runtime.records import Records
from tests.support.records_app import install_shop


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_an_import_aborted_by_a_deadlock_runs_again_and_writes_each_row_once(db, tmp_path, monkeypatch):
    app = install_shop(db)
    source = tmp_path / "customers.csv"
    source.write_text("name,code\n" + "".join(f"客户{i},C{i}\n" for i in range(30)), encoding="utf-8")
    real_write, calls = importer_module._BatchImporter._write, []

    def write_then_abort(self, batch, parsed):
        real_write(self, batch, parsed)            # the rows are in the transaction...
        calls.append(len(batch))
        if len(calls) == 2:                        # ...when the database aborts it, once
            raise sa.exc.OperationalError("INSERT ...", {}, _Deadlock("deadlock detected"))

    monkeypatch.setattr(importer_module._BatchImporter, "_write", write_then_abort)
    report = import_file(db, app.key, "customers", source, batch_size=10)
    assert (report.rows_read, report.rows_imported, report.committed) == (30, 30, True)
    assert calls == [10, 10, 10, 10, 10]           # two batches, aborted; then the whole pass again
    with db.connect() as conn:
        assert Records(conn, app).count("customers").value == 30
