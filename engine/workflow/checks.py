"""The checks of a form's workflows, pure: the graph (one start, every target exists,
every node reachable, no cycle, every path ends, parallel branches meet at their join,
exclusive branches have a default), the formulas (branch conditions, set_fields values:
type-checked against the form's fields), the references (approver fields, roles when the
definition declares them, timeout fields, sub-flow forms and relations).

Accounts named by `users:` are workspace data: the runtime says when one is unknown.
Problems carry paths (the validator adds line:column) and did-you-means.
"""
from __future__ import annotations

from typing import Any, Iterable

from engine.computed.env import AppEnv
from engine.computed.paths import field_kind
from engine.definition.formula_problem import FormulaDefinitionProblem
from engine.definition.model import AppDef, FormDef
from engine.errors import Problem
from engine.fields.registry import FieldTypes
from engine.fields.relation import RelationOptions
from engine.formula import FormulaSyntaxError, check, parse
from engine.formula.nodes import FieldRef
from engine.formula.typecheck import describe, fits
from engine.suggest import did_you_mean
from engine.workflow.model import EDITABLE, REQUIRED, Node, Workflow, form_workflows
from engine.workflow.nodes import node_type

MEMBER_TYPES, DEPARTMENT_TYPES = ("member", "members"), ("department", "departments")
DATE_TYPES = ("date", "datetime")
CONDITION_TYPES = ("boolean", "number", "any")


def workflows_of(app: AppDef, form: FormDef) -> list[Workflow]:
    return form_workflows({"workflows": form.workflows}, form.path, form.key)


def check_form_workflows(app: AppDef, form: FormDef, types: FieldTypes) -> Iterable[Problem]:
    seen: dict[str, str] = {}
    for workflow in workflows_of(app, form):
        if workflow.key in seen:
            yield Problem(f"{workflow.path}.key", f"workflow key {workflow.key!r} is used twice in form "
                          f"{form.key!r} (also at {seen[workflow.key]}); rename one", code="duplicate_key")
            continue
        seen[workflow.key] = workflow.path
        yield from WorkflowCheck(app, form, types, workflow).problems()


