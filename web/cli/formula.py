"""`formwork eval`: evaluate a formula and print its value as one JSON object.

    formwork eval 'ROUND(a * 5%, 2)' --inputs '{"a": 12345}'   -> {"number": 617.25}
    formwork eval --batch vectors.json                          -> [{"id": ..., "result": {...}}]
    formwork eval 'customer.level & "!"' --app crm_referral --form opportunities --record 7

Values in and out have the oracle vectors' shape (`values.to_json`/`from_json`). A
formula that does not parse, or uses a field the inputs do not have, is an error with
its position: exit code 2. With --batch, such a vector gets an "error" entry, the
others are still evaluated, and the exit code is 2 if any failed.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from engine.formula import (
    EvalContext, FormulaSyntaxError, MappingEnv, check, compile_formula, evaluate, parse, to_json,
)
from engine.formula.fieldpath import inputs_from_json
from engine.formula.values import ValueJSONError
from engine.workspace import WORKSPACE_TZ
from runtime.session import AppNotInstalled, Session
from web.cli._common import open_engine

EVALUATORS = ("reference", "compiled")


class FormulaInputError(Exception):
    """A formula or its inputs that cannot be evaluated; the message says where."""


class _EvalCommand(click.Command):
    """`formwork eval -3^2`: an argument that starts with one '-' and is no option of the
    command (nor an option's value) is the FORMULA, where click would refuse it as
    "No such option: -3". Long options (`--input`) still get click's did-you-mean."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        options = {name: not param.is_flag for param in self.params
                   if isinstance(param, click.Option) for name in param.opts}
        takes_value = False
        for index, arg in enumerate(args):
            if arg == "--":
                break
            if (not takes_value and arg.startswith("-") and not arg.startswith("--")
                    and arg != "-" and arg not in options and arg not in ctx.help_option_names):
                args = [*args[:index], *args[index + 1:], "--", arg]
                break
            takes_value = options.get(arg, False)
        return super().parse_args(ctx, args)


@click.command("eval", cls=_EvalCommand)
@click.argument("formula", required=False)
@click.option("--inputs", "inputs_json", help='Field values as a JSON object, e.g. \'{"a": 1, '
              '"d": {"date": "2025-01-15"}}\'; - reads stdin.')
@click.option("--batch", "batch_file", type=click.File("r", encoding="utf-8"),
              help="A vectors file (a JSON list of {id, formula, inputs}); - reads stdin.")
@click.option("--app", "app_key",
              help="With --form and --record: evaluate against a stored record.")
@click.option("--form", "form_key", help="The form of --record.")
@click.option("--record", "record_id", type=int, help="The id of a stored record.")
@click.option("--evaluator", type=click.Choice(EVALUATORS), default="reference", show_default=True,
              help="The reference evaluator (simpleeval) or the compiled one.")
@click.option("--now", help="The moment TODAY() and NOW() see (ISO 8601; default: the clock).")
@click.option("--tz", default=WORKSPACE_TZ.key, show_default=True,
              help="The workspace time zone (FORMWORK_TIMEZONE, else Asia/Shanghai).")
@click.option("--user", "user_id", type=click.IntRange(min=1),
              help="The id of the user CURRENTUSER() gives (default: nobody, so it is empty).")
@click.pass_context
def eval_command(ctx: click.Context, formula, inputs_json, batch_file, app_key, form_key,
                 record_id, evaluator, now, tz, user_id) -> None:
    """Evaluate FORMULA and print its value as JSON ({"number": 125}, {"text": "..."}...)."""
    context = _context(now, tz)
    if user_id is not None:
        context.user = {"id": user_id}
    if batch_file is not None:
        if formula or inputs_json or app_key:
            raise click.UsageError("--batch takes no FORMULA, --inputs or --app")
        _run_batch(batch_file, evaluator, context)
        return
    if not formula:
        raise click.UsageError("give a FORMULA (or --batch FILE)")
    if app_key or form_key or record_id is not None:
        if inputs_json:
            raise click.UsageError("--inputs and --app/--form/--record exclude each other")
        inputs = record_inputs(open_engine(ctx), app_key, form_key, record_id, formula,
                               context.tz)
    else:
        inputs = _read_inputs(inputs_json)
    try:
        value = evaluate_text(formula, inputs, context, evaluator)
    except FormulaInputError as error:
        click.echo(f"error: {error}", err=True)
        raise click.exceptions.Exit(2)
    click.echo(json.dumps(to_json(value), ensure_ascii=False))


def evaluate_text(text: str, inputs: Mapping[str, Any], ctx: EvalContext, evaluator: str) -> Any:
    """Parse, check the fields against the inputs, evaluate. Raises FormulaInputError."""
    try:
        formula = parse(text)
    except FormulaSyntaxError as error:
        raise FormulaInputError(error.excerpt()) from None
    unknown = [p for p in check(formula, MappingEnv.from_values(inputs)).problems
               if p.code in ("unknown_field", "function_without_brackets")]
    if unknown:
        raise FormulaInputError("\n".join(p.message for p in unknown))
    if evaluator == "compiled":
        return compile_formula(formula)(inputs, ctx)
    return evaluate(formula, inputs, ctx)


