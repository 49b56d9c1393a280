"""Saved views and the data table (docs/record-pages.md): what a table of a form's
records shows, per user, and one call for a page of it."""
from runtime.views.errors import ViewError, ViewNotFound  # noqa: F401
from runtime.views.spec import ViewSpec  # noqa: F401
from runtime.views.store import SavedViews  # noqa: F401
from runtime.views.table import DataTable, count_json  # noqa: F401
