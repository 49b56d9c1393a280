"""Helpers of the form page tests (tests/web/forms): the desk app's pages, posts with
the CSRF token, and a policy that hides fields."""
from __future__ import annotations

import re

from runtime.permissions import FULL, FormAccess
from tests.support.web import csrf_from

_ERRORS = re.compile(r'data-error-for="([^"]+)"[^>]*>([^<]*)<')


def page_url(form: str = "orders", app: str = "desk") -> str:
    return f"/apps/{app}/forms/{form}/new"


def post_page(client, path: str, data: dict, *, token_from: str | None = None):
    token = csrf_from(client, token_from or page_url())
    return client.post(path, data={**data, "csrf_token": token})


def errors_of(html: str) -> dict[str, str]:
    """The messages shown beside fields: {path: text}, the empty ones left out."""
    return {path: text.strip() for path, text in _ERRORS.findall(html) if text.strip()}


class HidingPolicy:
    """Full access, except the fields of `hidden` (form key -> field keys), which the
    actor may not see, and the forms of `read_only`, which they may only view."""

    def __init__(self, hidden: dict[str, set[str]] | None = None, view_only: set[str] | None = None):
        self.hidden, self.view_only = hidden or {}, view_only or set()

    def access(self, app, form, actor):
        if form.key in self.view_only:
            return FormAccess.limited(form, actions={"view"})
        if form.key in self.hidden:
            keys = [k for k in form.field_keys() if k not in self.hidden[form.key]]
            return FormAccess.limited(form, visible=keys)
        return FULL
