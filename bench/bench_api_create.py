"""The REST API over HTTP on PostgreSQL, under gunicorn with 2 workers:

1. record create: POST /api/v1/apps/bench/forms/orders/records (an API key, validation,
   two relations checked, history) under a bounded closed-loop load from a second
   process (N clients, each sending its next request when the last one answered, for T
   seconds): requests/s, p50/p95/p99 and errors; beside a bare Flask + SQLAlchemy insert
   endpoint (defined here, `bare_app`, the same gunicorn settings) measured in the same run;
   then the same two creates through the Flask test client, alternately (wall-clock and CPU).
2. the data list: GET of 50 orders (filter, sort, two relations and a lookup resolved) out
   of --rows records, as JSON over HTTP and through the Flask test client, against the
   Records.list call alone (the same page), measured alternately.
3. the HTML table page: GET /apps/bench/forms/orders (the same filter and sort, 50 rows,
   its count, the default view, saved views and the top bar) signed in with a session
   cookie, over HTTP and through the Flask test client, against Records.list of the same
   page with its count, measured alternately.

    .venv/bin/python bench/bench_api_create.py [--rows 100000] [--clients 8] [--seconds 10]

Figures from `PYTHONPATH=$PWD .venv/bin/python bench/bench_api_create.py --rows 20000
--clients 4 --seconds 6` on a 2-core machine shared with other work. The ratios are against
a baseline measured in the same run; wall-clock ratios still swing widely with the load of
the moment (the load average is given), the CPU ratios (this process's CPU time) are the
steadiest. Before: commit e956072; after: the installed version read with who is asking,
one savepoint per write, the JSON plan, one statement for a write's references. Two pairs
of runs, each before then after:

                                                   run 1 (load 16)   run 2 (load 4 -> 8)
                                                   before   after    before   after
    create over HTTP vs bare insert (throughput)   0.26x    0.36x    0.48x    0.34x
    create in process, CPU vs bare insert          4.59x    3.54x    4.17x    3.52x
    list of 50 over HTTP vs Records.list (median)  4.83x    4.43x    3.93x    3.34x
    list of 50 in process (median)                 3.71x    2.94x    3.08x    2.93x
    list of 50 in process, CPU                     3.75x    3.04x    3.48x    2.97x
    table page over HTTP vs Records.list + count   5.44x    5.82x    4.13x    4.05x
    table page in process, CPU                     6.00x    5.63x    5.45x    5.45x

Statements per request (tests/web/api/test_request_statements.py): API create 7 -> 6
(here, with two relations, 7 -> 5), API list 4 -> 3, table page 9 -> 8; a create opens one
savepoint instead of two. Issue #9's aims (create 0.5x the bare insert, list 1.5x
Records.list) are not reached: what is left per GET is mostly fixed cost outside the
record service (Flask, the pool's ping, two transactions, who is asking).
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402

from bench._common import databases, paired  # noqa: E402
from bench.bench_records_page import APP, FILTER, SORT, populate  # noqa: E402
from engine.definition.model import AppDef  # noqa: E402
from engine.storage.db import make_engine  # noqa: E402
from runtime.apps import apply_app  # noqa: E402
from runtime.auth import ApiKeys  # noqa: E402
from runtime.records import Records  # noqa: E402
from runtime.session import Session  # noqa: E402
from web.app import create_app  # noqa: E402

CREATE_PATH = "/api/v1/apps/bench/forms/orders/records"
TABLE_PATH = "/apps/bench/forms/orders"
PASSWORD = "bench-password-9"
BARE_PATH = "/bare/orders"


# ---- the baseline: a bare Flask + SQLAlchemy insert endpoint --------------------------

def bare_app() -> Flask:
    """gunicorn 'bench.bench_api_create:bare_app()': POST /bare/orders inserts the JSON
    body's title, status and amount into a plain table and answers the row, nothing else."""
    app = Flask(__name__)
    engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
    table = sa.Table("bare_orders", sa.MetaData(), sa.Column("id", sa.BigInteger, primary_key=True),
                     sa.Column("title", sa.Text), sa.Column("status", sa.Text), sa.Column("amount", sa.Numeric(18, 2)),
                     sa.Column("customer", sa.BigInteger), sa.Column("product", sa.BigInteger),
                     sa.Column("created_at", sa.DateTime(timezone=True)))

    @app.post(BARE_PATH)
    def insert():
        body = request.get_json()
        values = {k: body.get(k) for k in ("title", "status", "amount", "customer", "product")}
        with engine.begin() as conn:
            new_id = conn.execute(table.insert().values(**values, created_at=datetime.now(timezone.utc))
                                  .returning(table.c.id)).scalar_one()
        return jsonify({"id": new_id, **values}), 201
    return app


