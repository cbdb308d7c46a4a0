"""newsdesk installed from its wheel, like any package, works away from the repository.

Proves what an editable install cannot: the wheel holds every package, the migrations, the default
sources file and the DAGs, and its declared dependencies are enough. The wheel is built from a
copy of the checkout (a stale build/ folder could hide a missing file), installed with its
`airflow` extra and the repository's pins into a fresh venv outside the repository (a real pip
resolve from the machine's package index, nothing borrowed from the test's venv), then run from an
empty working directory with NEWSDESK_HOME in a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.repo import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

# What the checkout has that the wheel is not built from.
NOT_SOURCES = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
               ".ruff_cache", ".newsdesk")

# Run inside the installed venv: the DAGs folder `newsdesk airflow` hands to Airflow, parsed.
DAGBAG = """
import json, tempfile
from pathlib import Path
from pipeline.airflow import local
env = local.stack_env(Path(tempfile.mkdtemp()), metadata="postgresql+psycopg://x/airflow",
                      news_dsn="postgresql://x/newsdesk", port=8080)
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=env["AIRFLOW__CORE__DAGS_FOLDER"])
print(json.dumps({"folder": bag.dag_folder, "dags": sorted(bag.dag_ids),
                  "errors": {k: str(v)[-500:] for k, v in bag.import_errors.items()}}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "newsdesk"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(source)],
        cwd=work, timeout=600)
    (built,) = (work / "dist").glob("newsdesk-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("venv") / "venv"
    run([sys.executable, "-m", "venv", str(folder)], timeout=120)
    run([str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet",
         f"{wheel}[airflow]", "-c", str(REPO_ROOT / "constraints.txt")], timeout=1200)
    run([str(folder / "bin" / "python"), "-m", "pip", "check"], timeout=120)
    return folder


def run(args: list[str], *, cwd: Path | None = None, env: dict | None = None,
        timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env or clean_env(), capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without what would point at the checkout or the test database."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith(("NEWSDESK_", "AIRFLOW"))}
    return {**env, **extra}


def test_the_wheel_holds_every_package_and_the_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {str(p.parent.relative_to(REPO_ROOT)) for top in ("crawlers", "pipeline")
                for p in (REPO_ROOT / top).rglob("__init__.py")}
    missing = {p for p in packages if f"{p}/__init__.py" not in names}
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    shipped = {
        "pipeline/db/migrations": (REPO_ROOT / "sql" / "migrations").glob("[0-9]*"),
        "pipeline/airflow/dags": (REPO_ROOT / "dags").glob("*.py"),
    }
    for folder, files in shipped.items():
        for path in files:
            assert f"{folder}/{path.name}" in names
    assert "pipeline/sources/sources.yaml" in names
    assert not any(n.startswith(("tests/", "bench/", "sql/", "dags/")) for n in names)


def test_installed_wheel_runs_the_demo_and_ships_the_dags(venv, tmp_path):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    env = clean_env(NEWSDESK_HOME=str(home))
    newsdesk = str(venv / "bin" / "newsdesk")
    python = str(venv / "bin" / "python")

    where = run([python, "-c", "import pipeline; print(pipeline.__file__)"], cwd=cwd, env=env,
                timeout=60)
    assert where.stdout.startswith(str(venv)), where.stdout
    try:
        demo = run([newsdesk, "demo", "--articles", "30"], cwd=cwd, env=env, timeout=600)
        assert "dedupe:" in demo.stdout and "new stories" in demo.stdout, demo.stdout[-2000:]
        status = run([newsdesk, "db", "status"], cwd=cwd, env=env, timeout=120)
        migrations = len(list((REPO_ROOT / "sql" / "migrations").glob("[0-9]*")))
        assert f"{migrations} applied, 0 pending" in status.stdout, status.stdout

        # pyarrow is the parquet extra, not installed here: one line that names it.
        parquet = subprocess.run([newsdesk, "export", "--format", "parquet", "--out", "a.parquet"],
                                 cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        assert parquet.returncode != 0
        assert parquet.stderr.strip().count("\n") == 0, parquet.stderr
        assert "newsdesk[parquet]" in parquet.stderr
    finally:
        subprocess.run([newsdesk, "db", "stop"], cwd=cwd, env=env, capture_output=True,
                       timeout=120)

    bag = run([python, "-c", DAGBAG], cwd=cwd, env=clean_env(AIRFLOW_HOME=str(tmp_path / "af")),
              timeout=300)
    parsed = json.loads(bag.stdout.strip().splitlines()[-1])
    assert parsed["folder"].startswith(str(venv)), parsed["folder"]
    assert parsed["errors"] == {}
    assert {"news_daily", "news_maintenance"} <= set(parsed["dags"])