def _context(now: str | None, tz: str) -> EvalContext:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {tz!r} (e.g. Asia/Shanghai, UTC)",
                                 param_hint="--tz") from None
    if now is None:
        return EvalContext(tz=zone)
    try:
        moment = datetime.fromisoformat(now)
    except ValueError:
        raise click.BadParameter(
            f"{now!r} is not an ISO 8601 moment, e.g. 2025-01-15T09:30:00+08:00",
            param_hint="--now") from None
    return EvalContext(tz=zone, now=moment)


def _read_inputs(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    raw = _json(sys.stdin.read() if text == "-" else text, "--inputs")
    if not isinstance(raw, dict):
        raise click.BadParameter("give a JSON object of field values, e.g. '{\"a\": 1}'",
                                 param_hint="--inputs")
    try:
        return inputs_from_json(raw)
    except ValueJSONError as error:
        raise click.BadParameter(str(error), param_hint="--inputs") from None


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc.msg} at line {exc.lineno} column "
                                 f"{exc.colno}", param_hint=what) from None


# ---- --batch --------------------------------------------------------------------------------

def _run_batch(source, evaluator: str, ctx: EvalContext) -> None:
    vectors = _json(source.read(), "--batch")
    if not isinstance(vectors, list):
        raise click.BadParameter("a vectors file is a JSON list of {id, formula, inputs}",
                                 param_hint="--batch")
    results, failed = [], 0
    for index, vector in enumerate(vectors):
        entry = batch_entry(index, vector, evaluator, ctx)
        failed += "error" in entry
        results.append(entry)
    # One entry per line: readable, and still one JSON list.
    click.echo("[\n" + ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in results)
               + "\n]" if results else "[]")
    if failed:
        click.echo(f"error: {failed} of {len(vectors)} formulas could not be evaluated", err=True)
        raise click.exceptions.Exit(2)


def batch_entry(index: int, vector: Any, evaluator: str, ctx: EvalContext) -> dict[str, Any]:
    """{"id": ..., "result": {...}} for one vector, or {"id": ..., "error": "..."}."""
    if not isinstance(vector, dict) or not isinstance(vector.get("formula"), str):
        return {"id": None, "error": f"item {index}: give an object with a \"formula\" text"}
    vector_id = vector.get("id", index)
    raw_inputs = vector.get("inputs", {})
    try:
        if not isinstance(raw_inputs, dict):
            raise FormulaInputError("\"inputs\" must be a JSON object of field values")
        value = evaluate_text(vector["formula"], inputs_from_json(raw_inputs), ctx, evaluator)
    except (FormulaInputError, ValueJSONError) as error:
        return {"id": vector_id, "error": str(error)}
    return {"id": vector_id, "result": to_json(value)}


# ---- --app/--form/--record ---------------------------------------------------------------

def record_inputs(engine, app_key: str | None, form_key: str | None, record_id: int | None,
                  formula_text: str, tz) -> dict[str, Any]:
    """The inputs of a stored record: its fields, with the related records a formula's
    paths walk through (customer.level) loaded as nested records."""
    if not (app_key and form_key and record_id is not None):
        raise click.UsageError("--app, --form and --record go together")
    try:
        paths = parse(formula_text).references
    except FormulaSyntaxError as error:
        click.echo(f"error: {error.excerpt()}", err=True)
        raise click.exceptions.Exit(2)
    with Session(engine).read() as uow:
        try:
            records = uow.records(app_key)
        except AppNotInstalled as exc:
            raise click.ClickException(exc.message("en")) from None
        app = records.app
        form = app.require_form(form_key)
        record = records.get(form_key, record_id)
        return _with_related(records, app, form, record["fields"], paths, tz)


def _with_related(records, app, form, fields: Mapping[str, Any], paths: Iterable[tuple],
                  tz) -> dict[str, Any]:
    """A record's fields as inputs, relations that `paths` walk through replaced by the
    related records' fields (recursively, one record fetch per related record)."""
    inputs = {key: _in_zone(value, tz) for key, value in fields.items()}
    tails: dict[str, list[tuple]] = {}
    for path in paths:
        if len(path) > 1:
            tails.setdefault(path[0], []).append(path[1:])
    for key, rest in tails.items():
        fdef = form.field(key)
        if fdef is None or fdef.type != "relation" or inputs.get(key) is None:
            continue        # a subform's rows are already there; a missing field reads #NAME?
        target = app.require_form(app.field_type(fdef).target)

        def related(record_id: int) -> dict[str, Any]:
            found = records.get(target.key, int(record_id))
            return _with_related(records, app, target, found["fields"], rest, tz)

        value = inputs[key]
        inputs[key] = [related(i) for i in value] if isinstance(value, list) else related(value)
    return inputs


def _in_zone(value: Any, tz) -> Any:
    """Stored moments are UTC; formulas see them in the workspace time zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(tz)
    return value


COMMANDS = [eval_command]
