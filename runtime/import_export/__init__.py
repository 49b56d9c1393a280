"""Spreadsheet import and export (CSV and XLSX)."""
from runtime.import_export.exporter import export_records  # noqa: F401
from runtime.import_export.importer import CellProblem, ImportReport, import_file  # noqa: F401
