"""schemathesis against /api/v1/openapi.json through the WSGI app: requests generated from
the document (an app with a field of every type, so every field type's schemas are
exercised; the flagship's endpoints are the other tests' subject) never answer 500, and
every answer matches the schema the document gives for it."""
from __future__ import annotations

import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from engine.storage import system
from tests.support.api_docs import ALL_FIELDS, org_and_files, sample_values
from tests.support.fields import Lab
from tests.support.web import add_user, make_app
from tests.support.web_api import api_key, bearer
from tests.support.workflow_web import submit, workflow_world

EXAMPLES = 12         # per operation: the test stays within about a minute per database
CHECKS = [not_a_server_error, response_schema_conformance]


def _check_operation(operation, headers: dict[str, str], failures: list[str]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])
    @given(case=operation.as_strategy())
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
    try:
        run()
    except Exception as exc:            # every operation is tried; the failures are reported together
        failures.append(f"{operation.label}: {str(exc)[:1500]}")


def test_generated_requests_never_fail_the_server_or_the_schema(db, tmp_path):
    lab = Lab(db, ALL_FIELDS)
    ids = org_and_files(db, tmp_path / "files")
    lab.create(**sample_values(ids))
    secret = api_key(db, add_user(db, "schemathesis", "接口测试", is_admin=True))
    app = make_app(db, FORMWORK_API_RATE="off")
    headers = bearer(secret)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=headers)
        schema = schema.exclude(path_regex="^/api/v1/files")      # upload and download: web/files (another part)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.method.upper() for op in operations} == {"GET", "POST", "PATCH", "DELETE"}
        failures: list[str] = []
        for operation in operations:
            _check_operation(operation, headers, failures)
        assert not failures, "\n\n".join(failures)
    finally:
        app.extensions["formwork"].engine.dispose()


def test_generated_task_requests_on_a_running_workflow(db):
    """The task and record-workflow endpoints against real tasks: ann's submissions wait for
    fay (finance); fay, ann (the submitter) and root (an admin) each send generated requests."""
    world = workflow_world(db, FORMWORK_API_RATE="off")
    for n in range(6):
        submit(world.engine, f"差旅{n}", 1000 + n)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app, headers=world.auth("root"))
        schema = schema.include(path_regex="^/api/v1/(tasks|apps/.*/workflow$)")
        operations = [result.ok() for result in schema.get_all_operations()]
        paths = {op.path for op in operations}
        assert "/api/v1/tasks" in paths and "/api/v1/tasks/{id}/transfer" in paths
        assert any(p.endswith("/{id}/workflow") for p in paths)
        failures: list[str] = []
        for account in ("fay", "ann", "root"):
            for operation in operations:
                _check_operation(operation, world.auth(account), failures)
        assert not failures, "\n\n".join(failures)
        with world.engine.connect() as conn:     # the generated requests reached real tasks
            acted = conn.execute(sa.select(sa.func.count()).select_from(system.workflow_log)
                                 .where(system.workflow_log.c.user_id.isnot(None),
                                        system.workflow_log.c.action != "submit")).scalar()
        assert acted > 0
    finally:
        world.app.extensions["formwork"].engine.dispose()
