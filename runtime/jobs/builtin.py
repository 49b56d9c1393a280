"""The job kinds of the runtime itself: the nightly recompute of the fields that read
the date (runtime/recompute.py), as a built-in schedule at 02:00 workspace time."""
from __future__ import annotations

import sqlalchemy as sa

from engine.storage import system
from runtime.jobs.registry import builtin_schedule, register
from runtime.recompute import recompute_app

RECOMPUTE_VOLATILE = "recompute_volatile"


def recompute_volatile(ctx, payload) -> None:
    """Recompute the date-reading fields of app payload["app"], or of every installed
    app. Each app commits on its own (recompute_app's transaction), so this kind runs
    outside the job's transaction; running it twice gives the same values."""
    apps = [payload["app"]] if payload and payload.get("app") else _installed_apps(ctx.engine)
    for app_key in apps:
        recompute_app(ctx.engine, app_key, volatile=True)


def _installed_apps(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(system.apps.c.key).where(system.apps.c.current_version > 0)
                                 .order_by(system.apps.c.key)).scalars())


register(RECOMPUTE_VOLATILE, recompute_volatile, in_transaction=False, max_attempts=3, backoff=300.0)
builtin_schedule("nightly_recompute_volatile", "0 2 * * *", RECOMPUTE_VOLATILE)
