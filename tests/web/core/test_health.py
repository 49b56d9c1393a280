"""GET /healthz: 200 when the database answers SELECT 1, 503 when it does not."""
from __future__ import annotations

import sqlalchemy as sa


def test_healthz_answers_200_json(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_does_not(app, client):
    state = app.extensions["formwork"]
    working = state.engine
    state.engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                                    connect_args={"connect_timeout": 1})
    try:
        answer = client.get("/healthz")
    finally:
        state.engine.dispose()
        state.engine = working
    assert answer.status_code == 503 and answer.json["status"] == "unavailable"
