"""news_daily past Airflow's `max_map_length`: thousands of sources, batched per crawl task."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime

import pytest
import yaml

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("airflow") is None,
        reason="Airflow is the `airflow` extra (part of `dev`)",
    ),
]

SOURCES = 1500
#: Airflow's 1,024 would take this test ten minutes (dag.test runs each mapped task in turn);
#: a lower limit proves the same batching, and the execution API refuses a longer list the same.
MAX_MAP_LENGTH = 30


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory):
    """Airflow configured for this module (env set before the first `import airflow`)."""
    from tests.airflow_support import airflow_cli, airflow_env

    env = airflow_env(tmp_path_factory.mktemp("airflow-home"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        migrated = airflow_cli("db", "migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr[-2000:]
        yield env


def test_a_dry_run_over_1500_sources_maps_no_more_than_max_map_length(
    airflow_home, db_url, tmp_path, monkeypatch
):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.configuration import conf

    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [
        {"name": f"site{i:04}", "homepage": f"https://site{i:04}.example/"}
        for i in range(SOURCES)
    ]}))  # fmt: skip
    monkeypatch.setenv("NEWSDESK_SOURCES", str(path))
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", str(MAX_MAP_LENGTH))
    bag = DagBag(dag_folder=airflow_home["AIRFLOW__CORE__DAGS_FOLDER"])
    assert bag.import_errors == {}
    run = bag.dags["news_daily"].test(
        logical_date=datetime(2026, 3, 15, tzinfo=UTC), run_conf={"dry_run": True}
    )
    assert run.state == "success"
    crawls = [ti for ti in run.get_task_instances() if ti.task_id == "crawl"]
    assert conf.getint("core", "max_map_length") == MAX_MAP_LENGTH
    assert len(crawls) == MAX_MAP_LENGTH
    assert {ti.state for ti in crawls} == {"skipped"}
    labels = {ti.rendered_map_index for ti in crawls}
    assert {"site0000..site0049 (50)", "site1450..site1499 (50)"} <= labels
