"""Sample data: `seed_app(engine, app_key, scale)` fills an installed app with
realistic, deterministic data through the record service (validation, history),
exactly as users' own records are written."""
from __future__ import annotations

from sqlalchemy.engine import Engine

from engine.errors import FormworkError

GENERATORS = {"crm_referral": "runtime.seed.crm_referral"}


def seed_app(engine: Engine, app_key: str, scale: int, *, seed: int = 42, progress=None) -> dict[str, int]:
    """Create sample records; returns {form key: records created}."""
    module_name = GENERATORS.get(app_key)
    if module_name is None:
        raise FormworkError(f"no sample-data generator for app {app_key!r}; "
                            f"available: {', '.join(sorted(GENERATORS))}")
    if not 1 <= scale <= 2_000_000:
        raise FormworkError(f"--scale must be between 1 and 2,000,000, got {scale}")
    import importlib
    return importlib.import_module(module_name).generate(engine, scale, seed=seed, progress=progress)
