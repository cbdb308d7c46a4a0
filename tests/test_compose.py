"""docker-compose.yml and the Dockerfile, checked as data (no Docker engine runs here)."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.repo import REPO_ROOT

AIRFLOW_SERVICES = {
    "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
    "airflow-triggerer",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def test_every_service_is_there(compose):
    services = compose["services"]
    assert set(services) == AIRFLOW_SERVICES | {"postgres", "redis", "airflow-worker"}
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES - {"airflow-init"}}
    assert commands == {
        "airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer",
    }
    assert services["airflow-worker"]["command"] == "celery worker"


def test_airflow_services_share_settings_image_and_volumes(compose):
    services = compose["services"]
    for name in AIRFLOW_SERVICES | {"airflow-worker"}:
        service = services[name]
        env = service["environment"]
        assert service["image"].startswith("${NEWSDESK_IMAGE:-newsdesk-airflow"), name
        assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(
            "postgresql+psycopg://airflow:${POSTGRES_PASSWORD"), name
        assert env["AIRFLOW_CONN_NEWSDESK_DB"].startswith("postgresql://newsdesk:"), name
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET"), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        ), name
        volumes = service["volumes"]
        assert "airflow-logs:/opt/airflow/logs" in volumes, name
        # The DAGs come with the image's package: a mount over them would hide a stale image.
        assert not any(v.endswith(":/opt/airflow/dags") for v in volumes), name
        assert (
            "${NEWSDESK_SOURCES_FILE:-./pipeline/sources/sources.yaml}:/opt/newsdesk/sources.yaml:ro"
            in volumes
        ), name
        assert env["NEWSDESK_SOURCES"] == "/opt/newsdesk/sources.yaml", name
    assert set(compose["volumes"]) == {"postgres-data", "airflow-logs"}


def test_no_secret_is_written_in_the_file():
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    for match in re.finditer(r"^\s+\w*(PASSWORD|SECRET|FERNET_KEY)\w*:\s*(\S+)", text, re.M):
        assert match.group(2).startswith("${"), match.group(0)
    for url in re.findall(r"://[^:@/\s]+:([^@\s]+)@", text):
        assert url.startswith("${"), url


def test_health_checks_and_start_order(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "airflow-apiserver", "airflow-scheduler",
                 "airflow-dag-processor", "airflow-triggerer", "airflow-worker"):
        check = services[name]["healthcheck"]
        assert check["test"] and check["interval"] and check["retries"] >= 3, name
    api_check = " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "/api/v2/monitor/health" in api_check
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
    init = "\n".join(services["airflow-init"]["command"])
    for step in ("airflow db migrate", "airflow pools set newsdesk_crawl",
                 "python -m pipeline.cli db migrate"):
        assert step in init
    assert services["airflow-init"]["restart"] == "no"


def test_celery_profile_switches_executor_and_adds_redis_and_workers(compose):
    services = compose["services"]
    assert services["redis"]["profiles"] == ["celery"]
    assert services["airflow-worker"]["profiles"] == ["celery"]
    assert services["airflow-worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "deploy" not in services["airflow-worker"]  # scaled with --scale airflow-worker=N
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    for name in set(services) - {"redis", "airflow-worker"}:
        assert "profiles" not in services[name], name  # the default stack needs no profile


def test_postgres_creates_the_news_database_on_first_start(compose):
    mounts = compose["services"]["postgres"]["volumes"]
    assert "./deploy/postgres-init.sh:/docker-entrypoint-initdb.d/10-newsdesk.sh:ro" in mounts
    script = (REPO_ROOT / "deploy" / "postgres-init.sh").read_text()
    assert "CREATE DATABASE newsdesk" in script


def test_dockerfile_builds_on_the_official_image_with_our_pins():
    text = (REPO_ROOT / "Dockerfile").read_text()
    pinned = re.search(r'apache-airflow==(\S+)"', (REPO_ROOT / "pyproject.toml").read_text())
    assert f"ARG AIRFLOW_VERSION={pinned.group(1)}" in text
    assert "FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}" in text
    assert "constraints.txt" in text and "pip check" in text


def test_dockerfile_installs_the_built_wheel_not_the_checkout():
    text = (REPO_ROOT / "Dockerfile").read_text()
    build, image = text.split("FROM apache/airflow:", 1)
    assert "AS build" in build and "python -m build --wheel --outdir /dist" in build
    # Every folder the wheel is built from (pyproject.toml's package-dir included) is copied.
    for folder in ("crawlers", "pipeline", "sql", "dags"):
        assert f"COPY {folder} ./{folder}" in build, folder
    assert "COPY --chown=airflow:root --from=build /dist /tmp/dist" in image
    assert '"${wheel}[airflow]"' in image and "newsdesk-constraints.txt" in image
    assert "-e ." not in image and "PYTHONPATH" not in image
    assert "from pipeline.airflow.local import dags_folder" in image
    assert "/opt/airflow/dags" in image


def test_every_airflow_service_uses_the_fab_auth_manager_and_init_creates_the_admin(compose):
    from pipeline.airflow.local import FAB_AUTH_MANAGER

    services = compose["services"]
    for name in AIRFLOW_SERVICES | {"airflow-worker"}:
        assert services[name]["environment"]["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER
    init = services["airflow-init"]
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    script = init["command"][1]
    # After `airflow db migrate` (which creates the FAB tables), the admin from the environment
    # (expanded by the container's shell, never written into the rendered compose config).
    assert script.index("airflow db migrate") < script.index("airflow users create --role Admin")
    # On stdin, never in argv, where `ps` in the container would show it.
    assert "--password " not in script and "admin_password | setsid -w airflow users" in script
    assert "admin_password | setsid -w airflow users reset-password" in script
