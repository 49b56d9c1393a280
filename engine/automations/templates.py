"""Notification templates: Jinja2 in its immutable sandbox.

    title: "新线索 {{ record.name }} 已分配给你"
    body:  "来源：{{ record.source }}，电话 {{ record.phone }}"

A template reads `record` (the triggering record's fields by key), `old` (before an
update), `payload` (a webhook's JSON), `app` and `automation` (their keys and labels).
The sandbox refuses attribute access to Python internals (`__class__`, `mro`, function
globals) and any method that changes data; a template that tries raises SecurityError,
which the notification job records as its error. HTML e-mail bodies are rendered with
autoescape on, so a record value cannot inject markup; text (titles, robot markdown,
in-app) is rendered without it.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from jinja2 import TemplateSyntaxError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE = 4000


@lru_cache(maxsize=2)
def environment(html: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(autoescape=html, undefined=Undefined, trim_blocks=True)


def syntax_problem(text: str) -> tuple[int, str] | None:
    """(line within the template, message) when the template does not parse, else None."""
    try:
        environment(False).parse(text)
    except TemplateSyntaxError as error:
        return error.lineno, error.message or "syntax error"
    return None


@lru_cache(maxsize=1024)
def _compiled(text: str, html: bool):
    return environment(html).from_string(text)


def render(text: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """The template filled in (a field that is not there renders empty)."""
    return _compiled(text, html).render(dict(context))
