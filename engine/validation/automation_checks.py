"""Checks of meaning of the definition's automations (engine/automations): every name they
use exists (with a did-you-mean), every formula type-checks in the automation's
environment (engine/automations/env.py) and points into its text on an error, cron
expressions parse, templates parse, a filter is a valid filter of its form.

The JSON Schema has checked the shape (kinds, required options); these checks read the
model defensively, as the other semantic checks do.
"""
from __future__ import annotations

from typing import Any, Iterable

from croniter import croniter

from engine.automations.env import OLD, AutomationEnv
from engine.automations.kinds import ACTION_KINDS, TRIGGER_KINDS, TRIGGERS_WITH_RECORD
from engine.automations.model import Action, Automation, automations_of
from engine.automations.templates import syntax_problem
from engine.computed.filter_tree import parse_filter
from engine.definition.model import AppDef, FormDef
from engine.errors import Problem
from engine.fields.registry import computed_kind, get_type
from engine.formula import FormulaSyntaxError, check, parse
from engine.suggest import did_you_mean
from engine.validation.checks import CONDITION_TYPES, AppFacts, FormulaDefinitionProblem

MEMBER_TYPES = ("member", "members")
DATE_TYPES = ("date", "datetime")
NOT_WRITABLE_KINDS = ("lookup",)


def check_automations(facts: AppFacts) -> Iterable[Problem]:
    seen: dict[str, str] = {}
    for automation in automations_of(facts.app):
        if automation.key in seen:
            yield Problem(f"{automation.path}.key", f"automation key {automation.key!r} is used twice (also at "
                          f"{seen[automation.key]}); rename one of them", code="duplicate_key")
        seen.setdefault(automation.key, automation.path)
        yield from _check_automation(facts, automation)


def _check_automation(facts: AppFacts, automation: Automation) -> Iterable[Problem]:
    if automation.trigger.kind not in TRIGGER_KINDS:
        return      # the JSON Schema names the kinds
    form = None
    if automation.form is not None:
        form = facts.app.form(automation.form)
        if form is None:
            yield _unknown_form(facts.app, automation.form, f"{automation.path}.form")
            return
    elif automation.trigger.kind in TRIGGERS_WITH_RECORD:
        yield Problem(f"{automation.path}.trigger.kind", f"a {automation.trigger.kind} trigger runs with a record: "
                      "name its form with `form:`", code="form_required")
        return
    yield from _check_trigger(facts, automation, form)
    env = AutomationEnv(facts.app, form, facts.types, old=automation.trigger.kind == "record_updated",
                        payload=automation.trigger.kind == "webhook")
    if automation.condition is not None:
        yield from condition_problems(env, automation.condition, f"{automation.path}.condition")
    for action in automation.actions:
        if action.kind in ACTION_KINDS:
            yield from _check_action(facts, automation, action, form, env)


# ---- triggers -------------------------------------------------------------------------------

def _check_trigger(facts: AppFacts, automation: Automation, form: FormDef | None) -> Iterable[Problem]:
    trigger, path = automation.trigger, f"{automation.path}.trigger"
    if trigger.kind == "record_updated":
        for i, key in enumerate(trigger.option("fields") or []):
            if isinstance(key, str) and form.field(key) is None:
                yield _unknown_field(form, key, f"{path}.fields[{i}]", "the trigger watches")
    elif trigger.kind == "date" and isinstance(trigger.option("field"), str):
        fdef = form.field(trigger.option("field"))
        if fdef is None:
            yield _unknown_field(form, trigger.option("field"), f"{path}.field", "the date trigger reads")
        elif _formula_type(facts, fdef) not in DATE_TYPES:
            yield Problem(f"{path}.field", f"field {fdef.key!r} is a {fdef.type} field; a date trigger needs a "
                          "date or datetime field", code="not_a_date")
    elif trigger.kind == "schedule" and isinstance(trigger.option("cron"), str):
        if not croniter.is_valid(trigger.option("cron")) or len(trigger.option("cron").split()) != 5:
            yield Problem(f"{path}.cron", f"{trigger.option('cron')!r} is not a five-field cron expression "
                          "(minute hour day month weekday), e.g. '0 9 * * 1' for Mondays at 9:00",
                          code="bad_cron")


# ---- actions --------------------------------------------------------------------------------

def _check_action(facts: AppFacts, automation: Automation, action: Action, form: FormDef | None,
                  env: AutomationEnv) -> Iterable[Problem]:
    target_key = automation.action_form(action)
    target = facts.app.form(target_key) if isinstance(target_key, str) else None
    if action.kind in ("create_record", "update_record", "upsert_record", "delete_record", "update_batch",
                       "start_workflow"):
        if target is None:
            yield (_unknown_form(facts.app, target_key, f"{action.path}.form") if target_key else
                   Problem(f"{action.path}.form", f"this {action.kind} action needs a form: the automation has "
                           "none, so name the form the action writes with `form:`", code="form_required"))
            return
    if action.kind in ("update_record", "delete_record", "start_workflow") and "record" not in action.options \
            and form is None:
        yield Problem(f"{action.path}.record", f"this automation has no triggering record: give the id of the "
                      f"record to {action.kind.split('_')[0]} with `record:` (a formula)", code="record_required")
    if isinstance(action.option("record"), str):
        yield from _typed(env, action.option("record"), f"{action.path}.record", ("number", "any"),
                          "a record id (a number)")
    for key, text in action.values.items():
        yield from _check_value(facts, env, target, key, text, f"{action.path}.values.{key}")
    yield from _ACTION_CHECKS.get(action.kind, _nothing)(facts, automation, action, form, target)


