"""Helpers shared by the CLI commands."""
from __future__ import annotations

import functools

import click

from engine.i18n import LANGS
from engine.storage.db import make_engine
from engine.storage.system_upgrade import upgrade_system
from engine.workspace import workspace_language


def open_engine(ctx: click.Context):
    """An engine on the configured database with the system tables up to date."""
    obj = ctx.find_root().obj or {}
    engine = obj.get("engine")
    if engine is None:
        engine = make_engine(obj.get("database_url"))
        upgrade_system(engine)
        obj["engine"] = engine
    return engine


def with_engine(func):
    """Decorator: pass `engine` as the first argument of a click command."""
    @click.pass_context
    @functools.wraps(func)
    def wrapper(ctx, *args, **kwargs):
        return func(open_engine(ctx), *args, **kwargs)
    return wrapper


def lang_option(func):
    """Decorator: a `--lang zh|en` option, the workspace language (FORMWORK_LANGUAGE)
    when it is not given."""
    return click.option("--lang", type=click.Choice(LANGS), default=None, callback=_default_lang,
                        help="Language of the answer (default: the workspace language, "
                             "FORMWORK_LANGUAGE, zh unless set).")(func)


def _default_lang(ctx, param, value: str | None) -> str:
    return value or workspace_language()