class WorkflowCheck:
    def __init__(self, app: AppDef, form: FormDef, types: FieldTypes, workflow: Workflow):
        self.app, self.form, self.types, self.workflow = app, form, types, workflow
        self.keys = [n.key for n in workflow.nodes]

    def problems(self) -> Iterable[Problem]:
        duplicates = list(self._duplicates())
        yield from duplicates
        nodes = [n for n in self.workflow.nodes if node_type(n.type) is not None]
        broken = list(self._targets(nodes))
        yield from broken
        start = list(self._start(nodes))
        yield from start
        if not broken and not start and not duplicates:
            yield from self._graph(nodes)
        for node in nodes:
            yield from self._node(node)

    # ---- the graph ----------------------------------------------------------------------
    def _duplicates(self) -> Iterable[Problem]:
        seen: dict[str, str] = {}
        for node in self.workflow.nodes:
            if node.key in seen:
                yield Problem(f"{node.path}.key", f"node key {node.key!r} is used twice in workflow "
                              f"{self.workflow.key!r} (also at {seen[node.key]}); rename one", code="duplicate_key")
            seen.setdefault(node.key, node.path)

    def _start(self, nodes: list[Node]) -> Iterable[Problem]:
        starts = [n for n in nodes if n.type == "start"]
        if not starts:
            yield Problem(f"{self.workflow.path}.nodes", f"workflow {self.workflow.key!r} has no start node; add "
                          "one with `type: start` and `next:` naming the first step", code="no_start")
        for extra in starts[1:]:
            yield Problem(f"{extra.path}.type", f"workflow {self.workflow.key!r} has a second start node "
                          f"({extra.key!r}; the first is {starts[0].key!r}); a flow starts in one place: "
                          "make this one another type", code="two_starts")

    def _targets(self, nodes: list[Node]) -> Iterable[Problem]:
        start = self.workflow.start
        for node in nodes:
            for target, where, _ in node.targets():
                found = self.workflow.node(target)
                if found is None:
                    yield Problem(where, f"node {node.key!r} goes to {target!r}, which is not a node of workflow "
                                  f"{self.workflow.key!r}; name one of its nodes", code="unknown_node",
                                  suggestion=did_you_mean(target, self.keys))
                elif start is not None and found is start:
                    yield Problem(where, f"node {node.key!r} goes back to the start node {target!r}; to send a "
                                  "record back to its submitter, use the `return` action on a task, not an edge",
                                  code="to_start")

    def _successors(self, node: Node) -> list[str]:
        return [t for t, _, _ in node.targets()]

    def _graph(self, nodes: list[Node]) -> Iterable[Problem]:
        start = self.workflow.start
        reached = self._reach(start.key)
        for node in nodes:
            if node.key not in reached:
                yield Problem(f"{node.path}.key", f"node {node.key!r} cannot be reached from the start node "
                              f"{start.key!r}; point a `next` or a branch at it, or remove it", code="unreachable")
        cycle = self._cycle(start.key)
        if cycle:
            node = self.workflow.node(cycle[-2])
            yield Problem(self._edge_path(node, cycle[-1]), f"the flow goes round in a circle: "
                          f"{' -> '.join(cycle)}; a flow runs forward to an end (to do a step again, an "
                          "approver uses the `return` action)", code="cycle")
            return
        ending = self._ending()
        for node in nodes:
            if node.key in reached and node.key not in ending:
                yield Problem(f"{node.path}.key", f"no path from node {node.key!r} reaches an end node; "
                              "add `type: end` after it", code="no_end")
        for node in nodes:
            if node.type == "parallel":
                yield from self._parallel(node)
        yield from self._orphan_joins(nodes)

    def _edge_path(self, node: Node, target: str) -> str:
        return next(where for t, where, _ in node.targets() if t == target)

    def _reach(self, key: str) -> set[str]:
        seen, todo = set(), [key]
        while todo:
            current = todo.pop()
            if current in seen or self.workflow.node(current) is None:
                continue
            seen.add(current)
            todo.extend(self._successors(self.workflow.node(current)))
        return seen

    def _cycle(self, start: str) -> list[str] | None:
        """The first cycle met walking from the start, as [a, b, ..., a]."""
        state: dict[str, int] = {}
        path: list[str] = []

        def visit(key: str) -> list[str] | None:
            state[key] = 1
            path.append(key)
            for nxt in self._successors(self.workflow.node(key)):
                if state.get(nxt) == 1:
                    return path[path.index(nxt):] + [nxt]
                if nxt not in state and (found := visit(nxt)):
                    return found
            path.pop()
            state[key] = 2
            return None
        return visit(start)

    def _ending(self) -> set[str]:
        """The nodes from which an end node can be reached (the graph has no cycle)."""
        memo: dict[str, bool] = {}

        def ends(key: str) -> bool:
            if key not in memo:
                node = self.workflow.node(key)
                kind = node_type(node.type)     # an unknown type is reported by the JSON Schema
                memo[key] = kind is None or kind.is_end or any(ends(n) for n in self._successors(node))
            return memo[key]
        return {n.key for n in self.workflow.nodes if node_type(n.type) and ends(n.key)}

    def _parallel(self, node: Node) -> Iterable[Problem]:
        join = self.workflow.node(node.join) if node.join else None
        if join is None or join.type != "join":
            what = "is not a node of this workflow" if join is None else f"is a {join.type} node"
            yield Problem(f"{node.path}.join", f"parallel node {node.key!r} joins at {node.join!r}, which {what}; "
                          "name the `type: join` node where its branches meet", code="bad_join",
                          suggestion=did_you_mean(node.join or "", [n.key for n in self.workflow.nodes
                                                                   if n.type == "join"]))
            return
        for branch in node.branches:
            escape = self._escapes(branch.next, join.key)
            if escape:
                yield Problem(branch.next_path, f"branch {branch.next!r} of parallel node {node.key!r} reaches "
                              f"{escape!r} without passing its join {join.key!r}; every branch of a parallel split "
                              "must end at its join", code="branch_not_joined")

    def _escapes(self, key: str, join: str) -> str | None:
        """The first end node reached from `key` without passing `join`; a nested parallel
        split is crossed through its own join."""
        seen, todo = set(), [key]
        while todo:
            current = todo.pop()
            if current == join or current in seen:
                continue
            seen.add(current)
            node = self.workflow.node(current)
            if node.type == "end":
                return current
            if node.type == "parallel" and node.join and self.workflow.node(node.join):
                todo.append(node.join)
            elif node.type == "join" and current != key:
                todo.extend(self._successors(node))
            else:
                todo.extend(self._successors(node))
        return None

    def _orphan_joins(self, nodes: list[Node]) -> Iterable[Problem]:
        claimed: dict[str, str] = {}
        for node in nodes:
            if node.type == "parallel" and node.join:
                if node.join in claimed:
                    yield Problem(f"{node.path}.join", f"join {node.join!r} is the join of parallel node "
                                  f"{claimed[node.join]!r} already; give each parallel split its own join",
                                  code="bad_join")
                claimed.setdefault(node.join, node.key)
        for node in nodes:
            if node.type == "join" and node.key not in claimed:
                yield Problem(f"{node.path}.type", f"join node {node.key!r} is the join of no parallel node; name it "
                              "in a parallel node's `join:`, or make it another type", code="bad_join")

    # ---- each node ----------------------------------------------------------------------
    def _node(self, node: Node) -> Iterable[Problem]:
        if node.type == "exclusive":
            yield from self._exclusive(node)
        for rule in node.approvers:
            yield from self._rule(rule)
        yield from self._mode(node)
        yield from self._fields(node)
        if node.timeout is not None:
            yield from self._timeout(node)
        if node.type == "action":
            yield from self._action(node)
        if node.type == "subflow":
            yield from self._subflow(node)

    def _exclusive(self, node: Node) -> Iterable[Problem]:
        if node.default is None:
            yield Problem(f"{node.path}", f"exclusive node {node.key!r} has no default: when no branch's `when` "
                          "is TRUE the flow would stop; add `default:` naming the node to go to then",
                          code="no_default")
        for branch in node.branches:
            if branch.when is not None:
                yield from self._condition(branch.when, f"{branch.path}.when")

    def _condition(self, text: str, path: str) -> Iterable[Problem]:
        result, problems = self.formula(text, path)
        yield from problems
        if not problems and result not in CONDITION_TYPES:
            yield Problem(path, f"a branch condition gives TRUE or FALSE, and this one gives {describe(result)}; "
                          "compare it, like `amount > 100000`", code="result_type")

    def formula(self, text: str, path: str) -> tuple[str | None, list[Problem]]:
        """(result type, problems) of a formula over the record's own fields."""
        try:
            formula = parse(text)
        except FormulaSyntaxError as error:
            return None, [FormulaDefinitionProblem(path, f"formula: {error.message}", text, error.position,
                                                   code="formula_syntax")]
        walks = [FormulaDefinitionProblem(
            path, f"formula: {node.dotted!r} reads through {node.path[0]!r}; a workflow formula reads the "
            "record's own fields: add a lookup field to the form and use it", text, node.start,
            code="own_fields_only")
            for node in formula.tree.walk() if isinstance(node, FieldRef) and len(node.path) > 1]
        if walks:
            return None, walks
        result = check(formula, AppEnv(self.app, self.form, "own", types=self.types))
        return result.result_type, [FormulaDefinitionProblem(path, f"formula: {p.message}", text, p.position,
                                                              code=p.code, suggestion=p.suggestion)
                                    for p in result.problems]

    def _field(self, key: Any, path: str, kinds: tuple[str, ...], what: str) -> Iterable[Problem]:
        fdef = self.form.field(key) if isinstance(key, str) else None
        if fdef is None:
            yield Problem(path, f"{key!r} is not a field of form {self.form.key!r}; name {what}", code="unknown_field",
                          suggestion=did_you_mean(str(key), [f.key for f in self.form.fields if f.type in kinds]))
        elif fdef.type not in kinds:
            yield Problem(path, f"{self.form.key}.{key} is a {fdef.type} field; name {what}", code="bad_field")

    def _rule(self, rule) -> Iterable[Problem]:
        if rule.kind == "field":
            yield from self._field(rule.value, f"{rule.path}.field", MEMBER_TYPES + DEPARTMENT_TYPES,
                                   "a member or department field")
        elif rule.kind == "department_head" and rule.value != "submitter":
            yield from self._field(rule.value, f"{rule.path}.department_head", DEPARTMENT_TYPES,
                                   "`submitter` or a department field")
        elif rule.kind == "role":
            yield from self._role(rule.value, f"{rule.path}.role")
        elif rule.kind == "manager" and rule.manager_up_to_role is not None:
            yield from self._role(rule.manager_up_to_role, f"{rule.path}.manager.up_to_role")

    def _role(self, key: Any, path: str) -> Iterable[Problem]:
        """Roles are checked when the definition declares them (top-level `roles:`);
        otherwise they are workspace data, checked when the flow runs."""
        declared = self.app.raw.get("roles") if isinstance(self.app.raw, dict) else None
        if not isinstance(declared, list):
            return
        keys = [r.get("key") if isinstance(r, dict) else r for r in declared]
        if key not in keys:
            yield Problem(path, f"role {key!r} is not declared in this app's roles; name one of them",
                          code="unknown_role", suggestion=did_you_mean(str(key), [str(k) for k in keys]))

    def _mode(self, node: Node) -> Iterable[Problem]:
        if "share" in node.raw and node.mode != "share":
            yield Problem(f"{node.path}.share", f"share applies to `mode: share`, and node {node.key!r} has "
                          f"mode {node.mode}; remove share or set the mode", code="bad_option")
        if node.mode == "share" and "share" not in node.raw:
            yield Problem(f"{node.path}.mode", f"node {node.key!r} approves by share: add `share:` with the "
                          "percentage of approvers that must approve (1 to 100)", code="bad_option")

    def _fields(self, node: Node) -> Iterable[Problem]:
        keys = self.form.field_keys()
        for key, access in node.fields.items():
            path = f"{node.path}.fields.{key}"
            fdef = self.form.field(key)
            if fdef is None:
                yield Problem(path, f"node {node.key!r} sets the permission of {key!r}, which is not a field of "
                              f"form {self.form.key!r}", code="unknown_field", suggestion=did_you_mean(key, keys))
            elif access in (EDITABLE, REQUIRED) and self._computed(fdef):
                yield Problem(path, f"{self.form.key}.{key} is computed ({fdef.type}), so nobody can edit it; "
                              "make it visible or hidden", code="bad_field")

    def _computed(self, fdef) -> bool:
        try:
            ftype = self.types.of(fdef)
        except Exception:       # the field's own problem is reported on it
            return False
        return ftype.computed_kind is not None or ftype.system_assigned

    def _timeout(self, node: Node) -> Iterable[Problem]:
        timeout = node.timeout
        if not node_type(node.type).human:
            yield Problem(timeout.path, f"node {node.key!r} ({node.type}) does not wait for anyone, so it cannot "
                          "time out; put the timeout on a fill or approve node", code="bad_option")
            return
        if timeout.field is not None:
            yield from self._field(timeout.field, f"{timeout.path}.field", DATE_TYPES, "a date or datetime field")
        if timeout.action == "escalate" and not timeout.to:
            yield Problem(f"{timeout.path}.action", "escalate hands the task to someone: add `to:` with approver "
                          "rules (like `- role: director`)", code="bad_option")
        if "repeat" in timeout.raw and timeout.action != "remind":
            yield Problem(f"{timeout.path}.repeat", f"repeat applies to `action: remind`, not {timeout.action}; "
                          "remove repeat", code="bad_option")
        for rule in timeout.to:
            yield from self._rule(rule)

    def _action(self, node: Node) -> Iterable[Problem]:
        if node.action == "set_fields":
            if not node.set:
                yield Problem(f"{node.path}.action", "set_fields needs `set:` with the fields and their formulas, "
                              "like `status: '\"approved\"'`", code="bad_option")
            for key, text in node.set.items():
                yield from self._set_field(node, key, text)
        elif "set" in node.raw:
            yield Problem(f"{node.path}.set", f"`set` belongs to `action: set_fields`; action {node.action!r} "
                          "takes `params`", code="bad_option")

    def _set_field(self, node: Node, key: str, text: Any) -> Iterable[Problem]:
        path = f"{node.path}.set.{key}"
        fdef = self.form.field(key)
        if fdef is None:
            yield Problem(path, f"set_fields names {key!r}, which is not a field of form {self.form.key!r}",
                          code="unknown_field", suggestion=did_you_mean(key, self.form.field_keys()))
            return
        if self._computed(fdef):
            yield Problem(path, f"{self.form.key}.{key} is computed ({fdef.type}); set a field people fill in",
                          code="bad_field")
            return
        result, problems = self.formula(text, path)
        yield from problems
        wanted = self.types.of(fdef).formula_type if not problems else None
        if wanted and result and not fits(result, wanted) and wanted != "text":
            yield Problem(path, f"{self.form.key}.{key} holds {describe(wanted)}, and this formula gives "
                          f"{describe(result)}", code="result_type")

    def _subflow(self, node: Node) -> Iterable[Problem]:
        other = self.app.form(node.form) if node.form else None
        if other is None:
            yield Problem(f"{node.path}.form", f"sub-flow form {node.form!r} is not a form of this app",
                          code="unknown_form", suggestion=did_you_mean(str(node.form), [f.key for f in self.app.forms]))
            return
        via = other.field(node.via) if node.via else None
        relations = [f.key for f in other.fields
                     if field_kind(f) == "relation" and RelationOptions.of(f).target == self.form.key]
        if via is None or field_kind(via) != "relation" or RelationOptions.of(via).target != self.form.key:
            yield Problem(f"{node.path}.via", f"sub-flow via: {node.via!r} is not a relation of {other.key!r} to "
                          f"{self.form.key!r}; name the relation by which its records point at this one",
                          code="bad_subflow", suggestion=did_you_mean(str(node.via), relations))
        flows = [w.key for w in workflows_of(self.app, other)]
        if node.workflow not in flows:
            hint = f"name one of {', '.join(flows)}" if flows else f"add a workflow to form {other.key!r}"
            yield Problem(f"{node.path}.workflow", f"form {other.key!r} has no workflow {node.workflow!r}; {hint}",
                          code="unknown_workflow", suggestion=did_you_mean(str(node.workflow), flows))
