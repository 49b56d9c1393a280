"""Records: the runtime service that reads and writes form data."""
from runtime.records.events import (Batch, EventKind, Listeners, RecordChange,  # noqa: F401
                                    RecordEvent)
from runtime.records.history import DEFAULT_LISTENERS, record_history  # noqa: F401
from runtime.records.service import BulkValidationError, Count, Page, Records  # noqa: F401
from runtime.records.transactions import write_transaction  # noqa: F401