def make_bare_table(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bare_orders (id BIGSERIAL PRIMARY KEY, title TEXT, status TEXT, "
                             "amount NUMERIC(18, 2), customer BIGINT, product BIGINT, created_at TIMESTAMPTZ)")


# ---- serving ------------------------------------------------------------------------------

class Gunicorn:
    """gunicorn with `workers` sync workers on a free port, the environment given."""

    def __init__(self, target: str, env: dict[str, str], workers: int, port: int):
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level",
             "warning", target], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env})

    def wait_ready(self, path: str, headers: dict[str, str], timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path, headers=headers)
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn on port {self.port} did not answer within {timeout}s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- the load: closed loop from a second process ------------------------------------------

def _client(port, path, headers, body, until, latencies, errors):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.perf_counter() < until:
        start = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            ok = answer.status == 201
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append((time.perf_counter() - start) * 1000)
        if not ok:
            errors.append(1)


def _load_process(port, path, headers, body, clients, seconds, out):
    latencies, errors = [], []
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=_client, args=(port, path, headers, body, until, latencies, errors))
               for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((latencies, len(errors), time.perf_counter() - start))


def closed_loop(port: int, path: str, headers: dict, body: bytes, clients: int, seconds: float) -> dict:
    """req/s and latency percentiles of `clients` closed-loop clients for `seconds`."""
    out = multiprocessing.Queue()
    worker = multiprocessing.Process(target=_load_process, args=(port, path, headers, body, clients, seconds, out))
    worker.start()
    latencies, errors, elapsed = out.get()
    worker.join()
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50": cuts[49], "p95": cuts[94],
            "p99": cuts[98], "errors": errors}


def describe(result: dict) -> str:
    return (f"{result['rps']:.0f} req/s, p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
            f"p99 {result['p99']:.1f} ms, {result['errors']} errors of {result['requests']}")


# ---- the run ------------------------------------------------------------------------------

# The bench app with a permission set: the caller is an ordinary user holding a role
# (not an administrator), so every request pays for the permission checks a real one does.
BENCH_APP = {**APP, "permissions": [{"key": "clerks", "roles": ["clerk"], "forms": {
    "orders": "manage_all", "customers": "view_all", "products": "view_all"}}]}


def set_up(engine, rows: int) -> str:
    """The bench app with `rows` orders, a user holding the clerk role with an API key;
    returns the key."""
    app = AppDef.from_dict(BENCH_APP)
    apply_app(engine, app)
    start = time.perf_counter()
    populate(engine, app, rows)
    print(f"populated {rows:,} orders in {time.perf_counter() - start:.1f}s")
    make_bare_table(engine)
    with Session(engine).write() as uow:
        user = uow.org.users.add("bench", "压测用户", password=PASSWORD).id
        uow.org.roles.create("clerk", "文员")
        uow.org.roles.assign("clerk", [user])
    with engine.begin() as conn:
        return ApiKeys(conn).create(user, "bench")[1]


