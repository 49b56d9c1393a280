"""The record service: create, update, delete to the recycle bin, restore, purge,
get and list the records of one app, as one actor, inside the caller's transaction.

    with engine.begin() as conn:
        records = Records(conn, app, actor=actor_for(conn, "li.lei"))
        rec = records.create("customers", {"name": "张三", "phone": "13812345678"})
        records.update("customers", rec["id"], {"level": "vip"}, expected_version=rec["version"])

Every write validates all fields at once (RecordValidationError lists them all),
checks references and unique values with one query per target for the whole
batch, and raises one batch of record events to the listeners (runtime/records/
events.py), the first of which writes the field-level history. Statement counts
stay fixed per call, whatever the number of records or fields.

What the actor may do is the policy's answer (runtime/permissions/policy.py), asked in
one place (`_access`) and enforced here for reads and writes alike: actions, a row
scope ANDed into the SQL of every read, hidden and read-only fields. The default
policy, FullAccess, allows everything and adds no statement.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from types import MappingProxyType
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from engine.compiled.app import App, compiled
from engine.computed.filter_tree import parse_filter
from engine.computed.graph import EXISTS
from engine.definition.model import AppDef, FormDef
from engine.dialect import Dialect
from engine.errors import ConflictError, FieldIssue, FormworkError, IntegrityProblem, NotFound, RecordValidationError
from engine.fields.base import DEFAULT_TZ, AssignScope, FieldType, ValueContext
from engine.fields.relation import RelationField
from engine.query.columns import read_columns
from engine.query.filters import compile_filter
from engine.query.pages import after_clause, decode_cursor, encode_cursor, order_by, parse_sort
from engine.upkeep.derived_rules import ChangedRecords
from engine.upkeep.upkeep import Upkeep
from runtime.actor import Actor
from runtime.permissions.errors import PermissionDenied
from runtime.permissions.fields import refuse_hidden, refuse_hidden_in_filter
from runtime.permissions.policy import CREATE, DELETE, EDIT, FULL, FULL_ACCESS, HISTORY, VIEW, FormAccess, Policy
from runtime.records import history
from runtime.records.events import EventKind, Listeners, RecordChange, RecordEvent
from runtime.records.loading import PageLoader
from runtime.records.transactions import in_atomic_block
from runtime.records.validation import CleanedRecord, RecordCleaner, check_references, check_unique

MAX_PAGE_SIZE = 500
COUNT_CAP = 10_000
MAX_BATCH = 10_000


class BulkValidationError(RecordValidationError):
    """Issues of several records, keyed by their position in the batch (0-based)."""

    def __init__(self, by_index: dict[int, list[FieldIssue]]):
        self.by_index = by_index
        flat = [issue for issues in by_index.values() for issue in issues]
        super().__init__(flat)
        self.args = ("; ".join(f"record {i + 1}: " + "; ".join(
            f"{x.field}: {x.code}" for x in issues) for i, issues in by_index.items()),)

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {"error": "validation", "records": [
            {"index": i, "issues": [x.as_dict(lang) for x in issues]}
            for i, issues in self.by_index.items()]}


@dataclass
class Count:
    value: int
    exact: bool          # False: `value` is a lower bound (capped) or an estimate
    estimated: bool = False


@dataclass
class Page:
    records: list[dict[str, Any]]
    next_cursor: str | None
    count: Count | None


def _all_or_nothing(write):
    """A write method in a savepoint: refused part way (a rule of a related record, a
    unique value, a stale version), it leaves nothing behind, even when the caller's
    transaction goes on with other writes after catching the error. It is the write's
    only savepoint: a statement the database refuses inside it (a unique index, on
    PostgreSQL an aborted transaction) is undone with the rest when the error leaves it,
    so nothing inside opens another (two statements fewer per write)."""
    @wraps(write)
    def run(self, *args, **kwargs):
        if in_atomic_block(self.conn):      # the enclosing block rolls back as a whole
            return write(self, *args, **kwargs)
        with self.conn.begin_nested():
            return write(self, *args, **kwargs)
    return run


class Records:
    def __init__(self, conn: sa.Connection, app: App | AppDef, *, actor: Actor | None = None,
                 policy: Policy = FULL_ACCESS, lang: str | None = None, tz: ZoneInfo = DEFAULT_TZ, now=None,
                 listeners: Listeners | None = None):
        """`app`: the compiled app (runtime.apps.load_installed gives it); a definition is
        compiled once (engine.compiled.app.compiled). `actor` (runtime/actor.py; default
        the system actor): its user id is recorded as created_by, updated_by and owner and
        in the history, and is CURRENTUSER() in formulas. `policy`: what the actor may do
        (runtime/permissions). `lang`: of messages and displayed values (default the actor's).
        `listeners`: who hears the record events, history first (history.DEFAULT_LISTENERS
        when None)."""
        self.actor = actor or Actor.system()
        self.conn, self.app, self.user_id = conn, compiled(app), self.actor.user_id
        self.policy, self._accesses = policy, {}
        self.listeners = history.history_first(listeners)
        self.tables = self.app.tables
        self.ctx = ValueContext(lang=lang or self.actor.lang, tz=tz, now=now, user_id=self.user_id)
        self.dialect = Dialect.of(conn)
        self.upkeep = Upkeep(conn, self.app, self.ctx)   # formulas, rollups, rules

    # ---- helpers ------------------------------------------------------------------
    def _form(self, form_key: str) -> tuple[FormDef, sa.Table]:
        form = self.app.require_form(form_key)
        return form, self.tables.form_table(form_key)

    def _access(self, form: FormDef, action: str | None = None) -> FormAccess:
        """The one place the service asks its policy (once per form): what the actor may
        do with `form`. Raises PermissionDenied when `action` is not among it."""
        access = self._accesses.get(form.key)
        if access is None:
            access = self._accesses[form.key] = self.policy.access(self.app, form, self.actor)
        if action is not None and not access.can(action):
            raise PermissionDenied(f"permission_{action}_denied", form=form.key)
        return access

    def access(self, form: FormDef | str, action: str | None = None) -> FormAccess:
        """What the actor may do with `form` (a key or the form; PermissionDenied when
        `action` is not among it): the policy's answer, asked once per form, for the
        services built on this one (runtime/forms, runtime/views...)."""
        return self._access(self.app.require_form(form) if isinstance(form, str) else form, action)

    def clean_input(self, cleaner: RecordCleaner, access: FormAccess, raw: Any, **options) -> CleanedRecord:
        """Input cleaned as a create or update cleans it (fields the actor may not set refused)."""
        return self._clean(cleaner, access, raw, **options)

    @staticmethod
    def _scoped(query, access: FormAccess, action: str = VIEW):
        """`query` restricted to the rows the actor may reach with `action` (unchanged
        for all rows)."""
        scope = access.scope(action)
        return query if scope is None else query.where(scope)

    def _clean(self, cleaner: RecordCleaner, access: FormAccess, raw: Any, **options) -> CleanedRecord:
        """`cleaner.clean(raw)` with the fields the actor may not set left out, each
        refused with a `permission_read_only` issue."""
        blocked = [key for key in raw if not access.can_edit(key)] \
            if access.limits_writes and isinstance(raw, dict) else []
        if not blocked:
            return cleaner.clean(raw, **options)
        record = cleaner.clean({k: v for k, v in raw.items() if k not in blocked}, **options)
        record.issues[:0] = [FieldIssue(key, "permission_read_only") for key in blocked]
        return record

    def _ctx_for(self, form: FormDef) -> ValueContext:
        return self.ctx.for_form(self.tables, form.key)

    def _now(self):
        return self.ctx.current_time()

    def _locked(self, table: sa.Table, query):
        """`query` locking its rows on PostgreSQL, in id order (as Upkeep.lock_ahead does)."""
        return query.order_by(table.c.id).with_for_update() if self.dialect.row_locks else query

    # ---- create -------------------------------------------------------------------
    def create(self, form_key: str, values: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.bulk_create(form_key, [values])[0]
        except BulkValidationError as exc:
            raise RecordValidationError(exc.by_index[0]) from None

    def bulk_create(self, form_key: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create many records: all or nothing. Returns the created records."""
        form, table = self._form(form_key)
        ids, _failures = self.create_many(form_key, rows, skip_invalid=False)
        return self._fetch(form, table, ids, access=self._access(form))

    @_all_or_nothing
    def create_many(self, form_key: str, rows: list[dict[str, Any]], *, skip_invalid: bool,
                    exclude: frozenset[int] | set[int] = frozenset(),
                    already_clean: frozenset[str] = frozenset()
                    ) -> tuple[list[int], dict[int, list[FieldIssue]]]:
        """Create records and return (new ids, {index: issues} of the refused ones).

        With skip_invalid=False any refused record raises BulkValidationError and nothing
        is written; with True the valid records are written and the others reported.
        Records whose index is in `exclude` are checked (so every problem is reported,
        duplicates within the batch included) but never written. `already_clean` names
        fields whose values came from the field type's parser (see RecordCleaner.clean)."""
        form, table = self._form(form_key)
        access = self._access(form, CREATE)
        if len(rows) > MAX_BATCH:
            raise FormworkError(f"at most {MAX_BATCH} records per call, got {len(rows)}; split the batch")
        if not rows:
            return [], {}
        cleaner = RecordCleaner(self.app, form, self._ctx_for(form))
        cleaned = [self._clean(cleaner, access, row, creating=True, already_clean=already_clean)
                   for row in rows]
        check_references(self.conn, self.tables, cleaner, cleaned)
        check_unique(self.conn, table, cleaner, cleaned, [None] * len(cleaned))
        self.upkeep.before_create(form, cleaned)
        failures = {i: r.issues for i, r in enumerate(cleaned) if r.issues}
        if failures and not skip_invalid:
            raise BulkValidationError(failures)
        good = [r for i, r in enumerate(cleaned) if not r.issues and i not in exclude]
        if not good:
            return [], failures
        self._assign_system_values(form, cleaner, good)
        self.upkeep.before_insert(form, good)
        now = self._now()
        db_rows = []
        # Most types store their value as is in one column: set those directly (an import
        # writes 100k rows through here; a to_row call per value is a fifth of its time).
        plain = {key: t.column_name for key, t in cleaner.types.items()
                 if type(t).to_row is FieldType.to_row}
        for record in good:
            row = {"created_at": now, "updated_at": now, "created_by": self.user_id,
                   "updated_by": self.user_id, "owner_id": self.user_id, "version": 1}
            for key, value in record.values.items():
                column = plain.get(key)
                if column is not None:
                    row[column] = value
                else:
                    row.update(cleaner.types[key].to_row(value))
            db_rows.append(row)
        columns = set().union(*(r.keys() for r in db_rows))
        db_rows = [{c: r.get(c) for c in columns} for r in db_rows]
        try:        # in the write's one savepoint (_all_or_nothing): a refused insert undoes the call
            ids = self._insert_returning_ids(table, db_rows)
        except IntegrityError as exc:
            raise self._integrity_error(form, cleaner, exc) from None
        self._write_links_and_children(form, cleaner, ids, good, replace=False)
        self.upkeep.lock_ahead(form, ids, {EXISTS})
        derived = self.upkeep.after_create(form, ids)
        self._emit(EventKind.CREATED, form.key, now, [
            RecordChange(rid, 1, new=MappingProxyType(self._all_values(record)))
            for rid, record in zip(ids, good)], derived)
        return ids, failures

    def _insert_returning_ids(self, table: sa.Table, rows: list[dict]) -> list[int]:
        """Insert rows in batched multi-row statements; ids in the order of `rows`."""
        if not self.dialect.ordered_returning:
            # SQLite cannot promise RETURNING order, so SQLAlchemy would fall back to one
            # statement per row. Row ids are allocated in increasing order inside one write
            # transaction (SQLite holds the write lock), so sorting restores row order.
            return sorted(self.conn.execute(table.insert().returning(table.c.id), rows).scalars())
        return list(self.conn.execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True), rows).scalars())

    def _check_batch(self, table, cleaner, cleaned: list[CleanedRecord], own_ids) -> None:
        check_references(self.conn, self.tables, cleaner, cleaned)
        check_unique(self.conn, table, cleaner, cleaned, own_ids)
        problems = {i: r.issues for i, r in enumerate(cleaned) if r.issues}
        if problems:
            raise BulkValidationError(problems)

    def _assign_system_values(self, form, cleaner, cleaned) -> None:
        for fdef in form.fields:
            ftype = cleaner.types[fdef.key]
            if ftype.system_assigned:
                scope = AssignScope(self.app.key, form.key, fdef.key)
                kept = [r.values[fdef.key] for r in cleaned if r.values.get(fdef.key) is not None]
                if kept:   # imported values: never assign them again
                    ftype.keep_values(self.conn, scope, kept, cleaner.ctx)
                missing = [r for r in cleaned if r.values.get(fdef.key) is None]
                if not missing:
                    continue
                values = ftype.assign_values(self.conn, scope, len(missing), cleaner.ctx)
                for record, value in zip(missing, values):
                    record.values[fdef.key] = value

    def _integrity_error(self, form, cleaner, exc) -> FormworkError:
        """A unique index refused a value another transaction wrote meanwhile."""
        text = str(exc.orig).lower()
        for fdef in form.fields:
            if fdef.unique and fdef.key.lower() in text:
                return RecordValidationError([FieldIssue(fdef.key, "unique", {"value": "?"})])
        return IntegrityProblem(f"the database refused the change: {str(exc.orig).splitlines()[0]}")

    def _all_values(self, record: CleanedRecord) -> dict[str, Any]:
        merged = dict(record.values)
        merged.update(record.links)
        merged.update(record.subforms)
        return merged

    # ---- events -------------------------------------------------------------------
    def _emit(self, kind: EventKind, form_key: str, at, changes: list[RecordChange],
              derived: ChangedRecords) -> None:
        """The write's event, then its derived changes, to the listeners (history first):
        one batch per call. A listener's exception aborts the call (its savepoint)."""
        events = [RecordEvent(kind, self.app.key, form_key, self.user_id, at, tuple(changes))]
        events += self._derived_events(derived, at)
        self.listeners.emit(self.conn, self.app, events)

    def _derived_events(self, derived: ChangedRecords, at) -> list[RecordEvent]:
        """One event per form whose computed fields the upkeep changed, from the values it
        read and wrote anyway (no query); a field recomputed back to its value is left out."""
        events = []
        for form_key, before in derived.by_form.items():
            after = derived.after.get(form_key, {})
            changes = []
            for rid in sorted(before):
                new = {key: value for key, value in after.get(rid, {}).items()
                       if key in before[rid] and before[rid][key] != value}
                if new:
                    old = {key: before[rid][key] for key in new}
                    changes.append(RecordChange(rid, None, MappingProxyType(old), MappingProxyType(new)))
            events.append(RecordEvent(EventKind.DERIVED, self.app.key, form_key, self.user_id, at,
                                      tuple(changes)))
        return events

    def _write_links_and_children(self, form, cleaner, ids, cleaned, *, replace: bool) -> None:
        for fdef in form.fields:
            storage = cleaner.types[fdef.key].storage
            if storage not in ("link_table", "child_table"):
                continue
            attr = "links" if storage == "link_table" else "subforms"
            touched = [(rid, getattr(rec, attr)[fdef.key]) for rid, rec in zip(ids, cleaned)
                       if fdef.key in getattr(rec, attr)]
            if not touched:
                continue
            if storage == "link_table":
                table = self.tables.link_table(form.key, fdef.key)
                rows = [{"source_id": rid, "target_id": t, "position": pos}
                        for rid, targets in touched for pos, t in enumerate(targets)]
                key_col = table.c.source_id
            else:
                table = self.tables.child_table(form.key, fdef.key)
                sub_types = cleaner.sub_types[fdef.key]
                rows = []
                for rid, sub_rows in touched:
                    for pos, values in enumerate(sub_rows):
                        row = {"parent_id": rid, "position": pos}
                        for sub in fdef.fields:
                            row.update(sub_types[sub.key].to_row(values.get(sub.key)))
                        rows.append(row)
                key_col = table.c.parent_id
            if replace:
                self.conn.execute(table.delete().where(key_col.in_([rid for rid, _ in touched])))
            if rows:
                self.conn.execute(table.insert(), rows)

    # ---- read ---------------------------------------------------------------------
    def _columns(self, form: FormDef, table: sa.Table):
        """The table as reads see it: formula fields reading the clock computed now."""
        return read_columns(self.app, form, table, self.ctx)

    def _fetch(self, form, table, ids: list[int], include_deleted: bool = True, *,
               access: FormAccess = FULL, scoped: bool = False) -> list[dict]:
        """Records by id with the fields `access` shows; only those in its row scope
        when `scoped` (a record a write gives back is shown whatever its scope)."""
        loader = PageLoader.for_form(self.app, form, self.tables, self.ctx, access.visible_fields(form))
        query = loader.select(columns=self._columns(form, table)).where(table.c.id.in_(ids))
        if not include_deleted:
            query = query.where(table.c.deleted_at.is_(None))
        if scoped:
            query = self._scoped(query, access)
        by_id = {r["id"]: r for r in loader.records(self.conn, self.conn.execute(query).all())}
        return [by_id[i] for i in ids if i in by_id]

    def get_many(self, form_key: str, record_ids: list[int], *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """The records of `record_ids` this actor may view, in that order, read in one go
        (an id that does not exist, or is in the recycle bin without include_deleted, is left out)."""
        form, table = self._form(form_key)
        found = self._fetch(form, table, list(record_ids), include_deleted=include_deleted,
                            access=self._access(form, VIEW), scoped=True)
        return found

    def get(self, form_key: str, record_id: int, *, include_deleted: bool = False) -> dict[str, Any]:
        form, table = self._form(form_key)
        found = self._fetch(form, table, [record_id], include_deleted=True,
                            access=self._access(form, VIEW), scoped=True)
        if not found or (found[0]["deleted_at"] is not None and not include_deleted):
            raise NotFound(f"{form_key} record #{record_id} does not exist"
                           + (" (it is in the recycle bin)" if found else ""))
        return found[0]

    def list(self, form_key: str, *, filter: Any = None, sort: Any = None, search: str | None = None,
             page_size: int = 50, cursor: str | None = None, deleted: bool = False,
             with_count: bool | None = None, fields: Iterable[str] | None = None) -> Page:
        """One page of records. `cursor` is the previous page's next_cursor. The count is
        computed on the first page only (unless with_count says otherwise), exact up to
        COUNT_CAP and estimated (PostgreSQL) or reported as a lower bound beyond."""
        form, table = self._form(form_key)
        if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise FormworkError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size!r}")
        access = self._access(form, VIEW)
        columns = self._columns(form, table)
        where = self._where(form, table, columns, access, filter, search, deleted)
        if fields is not None:
            fields = list(fields)
            refuse_hidden(self.app, form, [(f"fields[{i}]", key) for i, key in enumerate(fields)],
                          self._access, "permission_hidden_fields")
        keys = self._sort_keys(form, columns, access, sort)
        loader = PageLoader.for_form(self.app, form, self.tables, self.ctx,
                                     access.visible_fields(form) if fields is None else fields)
        query, sort_names = loader.sorted_select(keys, columns)
        rows = self._page_rows(query, where, keys, cursor, page_size)
        more = len(rows) > page_size
        rows = rows[:page_size]
        records = loader.records(self.conn, rows)
        next_cursor = None
        if more:
            last = rows[-1]._mapping
            next_cursor = encode_cursor(keys, [last[name] for name in sort_names])
        count = None
        if with_count or (with_count is None and not cursor):
            count = self.count_where(table, where)
        return Page(records, next_cursor, count)

    def _page_rows(self, query, where, keys, cursor, page_size) -> list:
        """page_size + 1 rows after the cursor. Where empty values of the first sort key
        come after all others, they are read by a second query only when the values run
        out, so that the main query stays an index range scan."""
        ordered = query.order_by(*order_by(keys))
        if not cursor:
            return self.conn.execute(ordered.where(where).limit(page_size + 1)).all()
        values = decode_cursor(keys, cursor)
        after, null_tail = after_clause(keys, values, self.dialect.nulls_sort_smallest)
        rows = self.conn.execute(ordered.where(where, after).limit(page_size + 1)).all()
        if null_tail is not None and len(rows) <= page_size:
            rows += self.conn.execute(ordered.where(where, null_tail)
                                      .limit(page_size + 1 - len(rows))).all()
        return rows

    def count(self, form_key: str, *, filter: Any = None, search: str | None = None,
              deleted: bool = False) -> Count:
        form, table = self._form(form_key)
        columns = self._columns(form, table)
        return self.count_where(table, self._where(form, table, columns, self._access(form, VIEW), filter,
                                                   search, deleted))

    def _where(self, form, table, columns, access: FormAccess, filter, search,
               deleted: bool) -> sa.ColumnElement:
        """The WHERE of a list or count: bin or not, the filter (refused when it reads a
        field the actor may not see), the search, the actor's row scope."""
        tree = parse_filter(filter, form, app=self.app.definition, types=self.app.types)
        if tree.errors:     # told again, so that no "did you mean" names a field the actor may not see
            tree = parse_filter(filter, form, app=self.app.definition, types=self.app.types,
                                hidden=lambda f: self._access(f).hidden_fields)
        refuse_hidden_in_filter(self.app, form, tree, self._access)
        parts = [table.c.deleted_at.is_not(None) if deleted else table.c.deleted_at.is_(None),
                 compile_filter(form, columns, tree, self._ctx_for(form), tables=self.tables),
                 self._search_clause(form, columns, search, access)]
        if access.row_scope is not None:
            parts.append(access.row_scope)
        return sa.and_(*parts)

    def _sort_keys(self, form, columns, access: FormAccess, sort) -> list:
        """The sort keys; sorting by a field the actor may not see is refused, and a
        form's default sort on one falls back to the newest first."""
        keys = parse_sort(form, columns, sort, self.app.types, access.hidden_fields)
        hidden = [(f"sort[{i}]", k.key) for i, k in enumerate(keys) if not access.can_see(k.key)]
        if hidden and sort in (None, "", []):
            return parse_sort(form, columns, [{"field": "id", "dir": "desc"}], self.app.types)
        refuse_hidden(self.app, form, hidden, self._access, "permission_hidden_sort")
        return keys

    def count_where(self, table: sa.Table, where) -> Count:
        capped = sa.select(sa.literal(1)).select_from(table).where(where).limit(COUNT_CAP + 1).subquery()
        value = self.conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one()
        if value <= COUNT_CAP:
            return Count(value, exact=True)
        if self.dialect.row_estimates:
            estimate = self._pg_estimate(sa.select(table.c.id).where(where))
            if estimate and estimate > COUNT_CAP:
                return Count(estimate, exact=False, estimated=True)
        return Count(COUNT_CAP, exact=False)

    def _pg_estimate(self, query) -> int | None:
        """The planner's row estimate: no scan, good enough for 'about 1.2 million'."""
        compiled = query.compile(dialect=self.conn.dialect, compile_kwargs={"literal_binds": True})
        plan = self.conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}").scalar()
        try:
            return int(plan[0]["Plan"]["Plan Rows"])
        except (KeyError, IndexError, TypeError, ValueError):
            return None

    def _search_clause(self, form, table, search, access: FormAccess = FULL):
        """Any searchable field the actor may see holds the text."""
        if not search:
            return sa.true()
        needle = str(search)[:200]
        types = [self.app.types.of(f) for f in form.fields if access.can_see(f.key)]
        clauses = [c for c in (t.search_clause(table, needle) for t in types if t.searchable)
                   if c is not None]
        return sa.or_(*clauses) if clauses else sa.false()

    def history(self, form_key: str, record_id: int) -> list[dict[str, Any]]:
        """The record's changes, oldest first, without the fields the actor may not see;
        none for a record outside the actor's row scope (as for one that never existed)."""
        form, table = self._form(form_key)
        self._access(form, VIEW)
        access = self._access(form, HISTORY)
        if access.scope(HISTORY) is not None and self.conn.execute(self._scoped(
                sa.select(table.c.id).where(table.c.id == record_id), access, HISTORY)).first() is None:
            return []
        entries = history.read(self.conn, self.app.key, form_key, record_id)
        if access.hidden_fields:
            for entry in entries:
                entry["changes"] = {k: v for k, v in entry["changes"].items() if access.can_see(k)}
        return entries

    # ---- update -------------------------------------------------------------------
    def update(self, form_key: str, record_id: int, changes: dict[str, Any],
               expected_version: int | None = None) -> dict[str, Any]:
        try:
            return self.bulk_update(form_key, [{"id": record_id, "changes": changes,
                                                "version": expected_version}])[0]
        except BulkValidationError as exc:
            raise RecordValidationError(exc.by_index[0]) from None

    @_all_or_nothing
    def bulk_update(self, form_key: str, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply [{"id", "changes", "version"?}] all or nothing. A given version must be
        the record's current one (optimistic locking)."""
        form, table = self._form(form_key)
        access = self._access(form, EDIT)
        if len(updates) > MAX_BATCH:
            raise FormworkError(f"at most {MAX_BATCH} records per call, got {len(updates)}")
        if not updates:
            return []
        ids = [int(u["id"]) for u in updates]
        if len(set(ids)) != len(ids):
            raise FormworkError("the same record appears twice in one bulk update; merge its changes")
        changes = [u["changes"] for u in updates if isinstance(u.get("changes"), dict)]
        self.upkeep.lock_ahead(form, ids, set().union(*changes), changes=changes, own=True)
        current = {row.id: row for row in self.conn.execute(self._locked(table, self._scoped(
            sa.select(table).where(table.c.id.in_(ids), table.c.deleted_at.is_(None)), access, EDIT)))}
        for u in updates:
            row = current.get(int(u["id"]))
            if row is None:
                raise NotFound(f"{form_key} record #{u['id']} does not exist or is in the recycle bin")
            if u.get("version") is not None and int(u["version"]) != row.version:
                raise ConflictError(form_key, row.id, int(u["version"]), row.version)
        cleaner = RecordCleaner(self.app, form, self._ctx_for(form))
        cleaned = [self._clean(cleaner, access, u.get("changes") or {}, creating=False, current=current[rid])
                   for u, rid in zip(updates, ids)]
        self.upkeep.before_update(form, ids, cleaned, current)
        self._check_batch(table, cleaner, cleaned, ids)
        before = self._before_values(form, cleaner, current, ids, cleaned)
        now = self._now()
        record_changes, changed_ids, changed_keys, row_values = [], [], {}, {}
        for rid, record in zip(ids, cleaned):
            old, new = _changed(before[rid], self._all_values(record))
            if not new:
                continue
            changed_keys[rid] = set(new)
            version = current[rid].version
            values = {"updated_at": now, "updated_by": self.user_id, "version": version + 1}
            for key in record.values:
                if key in new:
                    values.update(cleaner.types[key].to_row(record.values[key]))
            row_values[rid] = values
            record_changes.append(RecordChange(rid, version + 1, MappingProxyType(old),
                                               MappingProxyType(new)))
            changed_ids.append(rid)
        self._write_updates(form, table, cleaner, current, row_values)
        changed = [(rid, rec) for rid, rec in zip(ids, cleaned) if rid in changed_ids]
        self._write_links_and_children(form, cleaner, [r for r, _ in changed],
                                       [c for _, c in changed], replace=True)
        derived = self.upkeep.after_update(form, changed_keys, before)
        self._emit(EventKind.UPDATED, form.key, now, record_changes, derived)
        return self._fetch(form, table, ids, access=access)

    def _write_updates(self, form, table, cleaner, current, row_values: dict[int, dict]) -> None:
        """Write changed rows: one executemany per set of changed columns, never one
        statement per record. Each row is guarded by its version (optimistic locking);
        a summed row count short of the batch means another writer got there first."""
        groups: dict[tuple[str, ...], list[int]] = {}
        for rid, values in row_values.items():
            groups.setdefault(tuple(sorted(values)), []).append(rid)
        for columns, rids in groups.items():
            # Bind names must differ from column names in an UPDATE's SET clause.
            statement = table.update().where(
                table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_version")
            ).values({c: sa.bindparam(f"b{i}_{c}") for i, c in enumerate(columns)})
            params = [{"b_id": rid, "b_version": current[rid].version,
                       **{f"b{i}_{c}": row_values[rid][c] for i, c in enumerate(columns)}}
                      for rid in rids]
            try:    # in bulk_update's one savepoint (_all_or_nothing)
                result = self.conn.execute(statement, params)
            except IntegrityError as exc:
                raise self._integrity_error(form, cleaner, exc) from None
            if result.rowcount != len(rids):
                self._raise_conflict(form.key, table, current, rids)

    def _raise_conflict(self, form_key, table, current, rids) -> None:
        """Name the first record whose stored version moved on (one query)."""
        actual = dict(self.conn.execute(sa.select(table.c.id, table.c.version)
                                        .where(table.c.id.in_(rids))).all())
        for rid in rids:
            if actual.get(rid) != current[rid].version + 1:
                raise ConflictError(form_key, rid, current[rid].version, actual.get(rid))
        raise ConflictError(form_key, rids[0], current[rids[0]].version, actual.get(rids[0]))

    def _before_values(self, form, cleaner, current, ids, cleaned) -> dict[int, dict[str, Any]]:
        """Current values of the fields being changed (links and subforms loaded only
        when a change touches them, one query per such field)."""
        before = {rid: {key: t.from_row(current[rid]._mapping) for key, t in cleaner.types.items()
                        if t.storage == "column"} for rid in ids}
        touched = set().union(*(set(c.links) | set(c.subforms) for c in cleaned))
        if touched:
            loader = PageLoader.for_form(self.app, form, self.tables, self.ctx, fields=touched)
            stubs = [{"id": rid, "fields": {}} for rid in ids]
            loader.load_side_tables(self.conn, stubs)
            for stub in stubs:
                for key in touched:
                    value = stub["fields"].get(key)
                    if key in cleaner.sub_types and value is not None:
                        value = [{k: v for k, v in row.items() if k != "id"} for row in value]
                    before[stub["id"]][key] = value
        return before

    # ---- delete, restore, purge ----------------------------------------------------
    @_all_or_nothing
    def delete(self, form_key: str, ids: int | list[int]) -> int:
        """Move records to the recycle bin. Relations pointing at them decide: restrict
        refuses, cascade moves the referencing records too, set_null waits for purge."""
        form, table = self._form(form_key)
        ids = [ids] if isinstance(ids, int) else list(ids)
        return self._delete(form, table, ids, self._access(form, DELETE))

    def _delete(self, form: FormDef, table: sa.Table, ids: list[int], access: FormAccess) -> int:
        """Records of `form` to the recycle bin, and the records a cascade takes along.
        A cascade is the definition's consequence of a delete the actor may do: it is
        not asked of the policy again."""
        self.upkeep.lock_ahead(form, ids, {EXISTS}, own=True)
        alive = sa.select(table.c.id, table.c.version).where(table.c.id.in_(ids), table.c.deleted_at.is_(None))
        live = list(self.conn.execute(self._locked(table, self._scoped(alive, access, DELETE))))
        missing = set(ids) - {r.id for r in live}
        if missing:
            raise NotFound(f"{form.key} records {sorted(missing)} do not exist or are already deleted")
        cascades = []
        for source_form, fdef, ftype in self._inbound_relations(form.key):
            referencing = self._referencing_ids(source_form, fdef, ftype, ids)
            if not referencing:
                continue
            if ftype.on_delete == "restrict":
                raise IntegrityProblem(
                    f"cannot delete: {len(referencing)} {source_form.key} record(s) refer to it through "
                    f"{fdef.key!r} (on_delete: restrict), e.g. #{sorted(referencing)[0]}; "
                    "change or delete those records first")
            if ftype.on_delete == "cascade":
                cascades.append((source_form.key, sorted(referencing)))
        now = self._now()
        self.conn.execute(table.update().where(table.c.id.in_(ids)).values(
            deleted_at=now, updated_at=now, updated_by=self.user_id, version=table.c.version + 1))
        derived = self.upkeep.after_existence(form, ids)
        self._emit(EventKind.DELETED, form.key, now, [RecordChange(r.id, r.version + 1) for r in live],
                   derived)
        for source_key, source_ids in cascades:
            source_table = self.tables.form_table(source_key)
            still_live = list(self.conn.execute(sa.select(source_table.c.id).where(
                source_table.c.id.in_(source_ids), source_table.c.deleted_at.is_(None))).scalars())
            if still_live:
                self._delete(self.app.require_form(source_key), source_table, still_live, FULL)
        return len(live)

    @_all_or_nothing
    def restore(self, form_key: str, ids: int | list[int]) -> int:
        form, table = self._form(form_key)
        access = self._access(form, DELETE)
        ids = [ids] if isinstance(ids, int) else list(ids)
        self.upkeep.lock_ahead(form, ids, {EXISTS}, own=True)
        rows = {r.id: r for r in self.conn.execute(self._locked(table, self._scoped(sa.select(table).where(
            table.c.id.in_(ids), table.c.deleted_at.is_not(None)), access, DELETE)))}
        missing = set(ids) - set(rows)
        if missing:
            raise NotFound(f"{form_key} records {sorted(missing)} are not in the recycle bin")
        cleaner = RecordCleaner(self.app, form, self._ctx_for(form))
        revived = []
        for rid in ids:
            record = CleanedRecord()
            record.values = {k: t.from_row(rows[rid]._mapping) for k, t in cleaner.types.items()
                             if t.storage == "column"}
            revived.append(record)
        check_unique(self.conn, table, cleaner, revived, ids)
        problems = {i: r.issues for i, r in enumerate(revived) if r.issues}
        if problems:
            raise BulkValidationError(problems)
        now = self._now()
        self.conn.execute(table.update().where(table.c.id.in_(ids)).values(
            deleted_at=None, updated_at=now, updated_by=self.user_id, version=table.c.version + 1))
        derived = self.upkeep.after_existence(form, ids)
        self._emit(EventKind.RESTORED, form.key, now, [RecordChange(rid, rows[rid].version + 1)
                                                       for rid in ids], derived)
        return len(ids)

    @_all_or_nothing
    def purge(self, form_key: str, ids: int | list[int]) -> int:
        """Delete records from the recycle bin for good. References to them are cleared."""
        form, table = self._form(form_key)
        access = self._access(form, DELETE)
        ids = [ids] if isinstance(ids, int) else list(ids)
        found = set(self.conn.execute(self._scoped(sa.select(table.c.id).where(
            table.c.id.in_(ids), table.c.deleted_at.is_not(None)), access, DELETE)).scalars())
        missing = set(ids) - found
        if missing:
            raise NotFound(f"{form_key} records {sorted(missing)} are not in the recycle bin; "
                           "delete them first")
        cleared = self.upkeep.before_purge(form, ids)   # records whose relations the purge clears
        for source_form, fdef, ftype in self._inbound_relations(form.key):
            if ftype.multiple:
                link = self.tables.link_table(source_form.key, fdef.key)
                self.conn.execute(link.delete().where(link.c.target_id.in_(ids)))
            else:
                source = self.tables.form_table(source_form.key)
                self.conn.execute(source.update().where(source.c[fdef.key].in_(ids))
                                  .values({fdef.key: None}))
        self.conn.execute(table.delete().where(table.c.id.in_(ids)))
        derived = self.upkeep.after_purge(cleared)
        self._emit(EventKind.PURGED, form.key, self._now(), [RecordChange(rid, 0) for rid in ids], derived)
        return len(ids)

    def _inbound_relations(self, target_key: str):
        for source_form in self.app.forms:
            for fdef in source_form.fields:
                ftype = self.app.types.of(fdef)
                if isinstance(ftype, RelationField) and ftype.target == target_key:
                    yield source_form, fdef, ftype

    def _referencing_ids(self, source_form, fdef, ftype, ids) -> set[int]:
        source = self.tables.form_table(source_form.key)
        if ftype.multiple:
            link = self.tables.link_table(source_form.key, fdef.key)
            query = sa.select(link.c.source_id).join(source, source.c.id == link.c.source_id).where(
                link.c.target_id.in_(ids), source.c.deleted_at.is_(None))
        else:
            query = sa.select(source.c.id).where(source.c[fdef.key].in_(ids),
                                                 source.c.deleted_at.is_(None))
        return set(self.conn.execute(query).scalars())


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(old, new) values of the keys of `after` whose value differs from `before`'s."""
    new = {key: value for key, value in after.items() if before.get(key) != value}
    return {key: before.get(key) for key in new}, new
