"""Record events: what a write of the record service changed, raised to listeners on the
write's own connection, inside its transaction.

Each write call of `Records` (create, bulk_create, create_many, update, bulk_update,
delete, restore, purge) raises one `Batch` after its statements: its own event first
(`created`, `updated`, `deleted`, `restored`, `purged`, covering every record of the
call), then one `derived` event per form whose computed fields (rollups, formulas across
relations) the write recomputed on other records. A call that changes nothing raises
nothing. The listeners of the `Listeners` registry given to `Records` are called one
after the other, in their order, with that batch:

    def notify(batch: Batch) -> None:
        for event in batch.events:
            if event.kind is EventKind.UPDATED and event.form_key == "contracts":
                batch.conn.execute(outbox.insert(), [...])     # same transaction

    records = Records(conn, app, listeners=DEFAULT_LISTENERS.then(notify))

The history listener (runtime/records/history.py) is always the first one. A listener
that raises aborts the write: the call's savepoint is rolled back with everything it
wrote (the record, the recomputed fields, the history rows) and the exception reaches the
caller unchanged, so a listener refusing a change raises a FormworkError that says why.
Listeners write rows of their own (an outbox entry, a workflow instance) on `batch.conn`
and must not write records through `Records` (what must happen later is a job); they
run before the caller commits, so nothing may leave the process from a listener.

Values are the field types' Python values, as the cleaner and the loader hold them
(Decimal, date, a relation's id or list of ids, a subform's list of rows); `old` and
`new` are read-only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Callable, Iterable, Iterator, Mapping

import sqlalchemy as sa

from engine.compiled.app import App
from engine.errors import FormworkError

NOTHING: Mapping[str, Any] = MappingProxyType({})


class EventKind(StrEnum):
    CREATED = "created"      # new: every value the record was created with; old: empty
    UPDATED = "updated"      # old and new: the fields whose value changed, nothing else
    DELETED = "deleted"      # moved to the recycle bin; old and new empty
    RESTORED = "restored"    # back from the recycle bin; old and new empty
    PURGED = "purged"        # gone for good (version 0); old and new empty
    DERIVED = "derived"      # computed fields of other records recomputed by the write


@dataclass(frozen=True, slots=True)
class RecordChange:
    record_id: int
    version: int | None      # after the write; 0 for purged, None for derived (unchanged)
    old: Mapping[str, Any] = field(default_factory=lambda: NOTHING)
    new: Mapping[str, Any] = field(default_factory=lambda: NOTHING)


@dataclass(frozen=True, slots=True)
class RecordEvent:
    kind: EventKind
    app_key: str
    form_key: str
    user_id: int | None      # who wrote (for derived: who wrote the record that caused it)
    at: datetime
    changes: tuple[RecordChange, ...]

    @property
    def record_ids(self) -> list[int]:
        return [change.record_id for change in self.changes]

    @property
    def fields(self) -> frozenset[str]:
        """The fields that have a new value in at least one of the records."""
        return frozenset().union(*(change.new for change in self.changes))


@dataclass(frozen=True, slots=True, eq=False)
class Batch:
    """The events of one write call, and what a listener writes with."""
    conn: sa.Connection
    app: App
    events: tuple[RecordEvent, ...]


Listener = Callable[[Batch], None]


class Listeners:
    """An ordered, immutable registry of listeners. `then` gives a new registry with more
    listeners after these, so a registry shared by many services is never changed."""

    __slots__ = ("_listeners",)

    def __init__(self, *listeners: Listener):
        for listener in listeners:
            if not callable(listener):
                raise FormworkError(f"a record listener must be callable with a Batch, got {listener!r}")
        self._listeners: tuple[Listener, ...] = listeners

    def then(self, *listeners: Listener) -> "Listeners":
        return Listeners(*self._listeners, *listeners)

    def __iter__(self) -> Iterator[Listener]:
        return iter(self._listeners)

    def __len__(self) -> int:
        return len(self._listeners)

    def __repr__(self) -> str:
        names = ", ".join(getattr(x, "__qualname__", repr(x)) for x in self._listeners)
        return f"Listeners({names})"

    def emit(self, conn: sa.Connection, app: App, events: Iterable[RecordEvent]) -> None:
        """Call every listener, in order, with the events that hold a change (none: no call).
        An exception stops the others and reaches the caller."""
        kept = tuple(event for event in events if event.changes)
        if not kept:
            return
        batch = Batch(conn, app, kept)
        for listener in self._listeners:
            listener(batch)
