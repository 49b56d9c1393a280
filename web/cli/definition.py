"""`formwork schema` and `formwork validate`."""
from __future__ import annotations

import json
from pathlib import Path

import click

from engine.definition import check_definition_text, read_source
from engine.definition.schema import definition_schema
from engine.errors import DefinitionError


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of app definitions (for editors and CI)."""
    click.echo(json.dumps(definition_schema(), ensure_ascii=False, indent=2, sort_keys=True))


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate_command(files: tuple[Path, ...]) -> None:
    """Check app definition FILES; print every problem with its line:column. Exits 1 on problems."""
    failed = 0
    for path in files:
        try:
            app, problems = check_definition_text(read_source(path), str(path))
        except DefinitionError as exc:
            app, problems = None, exc.problems
        if problems:
            failed += 1
            for problem in problems:
                click.echo(problem.format())
            click.echo(f"{path}: {len(problems)} problem(s)")
        else:
            fields = sum(len(f.fields) for f in app.forms)
            click.echo(f"ok: {path} ({len(app.forms)} forms, {fields} fields)")
    if failed:
        raise click.exceptions.Exit(1)


COMMANDS = [schema_command, validate_command]
