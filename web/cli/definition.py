"""`formwork schema` and `formwork validate`."""
from __future__ import annotations

import json
from pathlib import Path

import click

from engine.errors import DefinitionError, Problem
from engine.validation import check_definition_warnings, read_source
from engine.validation.schema import definition_schema


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of app definitions (for editors and CI)."""
    click.echo(json.dumps(definition_schema(), ensure_ascii=False, indent=2, sort_keys=True))


def _check_file(path: Path) -> tuple[str, list[Problem], list[Problem]]:
    """A one-line summary of a valid file and its warnings, or its problems."""
    try:
        app, problems, warnings = check_definition_warnings(read_source(path), str(path))
    except DefinitionError as exc:   # unreadable or too large: refused before reading
        return "", exc.problems, []
    if problems:
        return "", problems, []
    fields = sum(len(f.fields) for f in app.forms)
    return f"{len(app.forms)} forms, {fields} fields", [], warnings


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per file: {file, ok, problems: [{path, line, column, code, "
                   "message, message_zh, suggestion}]}.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="The language of the messages written in both (the others are in English).")
def validate_command(files: tuple[Path, ...], as_json: bool, lang: str) -> None:
    """Check app definition FILES and print every problem of every file, each with its
    file:line:column, path and a way to fix it, and the warnings of valid files (allowed
    but risky: an indirect reward level). Exits 1 when any file has a problem."""
    failed = 0
    total = 0
    for path in files:
        summary, problems, warnings = _check_file(path)
        failed += bool(problems)
        total += len(problems)
        if as_json:
            click.echo(json.dumps({"file": str(path), "ok": not problems,
                                   "problems": [p.as_dict() for p in problems],
                                   "warnings": [w.as_dict() for w in warnings]}, ensure_ascii=False))
        elif problems:
            for problem in problems:
                click.echo(problem.format(lang))
            click.echo(f"{path}: {len(problems)} problem(s)")
        else:
            for warning in warnings:
                click.echo(warning.format(lang))
            click.echo(f"ok: {path} ({summary})" + (f", {len(warnings)} warning(s)" if warnings else ""))
    if not as_json and len(files) > 1:
        click.echo(f"{failed} of {len(files)} files with problems ({total} in all)" if failed
                   else f"all {len(files)} files are valid")
    if failed:
        raise click.exceptions.Exit(1)


COMMANDS = [schema_command, validate_command]
