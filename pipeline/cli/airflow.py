"""`newsdesk airflow`: a real Airflow on this machine, with our DAGs, until Ctrl-C.

Scheduler, DAG processor, API server (the UI) and triggerer, with the LocalExecutor; the
metadata database is an `airflow` database on newsdesk's own PostgreSQL (the embedded one unless
NEWSDESK_DATABASE_URL says otherwise). Without --sources, the demo site is served and crawled.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import time
from pathlib import Path

import yaml

from pipeline.cli.options import add_sources_option, article_count, whole_number
from pipeline.errors import NewsdeskError
from pipeline.sources.config import load_sources


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "airflow", help="run a local Airflow (scheduler, DAG processor, UI, triggerer) on our DAGs"
    )
    add_sources_option(parser)
    parser.add_argument("--port", type=whole_number(1, 65535), default=8080,
                        help="UI/API port (default: 8080)")
    parser.add_argument(
        "--articles", type=article_count, default=300, metavar="N",
        help="demo site size when no --sources is given (default: 300)",
    )
    parser.add_argument(
        "--crawl-slots", type=whole_number(1), default=4, metavar="N",
        help="size of the newsdesk_crawl pool: concurrent crawls (default: 4)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("airflow") is None:
        raise NewsdeskError("Airflow is not installed: pip install 'newsdesk[airflow]'")
    from pipeline.airflow import local
    from pipeline.db import connect_migrated, database_url, redact
    from pipeline.db.embedded import home

    if args.sources:  # a bad file: one line now, not a stack of Airflow components failing later
        load_sources(args.sources)
    news_dsn = database_url()
    connect_migrated(news_dsn).close()
    airflow_home = home() / "airflow"
    metadata = local.metadata_url(news_dsn)
    with contextlib.ExitStack() as stack:
        sources = Path(args.sources) if args.sources else None
        if sources is None:
            sources = _serve_demo(stack, airflow_home, args.articles)
        env = local.stack_env(
            airflow_home, metadata=metadata, news_dsn=news_dsn, port=args.port, sources=sources
        )
        print(f"airflow: home {airflow_home}, metadata {redact(metadata)}")
        print("airflow: migrating the metadata database and creating the crawl pool...")
        local.prepare(env, crawl_slots=args.crawl_slots)
        running = local.start(env, airflow_home / "logs" / "components")
        stack.callback(running.stop)
        local.wait_for_api(args.port, stack=running)
        passwords = airflow_home / "simple_auth_manager_passwords.json.generated"
        print(f"airflow: UI on http://127.0.0.1:{args.port}/ (user admin, password in {passwords})")
        print(f"airflow: sources {sources}; DAGs news_daily and news_maintenance (paused).")
        print(f"airflow: try  AIRFLOW_HOME={airflow_home} airflow dags unpause news_daily")
        print("airflow: component logs in", airflow_home / "logs" / "components", "; Ctrl-C stops")
        while all(running.alive().values()):
            time.sleep(2)
        dead = [name for name, alive in running.alive().items() if not alive]
        raise NewsdeskError(f"{', '.join(dead)} exited; see {airflow_home / 'logs' / 'components'}")
    return 0


def _serve_demo(stack: contextlib.ExitStack, airflow_home: Path, articles: int) -> Path:
    """Serve the demo site for as long as the stack runs; its sources file, no delay (local)."""
    from pipeline.demo_site import DemoSite, serve_demo_site

    running = stack.enter_context(serve_demo_site(DemoSite(seed=7, n_articles=articles)))
    document = yaml.safe_load(running.sources_yaml())
    for source in document["sources"]:
        source["politeness"] = {"delay": 0, "concurrency": 8}
    path = airflow_home / "demo-sources.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    print(f"airflow: demo site served on {', '.join(sorted(running.bases.values()))}")
    return path