def bench_create(url: str, key: str, clients: int, seconds: float, workers: int) -> None:
    body = json.dumps({"title": "新订单", "status": "new", "amount": "12.50", "customer": 1, "product": 1}).encode()
    env = {"DATABASE_URL": url, "FORMWORK_SECRET_KEY": "bench", "FORMWORK_API_RATE": "off",
           "FORMWORK_INSTANCE": tempfile.mkdtemp(prefix="formwork-bench-")}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    results = {}
    for name, target, path in (("formwork", "web.app:create_app()", CREATE_PATH),
                               ("bare", "bench.bench_api_create:bare_app()", BARE_PATH)):
        server = Gunicorn(target, env, workers, free_port())
        try:
            server.wait_ready("/healthz" if name == "formwork" else "/", headers)
            closed_loop(server.port, path, headers, body, clients, min(2.0, seconds))       # warm up
            results[name] = closed_loop(server.port, path, headers, body, clients, seconds)
        finally:
            server.stop()
        print(f"create over HTTP, {name:8}: {describe(results[name])}")
    ratio = results["formwork"]["rps"] / results["bare"]["rps"]
    print(f"create: Formwork API gives {ratio:.2f}x the bare insert endpoint's throughput "
          f"({clients} clients, {seconds:g}s, gunicorn -w {workers})")


def bench_create_in_process(url: str, key: str) -> None:
    """The same create through the Flask test client of each app (no HTTP, no gunicorn),
    alternately: wall-clock and this process's CPU time."""
    body = json.dumps({"title": "新订单", "status": "new", "amount": "12.50", "customer": 1, "product": 1})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    formwork = _in_process_app(url).test_client()
    before, os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL"), url
    try:
        bare = bare_app().test_client()
    finally:
        if before is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = before

    def send(client, path):
        def post():
            answer = client.post(path, data=body, headers=headers)
            assert answer.status_code == 201, answer.data[:300]
        return post
    timing = paired(send(formwork, CREATE_PATH), send(bare, BARE_PATH), repeat=61)
    print(f"create in process (Flask test clients): {timing.describe('the bare insert endpoint')}")
    print(f"create in process, {timing.describe_cpu('the bare insert endpoint')}")
    formwork.application.extensions["formwork"].engine.dispose()


def bench_list(engine, url: str, key: str, workers: int) -> None:
    query = urlencode({"filter": json.dumps(FILTER), "sort": "-amount", "limit": 50, "count": "none"})
    path = f"/api/v1/apps/bench/forms/orders/records?{query}"
    headers = {"Authorization": f"Bearer {key}"}
    env = {"DATABASE_URL": url, "FORMWORK_SECRET_KEY": "bench", "FORMWORK_API_RATE": "off",
           "FORMWORK_INSTANCE": tempfile.mkdtemp(prefix="formwork-bench-")}
    server = Gunicorn("web.app:create_app()", env, workers, free_port())
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def over_http():
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        assert answer.status == 200 and len(json.loads(data)["items"]) == 50, data[:300]
    with engine.connect() as db:
        records = Records(db, AppDef.from_dict(APP))

        def service_alone():
            page = records.list("orders", filter=FILTER, sort=SORT, page_size=50, with_count=False)
            assert len(page.records) == 50
        try:
            server.wait_ready("/healthz", headers)
            timing = paired(over_http, service_alone, repeat=31)
            print(f"list of 50 (2 relations + lookup) as JSON over HTTP: {timing.describe('Records.list alone')}")
        finally:
            server.stop()
    flask_app = _in_process_app(url)
    client = flask_app.test_client()

    def test_client():
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200
    with engine.connect() as db:
        records = Records(db, AppDef.from_dict(APP))
        timing = paired(test_client, lambda: records.list("orders", filter=FILTER, sort=SORT, page_size=50,
                                                          with_count=False), repeat=31)
    print(f"list of 50 as JSON in process (Flask test client): {timing.describe('Records.list alone')}")
    print(f"list of 50 as JSON in process, {timing.describe_cpu('Records.list alone')}")
    flask_app.extensions["formwork"].engine.dispose()


