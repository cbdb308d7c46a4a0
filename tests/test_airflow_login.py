"""Logging in to Airflow as the compose deployment sets it up: the FAB auth manager, and the
admin user that airflow-init creates from AIRFLOW_ADMIN_PASSWORD.

Compose cannot run here, so the test runs airflow-init's own script (read from
docker-compose.yml) against a metadata database on the test PostgreSQL, starts the API server
with the same auth manager, gets a JWT from `POST /auth/token` with that password and lists the
DAGs with it; a wrong password, or no token, is refused. A second init with a new password
(the container recreated) makes the new password the one that works.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import subprocess
import urllib.error
import urllib.request

import pytest
import yaml

from tests.airflow_support import free_port
from tests.repo import REPO_ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("airflow") is None,
        reason="Airflow is the `airflow` extra (part of `dev`)",
    ),
]


def _compose_init_script() -> str:
    """airflow-init's shell script as the container's shell gets it (compose's $$ is $)."""
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    init = compose["services"]["airflow-init"]
    assert init["entrypoint"] == "/bin/bash" and init["command"][0] == "-c"
    return init["command"][1].replace("$$", "$")


def _run_init(env: dict[str, str], password: str) -> None:
    result = subprocess.run(
        ["/bin/bash", "-c", _compose_init_script()],
        env={**os.environ, **env, "AIRFLOW_ADMIN_PASSWORD": password},
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def _request(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


@pytest.mark.timeout(600)
def test_compose_admin_gets_a_token_and_lists_dags(db_url, pg_server_url, tmp_path):
    from pipeline.airflow import local

    metadata = local.metadata_url(
        pg_server_url, database=f"airflow_login_{secrets.token_hex(4)}"
    )
    port = free_port()
    env = local.stack_env(
        tmp_path / "airflow", metadata=metadata, news_dsn=db_url, port=port,
        extra={
            **local.fab_auth_env(),
            "NEWSDESK_DATABASE_URL": db_url,
            "NEWSDESK_CRAWL_POOL_SLOTS": "2",
            "AIRFLOW_ADMIN_USER": "admin",
            "AIRFLOW_ADMIN_EMAIL": "admin@example.invalid",
        },
    )
    first, second = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    _run_init(env, first)
    stack = local.start(env, tmp_path / "logs", ("api-server",))
    base = f"http://127.0.0.1:{port}"
    try:
        local.wait_for_api(port, timeout=180, stack=stack)
        status, _ = _request(f"{base}/api/v2/dags")
        assert status == 401, "the API answered without a token"
        status, _ = _request(f"{base}/auth/token", {"username": "admin", "password": "wrong"})
        assert status == 401
        status, body = _request(f"{base}/auth/token", {"username": "admin", "password": first})
        assert status == 201 and body.get("access_token"), (status, body, stack.tail())
        status, dags = _request(f"{base}/api/v2/dags", token=body["access_token"])
        assert status == 200 and "dags" in dags, (status, dags)

        # Recreated with a new AIRFLOW_ADMIN_PASSWORD: init resets the existing admin's password.
        _run_init(env, second)
        status, _ = _request(f"{base}/auth/token", {"username": "admin", "password": first})
        assert status == 401
        status, body = _request(f"{base}/auth/token", {"username": "admin", "password": second})
        assert status == 201 and body.get("access_token"), (status, body)
    finally:
        stack.stop()
    assert not any(stack.alive().values())
