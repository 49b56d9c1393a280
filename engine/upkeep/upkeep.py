"""Keeping computed fields current when records are written.

The record service calls these hooks (runtime/records/service.py):

    before_create / before_insert   a new record's formulas and rollups (0 or empty), computed
                                    with the compiled evaluator for the whole batch, so they are
                                    written by the INSERT itself; then the form's rules
    before_update                   the formulas a change affects, written by the UPDATE itself;
                                    then the form's rules
    after_create / after_update /   what depends on the written records elsewhere: rollups of
    after_existence / after_purge   their parents, formulas of records that read them through
                                    a relation, and onward (a payment updates its contract's paid
                                    and unpaid amounts, and its customer's lifetime value); they
                                    return what they changed (ChangedRecords: old and new values),
                                    which the service raises as derived record events

After a write, the affected computed fields are recomputed in the graph's order
(engine/computed/graph.py), each at most once: a rollup costs a query reading its
parent records' values (and locking them on PostgreSQL) and one UPDATE ... RETURNING
for all of them, so that only the parents whose values changed go further; a
group of formulas of one form costs one query loading the affected records (found
by subqueries over the relations, not by the caller), one per relation level they
read, and one executemany writing the rows whose values changed. The number of
statements depends on the app's definition, never on the number of records.

Recomputed values of other records do not change their `version` or `updated_at`:
they are derived, and a user editing a customer must not get a conflict because a
payment arrived meanwhile.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlalchemy as sa

from engine.computed.env import evaluation_context
from engine.computed.graph import EXISTS, ComputedGraph, FormulaSpec, Node, Route
from engine.computed.record_rules import fails
from engine.definition.model import FormDef
from engine.dialect import Dialect
from engine.errors import FormworkError
from engine.fields.base import ValueContext
from engine.fields.registry import path_kind
from engine.fields.relation import RelationOptions
from engine.formula import EvalContext, compile_formula
from engine.upkeep.derived_rules import ChangedRecords, judge_changed
from engine.upkeep.idsets import among
from engine.upkeep.inputs import InputLoader, Row, links_key, plan_levels, sub_key
from engine.upkeep.rollups import rollup_values


@dataclass
class Affected:
    """Records of one form to recompute: known ids, and the records that the changed
    records of other forms lead to (found by subqueries when the work is done)."""

    ids: set[int] = field(default_factory=set)
    sources: dict[tuple[Route, str], set[int]] = field(default_factory=dict)

    def merge(self, other: "Affected") -> None:
        self.ids |= other.ids
        for key, ids in other.sources.items():
            self.sources.setdefault(key, set()).update(ids)


@dataclass
class Event:
    form: str
    ids: set[int]
    fields: set[str]
    before: dict[int, dict[str, Any]] | None = None   # old values, for parents a record left
    # Recomputed fields: their values before, by record (rules are judged on the change),
    # and after (the record service raises them as derived changes).
    computed_before: dict[int, dict[str, Any]] = field(default_factory=dict)
    computed_after: dict[int, dict[str, Any]] = field(default_factory=dict)


class Upkeep:
    def __init__(self, conn: sa.Connection, app, ctx: ValueContext):
        """`app`: the compiled App (engine/compiled/app.py)."""
        self.conn, self.app, self.tables, self.ctx = conn, app, app.tables, ctx
        self.graph: ComputedGraph = app.graph
        self.loader = InputLoader(conn, app, app.tables, ctx)
        self.dialect = Dialect.of(conn)

    def eval_context(self) -> EvalContext:
        return evaluation_context(self.ctx)

    # ---- the record being written ---------------------------------------------------------
    def before_create(self, form: FormDef, records: list) -> None:
        """Formulas and rollups (0 or empty) of new records, then their form's rules;
        records the cleaner refused are left alone."""
        specs = self.graph.formulas_of(form.key)
        rollups = self.graph.rollups_of(form.key)
        rules = self.app.record_formulas(form.key).rules
        valid = [record for record in records if not record.issues]
        if not (specs or rollups or rules) or not valid:
            return
        for spec in rollups:
            empty = self.loader.ftype(form.key, spec.fdef.key).empty_value
            for record in valid:
                record.values[spec.fdef.key] = empty
        rows = {index: record_row(record) for index, record in enumerate(valid)}
        failed = self._evaluate(form.key, specs, rows, rules)
        self._take(valid, list(rows), rows, specs, failed)

    def before_insert(self, form: FormDef, records: list) -> None:
        """Formulas reading system-assigned values (serial numbers), now that they are known."""
        specs = self.graph.formulas_of(form.key)
        if not specs:
            return
        assigned = {f.key for f in form.fields if self.loader.ftype(form.key, f.key).system_assigned}
        again = self.graph.dependents_within(form.key, assigned) if assigned else set()
        specs = [s for s in specs if s.fdef.key in again]
        if not specs or not records:
            return
        rows = {index: record_row(record) for index, record in enumerate(records)}
        self._evaluate(form.key, specs, rows)
        self._take(records, list(rows), rows, specs, {})

    def before_update(self, form: FormDef, ids: list[int], records: list, current: dict[int, Any]) -> None:
        """The formulas of updated records that their changes affect, then the form's
        rules over the records as they will be. `current` holds their stored rows by id."""
        changed: set[str] = set()
        for record in records:
            changed |= set(record.values) | set(record.links) | set(record.subforms)
        targets = self.graph.dependents_within(form.key, changed)
        specs = [s for s in self.graph.formulas_of(form.key) if s.fdef.key in targets]
        rules = self.app.record_formulas(form.key).rules
        pairs = [(rid, record) for rid, record in zip(ids, records) if not record.issues]
        if not (specs or rules) or not pairs:
            return
        types = [(f.key, self.loader.ftype(form.key, f.key)) for f in form.fields]
        stored = [(key, t) for key, t in types if t.storage == "column"]
        rows = {rid: {"id": rid, **{k: t.from_row(current[rid]._mapping) for k, t in stored},
                      **record_row(record)} for rid, record in pairs}
        failed = self._evaluate(form.key, specs, rows, rules)
        self._take([record for _, record in pairs], [rid for rid, _ in pairs], rows, specs, failed)

    @staticmethod
    def _take(records: list, keys: list, rows: dict[Any, Row], specs: list[FormulaSpec],
              failed: dict[Any, list]) -> None:
        """Computed values and failed rules, from the rows back to the cleaned records."""
        for key, record in zip(keys, records):
            for spec in specs:
                record.values[spec.fdef.key] = rows[key][spec.fdef.key]
            for rule in failed.get(key, ()):
                record.issues.extend(rule.issues())

    def _evaluate(self, form_key: str, specs: list[FormulaSpec], rows: dict[Any, Row],
                  rules: Iterable = ()) -> dict[Any, list]:
        """Compute `specs` in order over `rows` (changed in place), loading what they read,
        then judge `rules`; returns the failed rules by row key."""
        rules = list(rules)
        paths = [p for s in specs for p in s.paths] + [p for r in rules for p in r.paths]
        root = plan_levels(self.app, form_key, paths)
        self.loader.complete(root, rows)
        ctx = self.eval_context()
        keys, ordered = list(rows), list(rows.values())
        for spec in specs:
            ftype = self.loader.ftype(form_key, spec.fdef.key)
            inputs = self.loader.inputs(root, ordered, spec.paths)
            results = compile_formula(spec.formula).many(inputs, ctx)
            for row, result in zip(ordered, results):
                row[spec.fdef.key] = ftype.stored_value(result, self.ctx.tz)
        failed: dict[Any, list] = {}
        for rule in rules:
            results = compile_formula(rule.formula).many(self.loader.inputs(root, ordered, rule.paths), ctx)
            for key, result in zip(keys, results):
                if fails(result):
                    failed.setdefault(key, []).append(rule)
        return failed

    def evaluate_rules(self, form_key: str, rows: dict[Any, Row], rules: list) -> dict[Any, list]:
        """Judge `rules` over stored `rows` (loading what they read): failed rules by row."""
        return self._evaluate(form_key, [], rows, rules)

    # ---- after a write: what depends on the written records ---------------------------------
    # Each returns the computed fields of other records it changed, old and new values.
    def after_create(self, form: FormDef, ids: list[int]) -> ChangedRecords:
        return self._propagate([Event(form.key, set(ids), {EXISTS})])

    def after_existence(self, form: FormDef, ids: list[int]) -> ChangedRecords:
        """Records deleted to the recycle bin or restored from it."""
        return self._propagate([Event(form.key, set(ids), {EXISTS})])

    def after_update(self, form: FormDef, changed: dict[int, set[str]],
                     before: dict[int, dict]) -> ChangedRecords:
        """`changed`: the fields each record changed (formulas included); `before`: their
        old values (the parents a record leaves need their rollups too)."""
        fields = set().union(*changed.values()) if changed else set()
        ids = {rid for rid, keys in changed.items() if keys}
        if ids and self.graph.watches(form.key):
            return self._propagate([Event(form.key, ids, fields, before)], skip_same=form.key)
        return ChangedRecords()

    def before_purge(self, form: FormDef, ids: list[int]) -> list[Event]:
        """Purging records clears the relations pointing at them: the records holding
        those relations change (found now, while the relations still point)."""
        events = []
        for source in self.app.forms:
            for fdef in source.fields:
                if path_kind(fdef) != "relation" or RelationOptions.of(fdef).target != form.key \
                        or (source.key, fdef.key) not in self.graph.triggers:
                    continue
                if (source.key, fdef.key) in self.tables.links:
                    link = self.tables.link_table(source.key, fdef.key)
                    query = sa.select(link.c.source_id).where(among(link.c.target_id, ids, self.dialect))
                else:
                    table = self.tables.form_table(source.key)
                    query = sa.select(table.c.id).where(among(table.c[fdef.key], ids, self.dialect))
                found = set(self.conn.execute(query).scalars())
                if found:
                    events.append(Event(source.key, found, {fdef.key}))
        return events

    def after_purge(self, events: list[Event]) -> ChangedRecords:
        return self._propagate(events) if events else ChangedRecords()

    # ---- lock order (PostgreSQL) --------------------------------------------------------------
    def lock_ahead(self, form: FormDef, ids: Iterable[int], fields: set[str], *,
                   changes: Iterable[dict[str, Any]] = (), own: bool = False) -> None:
        """Before a write of `fields` of records `ids`, lock the records whose rollups it
        will update, at every level up the relations (a payment's contract, its customer,
        the customer who referred them), with `own` the written records too: one
        statement per form, forms in table-name order, records in id order.

        The propagation locks the records of one level after the other, so two writes
        reaching each other's records (A referred B, B referred A) could each hold one the
        other needs: PostgreSQL then aborts one ("deadlock detected"). Locked ahead in
        one order, the second write waits for the first instead. `changes`: the values
        written (relation targets not stored yet are parents too). Records whose formulas
        read the written ones through a relation (downwards) are not locked ahead: they
        are locked when recomputed; the retry at the transaction boundary
        (runtime/records/transactions.py) covers a cycle through them."""
        ids = set(ids)
        if not self.dialect.row_locks or not ids or not self.graph.watches(form.key):
            return      # SQLite: one writer at a time (BEGIN IMMEDIATE), no row locks
        reached = self._parents_ahead(form.key, ids, set(fields), self._new_targets(form, changes))
        if not reached:
            return      # nothing above: the write's own lock keeps its order
        if own:
            reached.setdefault(form.key, set()).update(ids)
        for form_key in sorted(reached, key=lambda key: self.tables.form_table(key).name):
            table = self.tables.form_table(form_key)
            self.conn.execute(sa.select(table.c.id).where(among(table.c.id, reached[form_key], self.dialect))
                              .order_by(table.c.id).with_for_update())

    def _new_targets(self, form: FormDef, changes: Iterable[dict[str, Any]]) -> dict[str, set[int]]:
        """{relation key: record ids} that the changes point at (values the cleaner will
        refuse are left out: the write fails anyway)."""
        targets: dict[str, set[int]] = {}
        for values in changes:
            for key, raw in values.items():
                fdef = form.field(key)
                if fdef is None or fdef.type != "relation" or raw in (None, "", []):
                    continue
                try:
                    cleaned = self.loader.ftype(form.key, key).clean(raw, self.ctx)
                except FormworkError:
                    continue
                targets.setdefault(key, set()).update(cleaned if isinstance(cleaned, list) else [cleaned])
        return targets

    def _parents_ahead(self, form_key: str, ids: set[int], fields: set[str],
                       new_targets: dict[str, set[int]]) -> dict[str, set[int]]:
        """{form: ids} of the records whose rollups change when `fields` of records `ids`
        change, level after level: one query per relation and level, never per record."""
        reached: dict[str, set[int]] = {}
        seen: dict[Node, set[int]] = {}
        wave = [(form_key, ids, fields, new_targets)]
        for _ in range(len(self.graph.order) + 1):   # a level is a longer path in the graph
            found: dict[Node, set[int]] = {}
            for source, source_ids, changed, extra in wave:
                routes: dict[Route, list[Node]] = {}
                changed = changed | self.graph.dependents_within(source, changed)
                for trigger in self.graph.triggered_by(source, changed):
                    if trigger.route.kind == "parents":
                        routes.setdefault(trigger.route, []).append(trigger.target)
                for route, parents in self._parents_of(source, source_ids, list(routes)).items():
                    parents = (parents | extra.get(route.via, set())) - {None}
                    for node in routes[route]:
                        found.setdefault(node, set()).update(parents)
            levels: dict[tuple[str, frozenset[int]], set[str]] = {}
            for node, parents in found.items():
                new = parents - seen.setdefault(node, set())
                if new:
                    seen[node] |= new
                    reached.setdefault(node.form, set()).update(new)
                    levels.setdefault((node.form, frozenset(new)), set()).add(node.field)
            wave = [(key, set(level_ids), changed, {}) for (key, level_ids), changed in levels.items()]
            if not wave:
                break
        return reached

    def _parents_of(self, source: str, ids: set[int], routes: list[Route]) -> dict[Route, set[int]]:
        """The records each "parents" route leads to from records `ids` of `source`: every
        relation column in one query, each multiple relation's link table in one more."""
        result: dict[Route, set[int]] = {route: set() for route in routes}
        columns = [route for route in routes if not route.multiple]
        if columns:
            table = self.tables.form_table(source)
            query = sa.select(*(table.c[route.via] for route in columns))
            for row in self.conn.execute(query.where(among(table.c.id, ids, self.dialect))):
                for route, value in zip(columns, row):
                    result[route].add(value)
        for route in routes:
            if route.multiple:
                result[route].update(self.conn.execute(self._route_select(route, source, ids)).scalars())
        return result

    # ---- the scheduler ----------------------------------------------------------------------
    def _propagate(self, events: list[Event], skip_same: str | None = None) -> ChangedRecords:
        """Recompute what depends on the events, then judge the rules reading what changed
        (derived_rules.py: a payment that would overpay its contract is refused); returns
        what changed."""
        dirty: dict[Node, Affected] = {}
        changed = ChangedRecords()
        for event in events:
            self._route(event, dirty, exclude=set(), skip_same=skip_same)
        budget = 4 * (len(self.graph.order) + 1)
        while dirty:
            budget -= 1
            if budget < 0:
                raise FormworkError("computed fields depend on each other in a cycle; run "
                                    "`formwork validate` on the app definition")
            group = self._next_group(dirty)
            affected = Affected()
            for node in group:
                affected.merge(dirty.pop(node, Affected()))
            event = self.recompute(group, self._where(group[0].form, affected))
            if event is not None:
                changed.add(event.form, event.computed_before, event.computed_after)
                self._route(event, dirty, exclude=set(group), skip_same=None)
        judge_changed(self, changed)
        return changed

    def _next_group(self, dirty: dict[Node, Affected]) -> list[Node]:
        """The first dirty node in the graph's order, with the other nodes of its form that
        can be computed in the same statements (nothing they read is still pending)."""
        rank, ancestors = self.graph.rank, self.graph.ancestors
        first = min(dirty, key=lambda n: rank.get(n, len(rank)))
        group = [first]
        if first in self.graph.rollups:
            spec = self.graph.rollups[first]
            candidates = [n for n in dirty if n in self.graph.rollups and n != first
                          and (self.graph.rollups[n].source, self.graph.rollups[n].via) == (spec.source, spec.via)
                          and n.form == first.form]
        else:
            within = self.graph.dependents_within(first.form, {n.field for n in dirty if n.form == first.form})
            candidates = [n for n in self.graph.formulas if n.form == first.form and n != first
                          and (n in dirty or n.field in within)]
        members = {first}
        for node in sorted(candidates, key=lambda n: rank.get(n, len(rank))):
            if all(a in members or a not in dirty for a in ancestors.get(node, ())):
                members.add(node)
                group.append(node)
        return group

    def _route(self, event: Event, dirty: dict[Node, Affected], exclude: set[Node],
               skip_same: str | None) -> None:
        for trigger in self.graph.triggered_by(event.form, event.fields):
            target, route = trigger.target, trigger.route
            if target in exclude or (route.kind == "same" and skip_same == event.form):
                continue
            affected = dirty.setdefault(target, Affected())
            if route.kind == "same":
                affected.ids |= event.ids
                continue
            affected.sources.setdefault((route, event.form), set()).update(event.ids)
            if route.kind == "parents" and event.before and trigger.source_field == route.via:
                for rid in event.ids:
                    old = (event.before.get(rid) or {}).get(route.via)
                    affected.ids.update(old if isinstance(old, list) else [] if old is None else [old])

    def _where(self, form_key: str, affected: Affected) -> sa.ColumnElement:
        table = self.tables.form_table(form_key)
        parts = [among(table.c.id, affected.ids, self.dialect)] if affected.ids else []
        for (route, source), ids in affected.sources.items():
            parts.append(table.c.id.in_(self._route_select(route, source, ids)))
        return sa.or_(*parts) if parts else sa.false()

    def _route_select(self, route: Route, source: str, ids: Iterable[int]) -> sa.Select:
        """The ids of the records a route leads to from records `ids` of form `source`."""
        if route.kind == "parents":
            if route.multiple:
                link = self.tables.link_table(source, route.via)
                return sa.select(link.c.target_id).where(among(link.c.source_id, ids, self.dialect)).correlate(None)
            table = self.tables.form_table(source)
            return sa.select(table.c[route.via]).where(among(table.c.id, ids, self.dialect)).correlate(None)
        selected: Any = None
        for index, hop in enumerate(reversed(route.hops)):
            if hop.multiple:
                link = self.tables.link_table(hop.form, hop.field)
                column, picked = link.c.target_id, link.c.source_id
            else:
                table = self.tables.form_table(hop.form)
                column, picked = table.c[hop.field], table.c.id
            match = among(column, ids, self.dialect) if index == 0 else column.in_(selected)
            selected = sa.select(picked).where(match).correlate(None)
        return selected

    # ---- running one group -----------------------------------------------------------------
    def recompute(self, group: list[Node], where: sa.ColumnElement) -> Event | None:
        """Recompute a group of nodes of one form (rollups over one relation, or formulas)
        for the records matching `where`; the event says which records changed."""
        if group[0] in self.graph.rollups:
            return self._run_rollups(group, where)
        return self._run_formulas(group, where)

    def _run_rollups(self, group: list[Node], where: sa.ColumnElement) -> Event | None:
        """Lock the parents and read their values; one UPDATE sets every rollup of the
        group for all of them and returns the new values, so that only the parents whose
        values changed go on to what reads them."""
        form_key = group[0].form
        table = self.tables.form_table(form_key)
        types = {n.field: self.loader.ftype(form_key, n.field) for n in group}
        old = self.loader.load_rows(form_key, where, set(types), lock=True)
        if not old:
            return None
        values = rollup_values(self.app, self.tables, [self.graph.rollups[n] for n in group], self.ctx,
                               self.dialect)
        returned = [table.c.id] + [table.c[c.name] for t in types.values() for c in t.columns()]
        new: dict[int, dict[str, Any]] = {}
        update = table.update().where(among(table.c.id, old, self.dialect)).values(values)
        for mapping in self.conn.execute(update.returning(*returned)).mappings():
            rid = mapping["id"]
            values_now = {key: t.from_row(mapping) for key, t in types.items()}
            differ = {key: value for key, value in values_now.items() if value != old[rid][key]}
            if differ:
                new[rid] = differ
        if not new:
            return None
        return Event(form_key, set(new), set().union(*new.values()),
                     computed_before={rid: {key: old[rid][key] for key in keys} for rid, keys in new.items()},
                     computed_after=new)

    def _run_formulas(self, group: list[Node], where: sa.ColumnElement) -> Event | None:
        form_key = group[0].form
        keys = {n.field for n in group}
        specs = [s for s in self.graph.formulas_of(form_key) if s.fdef.key in keys]
        root = plan_levels(self.app, form_key, [p for s in specs for p in s.paths])
        rows = self.loader.load_rows(form_key, where, root.columns | keys, lock=True)
        if not rows:
            return None
        old = {rid: {k: row.get(k) for k in keys} for rid, row in rows.items()}
        self._evaluate(form_key, specs, rows)
        changed = [rid for rid, row in rows.items() if any(row.get(k) != old[rid][k] for k in keys)]
        if not changed:
            return None
        self._write(form_key, [s.fdef.key for s in specs], [rows[rid] for rid in changed])
        before = {rid: {k: old[rid][k] for k in keys if rows[rid].get(k) != old[rid][k]} for rid in changed}
        after = {rid: {k: rows[rid].get(k) for k in values} for rid, values in before.items()}
        return Event(form_key, set(changed), set().union(*before.values()), computed_before=before,
                     computed_after=after)

    def _write(self, form_key: str, keys: list[str], rows: list[Row]) -> None:
        """One executemany for all the changed rows (not a statement per record)."""
        table = self.tables.form_table(form_key)
        types = {key: self.loader.ftype(form_key, key) for key in keys}
        columns = [c.name for t in types.values() for c in t.columns()]
        statement = table.update().where(table.c.id == sa.bindparam("_id")).values(
            {name: sa.bindparam(f"_v_{name}") for name in columns})
        parameters = []
        for row in rows:
            stored: dict[str, Any] = {}
            for key, ftype in types.items():
                stored.update(ftype.to_row(row.get(key)))
            parameters.append({"_id": row["id"], **{f"_v_{name}": stored[name] for name in columns}})
        self.conn.execute(statement, parameters)


def record_row(record) -> Row:
    """A cleaned record (runtime CleanedRecord) as a loader row."""
    row: Row = dict(record.values)
    row.update({links_key(k): list(v or []) for k, v in record.links.items()})
    row.update({sub_key(k): list(v or []) for k, v in record.subforms.items()})
    return row