# ---- the HTML table page ---------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _cookies(answer: http.client.HTTPResponse) -> str:
    return "; ".join(value.split(";", 1)[0] for name, value in answer.getheaders() if name.lower() == "set-cookie")


def sign_in_over_http(conn: http.client.HTTPConnection) -> str:
    """Sign the bench user in as a browser does (the sign-in page's CSRF token, then the
    form); returns the Cookie header of the session."""
    conn.request("GET", "/login", headers={"Accept": "text/html"})
    page = conn.getresponse()
    token = _CSRF.search(page.read().decode()).group(1)
    cookie = _cookies(page)
    form = urlencode({"account": "bench", "password": PASSWORD, "csrf_token": token})
    conn.request("POST", "/login", body=form, headers={"Cookie": cookie,
                                                        "Content-Type": "application/x-www-form-urlencoded"})
    answer = conn.getresponse()
    answer.read()
    assert answer.status == 302, answer.status
    return _cookies(answer) or cookie


def bench_table(engine, url: str, workers: int) -> None:
    path = f"{TABLE_PATH}?{urlencode({'filter': json.dumps(FILTER), 'sort': '-amount'})}"
    env = {"DATABASE_URL": url, "FORMWORK_SECRET_KEY": "bench", "FORMWORK_API_RATE": "off",
           "FORMWORK_SIGN_IN_DELAY": "0", "FORMWORK_INSTANCE": tempfile.mkdtemp(prefix="formwork-bench-")}
    server = Gunicorn("web.app:create_app()", env, workers, free_port())

    def page_over(conn, cookie):
        def get():
            conn.request("GET", path, headers={"Cookie": cookie, "Accept": "text/html"})
            answer = conn.getresponse()
            data = answer.read()
            assert answer.status == 200 and data.count(b"<tr") >= 50, data[:300]
        return get
    with engine.connect() as db:
        records = Records(db, AppDef.from_dict(APP))

        def service_alone():
            page = records.list("orders", filter=FILTER, sort=SORT, page_size=50, with_count=True)
            assert len(page.records) == 50
        try:
            server.wait_ready("/healthz", {})
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            timing = paired(page_over(conn, sign_in_over_http(conn)), service_alone, repeat=31)
            print(f"table page of 50 (HTML, count, views, top bar) over HTTP: "
                  f"{timing.describe('Records.list with its count')}")
        finally:
            server.stop()
    flask_app = _in_process_app(url)
    client = flask_app.test_client()
    token = _CSRF.search(client.get("/login", headers={"Accept": "text/html"}).get_data(as_text=True)).group(1)
    signed_in = client.post("/login", data={"account": "bench", "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302

    def test_client():
        answer = client.get(path, headers={"Accept": "text/html"})
        assert answer.status_code == 200
    with engine.connect() as db:
        records = Records(db, AppDef.from_dict(APP))
        timing = paired(test_client, lambda: records.list("orders", filter=FILTER, sort=SORT, page_size=50,
                                                          with_count=True), repeat=31)
    print(f"table page of 50 in process (Flask test client): {timing.describe('Records.list with its count')}")
    print(f"table page of 50 in process, {timing.describe_cpu('Records.list with its count')}")
    flask_app.extensions["formwork"].engine.dispose()


def _in_process_app(url: str):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "FORMWORK_API_RATE": "off",
                       "FORMWORK_SIGN_IN_DELAY": 0})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="orders in the table listed (default 100,000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent closed-loop clients (default 8)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of load per server (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args()
    for _name, engine in databases("postgresql"):
        url = engine.url.render_as_string(hide_password=False)
        key = set_up(engine, args.rows)
        bench_create(url, key, args.clients, args.seconds, args.workers)
        bench_create_in_process(url, key)
        bench_list(make_engine(url), url, key, args.workers)
        bench_table(make_engine(url), url, args.workers)


if __name__ == "__main__":
    main()
