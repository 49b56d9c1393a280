"""The dependency graph of an app's computed fields, built once per app version (compile_app).

Nodes are computed fields, (form, field). A *trigger* says: when field `source_field`
of records of form `source_form` changes (or, for EXISTS, when such records are
created, deleted or restored), node `target` must be recomputed for the records its
`route` leads to:

    same record      contracts.unpaid reads contracts.amount
    through relations  orders.customer_level reads customers.level through orders.customer:
                     the orders whose customer is one of the changed customers
    to parents       customers.lifetime_value adds up payments.amount via payments.customer:
                     the customers the changed payments point at (before and after)

Validation refuses cycles, so the nodes have a topological order; upkeep recomputes
nodes in that order, each at most once per write.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterator

from engine.computed.filter_tree import FilterTree, parse_filter
from engine.computed.paths import Hop, PathFailure, ResolvedPath, resolve
from engine.definition.model import AppDef, FieldDef, FormDef
from engine.fields.computed import FormulaOptions, RollupOptions
from engine.fields.registry import FieldTypes, computed_kind
from engine.fields.relation import RelationOptions
from engine.formula import FormulaSyntaxError, parse

EXISTS = "*"     # the pseudo-field of a record's existence (created, deleted, restored)


@dataclass(frozen=True, order=True)
class Node:
    form: str
    field: str

    def __str__(self) -> str:
        return f"{self.form}.{self.field}"


@dataclass(frozen=True)
class Route:
    """How to find the target records from the changed source records."""

    kind: str                        # "same", "relations" or "parents"
    hops: tuple[Hop, ...] = ()       # "relations": from the target's form to the source's
    via: str | None = None           # "parents": the relation of the source records
    multiple: bool = False           # "parents": whether `via` is a multiple relation


@dataclass(frozen=True)
class Trigger:
    source_form: str
    source_field: str
    target: Node
    route: Route


@dataclass
class FormulaSpec:
    """A formula field ready to evaluate: its parsed formula and resolved paths."""

    form: str
    fdef: FieldDef
    formula: Any                             # engine.formula.Formula
    paths: list[ResolvedPath]

    @property
    def node(self) -> Node:
        return Node(self.form, self.fdef.key)


@dataclass
class RollupSpec:
    form: str              # the form holding the rollup (the parents)
    fdef: FieldDef
    source: str
    via: str
    multiple: bool         # `via` is a multiple relation
    reads: frozenset[str]  # fields of the source it reads: the field, via, the filter's fields
    filter: FilterTree | None = None   # the parsed filter over the source, None without one

    @property
    def node(self) -> Node:
        return Node(self.form, self.fdef.key)


@dataclass
class ComputedGraph:
    app: AppDef
    types: FieldTypes
    formulas: dict[Node, FormulaSpec] = field(default_factory=dict)
    rollups: dict[Node, RollupSpec] = field(default_factory=dict)
    triggers: dict[tuple[str, str], list[Trigger]] = field(default_factory=dict)
    uses: dict[Node, set[Node]] = field(default_factory=dict)     # node -> computed nodes it reads
    how: dict[tuple[Node, Node], str] = field(default_factory=dict)   # (node, used) -> how, for messages

    # ---- building ---------------------------------------------------------------------
    @classmethod
    def build(cls, app: AppDef, types: FieldTypes) -> "ComputedGraph":
        """The graph of `app`, whose bound field types `types` check the rollups' filters."""
        graph = cls(app, types)
        for form in app.forms:
            for fdef in form.fields:
                kind = computed_kind(fdef)
                if kind == "formula":
                    graph._add_formula(form, fdef)
                elif kind == "rollup":
                    graph._add_rollup(form, fdef)
        for node in list(graph.formulas) + list(graph.rollups):
            graph.uses.setdefault(node, set())
        return graph

    def _trigger(self, source_form: str, source_field: str, target: Node, route: Route, how: str) -> None:
        self.triggers.setdefault((source_form, source_field), []).append(
            Trigger(source_form, source_field, target, route))
        source = self.app.form(source_form)
        source_def = source.field(source_field) if source is not None else None
        if source_def is not None and computed_kind(source_def):
            used = Node(source_form, source_field)
            self.uses.setdefault(target, set()).add(used)
            self.how.setdefault((target, used), how)

    def _add_formula(self, form: FormDef, fdef: FieldDef) -> None:
        text = FormulaOptions.of(fdef).text
        if not isinstance(text, str):
            return
        try:
            formula = parse(text)
        except FormulaSyntaxError:
            return
        node = Node(form.key, fdef.key)
        paths = []
        for written in formula.references:
            resolved = resolve(self.app, form, written)
            if isinstance(resolved, PathFailure):
                continue
            paths.append(resolved)
            self._path_triggers(node, resolved)
        self.formulas[node] = FormulaSpec(form.key, fdef, formula, paths)

    def _path_triggers(self, node: Node, path: ResolvedPath) -> None:
        """The fields a path's value depends on: the relation at each hop, and the field
        (or the subform) it ends on; each found from the records that read it."""
        how = ".".join(path.written)
        relation_hops = path.relation_hops
        for index, hop in enumerate(relation_hops):
            route = Route("relations", relation_hops[:index]) if index else Route("same")
            self._trigger(hop.form, hop.field, node, route, how)
        last = path.subform.field if path.subform else path.field.key
        route = Route("relations", relation_hops) if relation_hops else Route("same")
        self._trigger(path.form, last, node, route, f"{path.form}.{last} through {how}"
                      if relation_hops else how)

    def _add_rollup(self, form: FormDef, fdef: FieldDef) -> None:
        options = RollupOptions.of(fdef)
        source = self.app.form(options.source) if isinstance(options.source, str) else None
        via = source.field(options.via) if source is not None and isinstance(options.via, str) else None
        link = RelationOptions.of(via) if via is not None and computed_kind(via) is None else None
        if link is None or link.target != form.key:
            return
        reads = {via.key, EXISTS}
        if isinstance(options.field, str):
            reads.add(options.field)
        tree = None
        if options.filter is not None:       # its formulas read the source's own fields
            tree = parse_filter(options.filter, source, app=self.app, types=self.types, related=False)
            reads |= tree.own_fields
        spec = RollupSpec(form.key, fdef, source.key, via.key, link.multiple,
                          frozenset(k for k in reads if k == EXISTS or source.field(k) is not None), tree)
        self.rollups[spec.node] = spec
        route = Route("parents", via=via.key, multiple=spec.multiple)
        for key in sorted(spec.reads):
            self._trigger(source.key, key, spec.node, route, f"{source.key}.{key} via {via.key}")

    # ---- order and cycles ---------------------------------------------------------------
    @cached_property
    def cycles(self) -> list[list[Node]]:
        """Each cycle once, as [a, b, ..., a] where each node reads the next."""
        found, seen = [], set()
        state: dict[Node, int] = {}     # 1: on the current path, 2: done
        for start in self._nodes_in_app_order():
            if state.get(start):
                continue
            stack: list[tuple[Node, Iterator[Node]]] = [(start, iter(sorted(self.uses.get(start, ()))))]
            path = [start]
            state[start] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    path.pop()
                    state[node] = 2
                    continue
                if state.get(child) == 1:
                    cycle = path[path.index(child):] + [child]
                    key = frozenset(cycle)
                    if key not in seen:
                        seen.add(key)
                        found.append(cycle)
                elif not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(sorted(self.uses.get(child, ())))))
        return found

    @cached_property
    def order(self) -> list[Node]:
        """Every node after the nodes it reads (nodes on a cycle last, in app order)."""
        position = {node: i for i, node in enumerate(self._nodes_in_app_order())}
        waiting = {node: set(used) for node, used in self.uses.items()}
        done: list[Node] = []
        ready = sorted((n for n, used in waiting.items() if not used), key=position.get)
        placed: set[Node] = set()
        while ready:
            node = ready.pop(0)
            done.append(node)
            placed.add(node)
            for other, used in waiting.items():
                if node in used:
                    used.discard(node)
                    if not used and other not in placed and other not in ready:
                        ready.append(other)
            ready.sort(key=position.get)
        done += [n for n in self._nodes_in_app_order() if n not in placed]
        return done

    @cached_property
    def rank(self) -> dict[Node, int]:
        return {node: i for i, node in enumerate(self.order)}

    @cached_property
    def ancestors(self) -> dict[Node, frozenset[Node]]:
        """For each node, every computed node it reads, directly or not."""
        result: dict[Node, frozenset[Node]] = {}
        for node in self.order:
            found: set[Node] = set()
            for used in self.uses.get(node, ()):
                found.add(used)
                found |= result.get(used, frozenset())
            result[node] = frozenset(found)
        return result

    @cached_property
    def volatile(self) -> frozenset[Node]:
        """Nodes whose values change with the clock: formulas calling TODAY() or NOW(),
        rollups whose filter reads it (a date shortcut such as this_month, a formula
        condition calling TODAY() or NOW()), and what reads them."""
        direct = {n for n, s in self.formulas.items() if s.formula.volatile}
        direct |= {n for n, r in self.rollups.items() if r.filter is not None and r.filter.reads_clock}
        return frozenset(n for n in self.order if n in direct or self.ancestors[n] & direct)

    def dependents(self, nodes: set[Node]) -> list[Node]:
        """`nodes` and every node reading them, directly or not, in the graph's order."""
        return [n for n in self.order if n in nodes or self.ancestors[n] & nodes]

    def _nodes_in_app_order(self) -> list[Node]:
        return [Node(form.key, f.key) for form in self.app.forms for f in form.fields
                if Node(form.key, f.key) in self.uses]

    # ---- questions of the upkeep ------------------------------------------------------------
    def formulas_of(self, form_key: str) -> list[FormulaSpec]:
        """The formula fields of a form, each after the ones it reads."""
        return [self.formulas[n] for n in self.order if n.form == form_key and n in self.formulas]

    def rollups_of(self, form_key: str) -> list[RollupSpec]:
        return [self.rollups[n] for n in self.order if n.form == form_key and n in self.rollups]

    def readers_of(self, fields) -> set[Node]:
        """The computed fields reading any of `fields` ((form, field) pairs; a subform's
        pair stands for its columns) directly."""
        return {t.target for pair in fields for t in self.triggers.get(pair, ())}

    def triggered_by(self, form_key: str, fields: set[str]) -> list[Trigger]:
        return [t for key in sorted(fields) for t in self.triggers.get((form_key, key), ())]

    def watches(self, form_key: str) -> bool:
        """Whether any computed field depends on the records of this form."""
        return any(source == form_key for source, _ in self.triggers)

    def dependents_within(self, form_key: str, changed: set[str]) -> set[str]:
        """The formula fields of `form_key` to compute again, on the same record, when
        `changed` fields change (directly or through other formulas of the record)."""
        result: set[str] = set()
        pending = set(changed)
        while pending:
            key = pending.pop()
            for trigger in self.triggers.get((form_key, key), ()):
                target = trigger.target
                if trigger.route.kind == "same" and target.form == form_key and target in self.formulas \
                        and target.field not in result:
                    result.add(target.field)
                    pending.add(target.field)
        return result


def nodes_named(graph: ComputedGraph, names: list[str]) -> list[Node]:
    """Nodes from "form.field" names (all nodes when `names` is empty), and what reads
    them, in order. Raises KeyError naming an unknown one."""
    if not names:
        return list(graph.order)
    known = {str(n): n for n in graph.order}
    missing = [name for name in names if name not in known]
    if missing:
        raise KeyError(", ".join(missing))
    return graph.dependents({known[name] for name in names})


def volatile_nodes(graph: ComputedGraph) -> list[Node]:
    return [n for n in graph.order if n in graph.volatile]
