"""Field paths of formulas resolved against an app: what `customer.level` walks through.

A formula in form `orders` may read

    amount              a field of the record itself
    customer.level      a field of the related record (a single relation: one value)
    tags.name           a field of each related record (a multiple relation: an array)
    items.price         a column of the record's subform rows (an array)
    customer.items.qty  relations first, a subform column last
    customer_level      a lookup field: read as the path it shows (customer.level)

`resolve` turns a path into the hops it walks (the relations, and a subform at the
end) and the field it ends on, or says at which step it fails. Every part of the
computed-field machinery (the type environment, the dependency graph, the loader)
reads paths through this one function, so they agree on what a path means.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.definition.model import AppDef, FieldDef, FormDef
from engine.fields.registry import path_kind
from engine.fields.relation import LookupOptions, RelationOptions

MAX_HOPS = 4    # relations one path may walk through (customer.referrer.owner... )


@dataclass(frozen=True)
class Hop:
    """One step of a path through a relation (or, last, into a subform's rows)."""

    form: str               # the form holding the relation or subform field
    field: str              # its key
    target: str | None      # the related form; None for a subform
    multiple: bool          # a multiple relation or a subform: the value becomes an array

    @property
    def is_subform(self) -> bool:
        return self.target is None


@dataclass(frozen=True)
class ResolvedPath:
    written: tuple[str, ...]     # the path as the formula writes it
    hops: tuple[Hop, ...]        # relations walked, then perhaps a subform
    form: str                    # the form holding the last field (the subform's form)
    field: FieldDef              # the field read (a subform column for items.price)
    array: bool                  # a multiple relation or a subform on the way
    reads_links: bool = False    # the field read is a multiple relation: its value is the id list

    @property
    def same_record(self) -> bool:
        return not any(not hop.is_subform for hop in self.hops)

    @property
    def relation_hops(self) -> tuple[Hop, ...]:
        return tuple(hop for hop in self.hops if not hop.is_subform)

    @property
    def subform(self) -> Hop | None:
        return self.hops[-1] if self.hops and self.hops[-1].is_subform else None


@dataclass(frozen=True)
class PathFailure:
    index: int          # the step of the path that fails (0-based)
    reason: str         # "unknown": no such field; "not_walkable": a value, not a relation


def field_kind(fdef: FieldDef) -> str:
    """How a path treats a field: "relation", "lookup", "subform", "value" or "unknown"."""
    return path_kind(fdef)


def resolve(app: AppDef, form: FormDef, path: tuple[str, ...]) -> ResolvedPath | PathFailure:
    """The hops and the final field of `path` in `form`, or where it fails."""
    hops: list[Hop] = []
    current, array, index = form, False, 0
    steps = list(path)
    while index < len(steps):
        key = steps[index]
        fdef = current.field(key)
        if fdef is None:
            return PathFailure(index, "unknown")
        kind = field_kind(fdef)
        last = index == len(steps) - 1
        if kind == "lookup":
            expanded = _lookup_path(fdef)
            if expanded is None or not last:
                return PathFailure(index, "unknown" if expanded is None else "not_walkable")
            steps[index:index + 1] = list(expanded)
            continue
        if last:
            links = kind == "relation" and RelationOptions.of(fdef).multiple
            return ResolvedPath(tuple(path), tuple(hops), current.key, fdef, array, links)
        if kind == "relation":
            link = RelationOptions.of(fdef)
            target = app.form(link.target)
            if target is None or len(hops) >= MAX_HOPS:
                return PathFailure(index, "not_walkable")
            multiple = link.multiple
            hops.append(Hop(current.key, key, target.key, multiple))
            current, array = target, array or multiple
        elif kind == "subform":
            column = fdef.subfield(steps[index + 1])
            if column is None:
                return PathFailure(index + 1, "unknown")
            if index + 1 != len(steps) - 1:
                return PathFailure(index + 1, "not_walkable")
            hops.append(Hop(current.key, key, None, True))
            return ResolvedPath(tuple(path), tuple(hops), current.key, column, True)
        else:
            return PathFailure(index, "not_walkable")
        index += 1
    return PathFailure(len(steps) - 1, "unknown")


def _lookup_path(fdef: FieldDef) -> tuple[str, str] | None:
    options = LookupOptions.of(fdef)
    relation, target = options.relation, options.field
    if isinstance(relation, str) and isinstance(target, str):
        return relation, target
    return None


def form_at(app: AppDef, form: FormDef, prefix: tuple[str, ...]) -> tuple[FormDef, FieldDef | None] | None:
    """The form a path prefix leads to (and the subform field, when it ends on one), for
    listing the names that may follow it."""
    current = form
    for index, key in enumerate(prefix):
        fdef = current.field(key)
        if fdef is None:
            return None
        kind = field_kind(fdef)
        if kind == "relation":
            target = app.form(RelationOptions.of(fdef).target)
            if target is None:
                return None
            current = target
        elif kind == "subform" and index == len(prefix) - 1:
            return current, fdef
        else:
            return None
    return current, None
