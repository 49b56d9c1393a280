"""What a request pays to get the flagship app ready: `load_installed` on a warm process
(the compiled app is cached by key, version and checksum, so it costs one short query),
then a record service and one record read, against the bare SELECT of the stored
definition measured alternately in the same run. Also the one-off cost of compiling
the app (a cold process, or the first request after an upgrade).

    .venv/bin/python bench/bench_load_app.py [--db both|sqlite|postgresql] [--scale 20]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._common import databases, median_ms, paired  # noqa: E402
from engine.storage import system  # noqa: E402
from engine.validation import load_definition  # noqa: E402
from runtime.apps import apply_app, load_installed  # noqa: E402
from runtime.records import Records  # noqa: E402
from runtime.seed import seed_app  # noqa: E402

APP_FILE = Path(__file__).resolve().parent.parent / "apps" / "crm_referral.yaml"


def definition_select(conn) -> None:
    """The baseline: reading the stored definition of the installed version, no more."""
    conn.execute(sa.select(system.app_versions.c.definition)
                 .join(system.apps, system.apps.c.id == system.app_versions.c.app_id)
                 .where(system.apps.c.key == "crm_referral",
                        system.app_versions.c.version == system.apps.c.current_version)).scalar_one()


def measure(name: str, engine, scale: int) -> None:
    apply_app(engine, load_definition(APP_FILE))
    seed_app(engine, "crm_referral", scale)
    with engine.connect() as conn:
        table = load_installed(conn, "crm_referral").tables.form_table("referrals")
        referral = conn.execute(sa.select(sa.func.min(table.c.id))).scalar_one()

        def ready_and_read():
            app = load_installed(conn, "crm_referral")
            Records(conn, app).get("referrals", referral)

        load = paired(lambda: load_installed(conn, "crm_referral"), lambda: definition_select(conn))
        print(f"[{name}] load_installed (warm): {load.describe('definition SELECT')}")
        full = paired(ready_and_read, lambda: definition_select(conn))
        print(f"[{name}] load + Records + get a referral: {full.describe('definition SELECT')}")
        app = load_installed(conn, "crm_referral")
        records = Records(conn, app)
        alone = median_ms(lambda: records.get("referrals", referral), repeat=41)
        print(f"[{name}] get alone (service ready): median {alone:.2f} ms")
        definition = load_definition(APP_FILE)
        start = time.perf_counter()
        Records(conn, definition).get("referrals", referral)
        print(f"[{name}] first read of a definition never compiled in this process "
              f"(compile + read): {(time.perf_counter() - start) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="both", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--scale", type=int, default=20, help="customers seeded (the app's other forms follow)")
    args = parser.parse_args()
    for name, engine in databases(args.db):
        measure(name, engine, args.scale)


if __name__ == "__main__":
    main()
