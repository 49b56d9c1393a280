"""The `formwork` command. Each module in this folder defines click commands and
lists them in `COMMANDS`; they are all attached to the one group here.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from engine import workspace
from engine.errors import FormworkError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database-url", envvar="DATABASE_URL", default=None,
              help="Database URL (default: a SQLite file in ./instance).")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """Formwork: a self-hosted low-code form and workflow engine."""
    ctx.ensure_object(dict)
    ctx.obj["database_url"] = database_url


for _module in pkgutil.iter_modules(__path__):
    if _module.name.startswith("_"):
        continue
    for _command in getattr(importlib.import_module(f"{__name__}.{_module.name}"), "COMMANDS", []):
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: user errors print a message and exit non-zero, never a traceback."""
    for problem in workspace.problems():       # a bad FORMWORK_TIMEZONE: refuse before any work
        click.echo(f"error: {problem}", err=True)
        return 2
    try:
        # Without standalone mode, click returns the code of a click.exceptions.Exit.
        code = cli.main(args=argv, prog_name="formwork", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except FormworkError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
