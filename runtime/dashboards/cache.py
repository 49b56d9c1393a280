"""Widget results kept in the process, by (app, installed version, dashboard, widget,
control values, language, day, permission scope, data generation of the forms read).

A write's record events bump the generation of each form they touch once the write
commits (`dashboard_listener`, on every unit of work's record service), so the next
load of a widget over that form misses and asks the database again; nothing is deleted
by hand. Another process's writes do not reach this process's generations: an entry
older than `max_age` seconds (FORMWORK_DASHBOARD_CACHE_SECONDS, default 60) is
computed again, which bounds how stale a figure shown by one of several web
processes can be.
"""
from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Hashable, Iterable

from runtime.records.events import Batch


class WidgetCache:
    def __init__(self, size: int = 2048, max_age: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.size, self.clock = size, clock
        self.max_age = max_age if max_age is not None else float(
            os.environ.get("FORMWORK_DASHBOARD_CACHE_SECONDS", "60"))
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._generations: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def generations(self, app_key: str, forms: Iterable[str]) -> tuple:
        with self._lock:
            return tuple((form, self._generations.get((app_key, form), 0)) for form in sorted(forms))

    def invalidate(self, app_key: str, forms: Iterable[str]) -> None:
        """The records of `forms` changed: what was computed from them is stale."""
        with self._lock:
            for form in forms:
                self._generations[(app_key, form)] = self._generations.get((app_key, form), 0) + 1

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if self.clock() - found[0] > self.max_age:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = (self.clock(), value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = WidgetCache()


def dashboard_listener(after_commit: Callable[[Callable[[], Any]], Any], cache: WidgetCache = CACHE):
    """A record listener: once the write commits, the forms its events touched (the
    records written and those whose computed fields it recomputed) are stale."""
    def listen(batch: Batch) -> None:
        app_key, forms = batch.app.key, {event.form_key for event in batch.events}
        after_commit(lambda: cache.invalidate(app_key, forms))
    return listen
