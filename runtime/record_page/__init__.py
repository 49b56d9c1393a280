"""The record page's services (docs/record-pages.md): the record with display values, the
records pointing at it, its history for people, and edits whose conflicts say who."""
from runtime.record_page.history import HistoryFormatter  # noqa: F401
from runtime.record_page.page import EditConflict, RecordPage  # noqa: F401
from runtime.record_page.related import RelatedTabUnknown, tab_counts, tabs  # noqa: F401
