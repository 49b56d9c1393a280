"""Browser libraries served from web/node_modules by an allow-list; configuration."""
from __future__ import annotations

import os
import stat

import pytest

from web.config import SECRET_FILE, from_environment, instance_secret
from web.vendor import NODE_MODULES, VENDOR_FILES

needs_node_modules = pytest.mark.skipif(not (NODE_MODULES / "echarts").is_dir(),
                                        reason="LOUDLY SKIPPED: web/node_modules is missing; run scripts/setup.sh")


@needs_node_modules
def test_every_listed_vendor_file_is_installed():
    assert [name for name, path in VENDOR_FILES.items() if not (NODE_MODULES / path).is_file()] == []


@needs_node_modules
def test_listed_file_is_served_with_a_cache_lifetime(client):
    answer = client.get("/static/vendor/echarts.min.js")
    assert answer.status_code == 200 and "javascript" in answer.content_type
    assert "max-age" in answer.headers["Cache-Control"]


@pytest.mark.parametrize("name", ["echarts/package.json", "../config.py", "echarts%2Fdist%2Fecharts.js",
                                  "sortablejs/Sortable.js"])
def test_files_not_listed_are_404(client, name):
    assert client.get(f"/static/vendor/{name}").status_code == 404


def test_own_static_files_are_served(client):
    assert client.get("/static/css/app.css").status_code == 200
    assert client.get("/static/js/http.js").status_code == 200


def test_secret_is_made_once_with_mode_0600(tmp_path):
    first = instance_secret(tmp_path)
    assert len(first) >= 64 and instance_secret(tmp_path) == first
    assert stat.S_IMODE(os.stat(tmp_path / SECRET_FILE).st_mode) == 0o600


def test_configuration_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMWORK_INSTANCE", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("FORMWORK_SECRET_KEY", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    settings = from_environment()
    assert settings["DATABASE_URL"] == f"sqlite:///{(tmp_path / 'formwork.db').resolve()}"
    assert settings["SECRET_KEY"] == (tmp_path / SECRET_FILE).read_text().strip()
    assert settings["REDIS_URL"] == "redis://127.0.0.1:6379/3"
    monkeypatch.setenv("FORMWORK_SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    settings = from_environment()
    assert settings["SECRET_KEY"] == "from-env" and settings["DATABASE_URL"] == "postgresql+psycopg://u@h/db"
