"""Records: the runtime service that reads and writes form data."""
from runtime.records.service import BulkValidationError, Count, Page, Records  # noqa: F401
from runtime.records.transactions import write_transaction  # noqa: F401