def _nothing(*_args) -> Iterable[Problem]:
    return ()


def _check_value(facts: AppFacts, env: AutomationEnv, target: FormDef, key: str, text: str, path: str
                 ) -> Iterable[Problem]:
    fdef = target.field(key)
    if fdef is None:
        yield _unknown_field(target, key, path, "the action writes")
        return
    if computed_kind(fdef) is not None or fdef.type in NOT_WRITABLE_KINDS or \
            (get_type(fdef.type) is not None and facts.types.of(fdef).system_assigned):
        yield Problem(path, f"field {key!r} of form {target.key!r} is computed or assigned by the system; an "
                      "action cannot write it: remove it from `values`", code="read_only_field")
        return
    yield from _formula_problems(env, text, path)[1]


def _check_upsert(facts, automation, action, form, target) -> Iterable[Problem]:
    for i, key in enumerate(action.option("match") or []):
        if isinstance(key, str) and key not in action.values:
            yield Problem(f"{action.path}.match[{i}]", f"upsert matches on {key!r}, which `values` does not "
                          "give; add it to `values` or match on one of them", code="match_not_in_values",
                          suggestion=did_you_mean(key, list(action.values)))


def _check_batch(facts, automation, action, form, target) -> Iterable[Problem]:
    tree = parse_filter(action.option("filter"), target, app=facts.app, types=facts.types,
                        path=f"{action.path}.filter")
    for error in tree.errors:
        yield Problem(error.path, error.message, code="bad_filter")


def _check_notify(facts, automation, action, form, target) -> Iterable[Problem]:
    to = action.option("to") if isinstance(action.option("to"), dict) else {}
    for i, key in enumerate(to.get("fields") or []):
        if not isinstance(key, str):
            continue
        fdef = form.field(key) if form is not None else None
        if form is None:
            yield Problem(f"{action.path}.to.fields[{i}]", "this automation has no triggering record to read "
                          "a member field from; name users or roles instead", code="record_required")
        elif fdef is None:
            yield _unknown_field(form, key, f"{action.path}.to.fields[{i}]", "the notification is sent to")
        elif fdef.type not in MEMBER_TYPES:
            yield Problem(f"{action.path}.to.fields[{i}]", f"field {key!r} is a {fdef.type} field; notifications "
                          "go to member or members fields", code="not_a_member_field")
    for name in ("title", "body", "link"):
        text = action.option(name)
        found = syntax_problem(text) if isinstance(text, str) else None
        if found:
            yield Problem(f"{action.path}.{name}", f"template line {found[0]}: {found[1].rstrip('.')}; templates "
                          "are Jinja2, e.g. {{ record.name }}", code="template_syntax")


def _check_round_robin(facts, automation, action, form, target) -> Iterable[Problem]:
    key = action.option("field")
    if form is None or not isinstance(key, str):
        return
    fdef = form.field(key)
    if fdef is None:
        yield _unknown_field(form, key, f"{action.path}.field", "round robin fills")
    elif fdef.type != "member":
        yield Problem(f"{action.path}.field", f"field {key!r} is a {fdef.type} field; round robin fills a "
                      "member field", code="not_a_member_field")


_ACTION_CHECKS = {"upsert_record": _check_upsert, "update_batch": _check_batch, "notify": _check_notify,
                  "assign_round_robin": _check_round_robin}


# ---- formulas -------------------------------------------------------------------------------

def _formula_problems(env: AutomationEnv, text: Any, path: str) -> tuple[str | None, list[Problem]]:
    if not isinstance(text, str) or not text.strip():
        return None, [Problem(path, "the formula is empty: write one, like `amount * 2`", code="formula")]
    try:
        formula = parse(text)
    except FormulaSyntaxError as error:
        return None, [FormulaDefinitionProblem(path, f"formula: {error.message}", text, error.position,
                                               code="formula_syntax")]
    result = check(formula, env)
    hint = _old_hint(env, formula)
    problems = [FormulaDefinitionProblem(path, f"formula: {p.message}{hint}", text, p.position, code=p.code,
                                         suggestion=p.suggestion) for p in result.problems]
    return result.result_type, problems


def _old_hint(env: AutomationEnv, formula) -> str:
    """Say why old.* is unknown outside an update trigger."""
    if not env.old and any(ref[0] == OLD for ref in formula.references):
        return " (old.<field> is read only by a record_updated trigger)"
    return ""


def _typed(env: AutomationEnv, text: str, path: str, types: tuple[str, ...], words: str) -> Iterable[Problem]:
    result, problems = _formula_problems(env, text, path)
    yield from problems
    if not problems and result is not None and result not in types:
        yield Problem(path, f"this formula gives {result}; it must give {words}", code="formula_type")


def condition_problems(env: AutomationEnv, text: str, path: str) -> Iterable[Problem]:
    return _typed(env, text, path, CONDITION_TYPES, "TRUE or FALSE, like `old.stage <> stage`")


def _formula_type(facts: AppFacts, fdef) -> str | None:
    try:
        return facts.types.of(fdef).formula_type
    except Exception:      # a field whose config is broken: reported by its own checks
        return None


def _unknown_form(app: AppDef, key: Any, path: str) -> Problem:
    keys = [f.key for f in app.forms]
    return Problem(path, f"there is no form {key!r} in this app; name one of: {', '.join(keys)}",
                   code="unknown_form", suggestion=did_you_mean(str(key), keys))


def _unknown_field(form: FormDef, key: str, path: str, what: str) -> Problem:
    keys = form.field_keys()
    return Problem(path, f"{what} {key!r}, which is not a field of form {form.key!r}", code="unknown_field",
                   suggestion=did_you_mean(key, keys))
