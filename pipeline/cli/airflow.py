"""`newsdesk airflow`: a real Airflow on this machine, with our DAGs, until Ctrl-C or SIGTERM.

Scheduler, DAG processor, API server (the UI) and triggerer, with the LocalExecutor; the
metadata database is an `airflow` database on newsdesk's own PostgreSQL (the embedded one unless
NEWSDESK_DATABASE_URL says otherwise). Without --sources, the demo site is served and crawled:
the same site as `newsdesk demo` (seed, ports, dates), since both store into one database.
With --broker the stack runs the CeleryExecutor, and `newsdesk airflow worker` starts its workers.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import signal
import socket
import time
from pathlib import Path

import yaml

from pipeline.cli.options import add_sources_option, article_count, http_url, whole_number
from pipeline.errors import NewsdeskError
from pipeline.sources.config import load_sources


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "airflow", help="run a local Airflow (scheduler, DAG processor, UI, triggerer) on our DAGs"
    )
    add_sources_option(parser, default="serve the demo site and crawl it")
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
    parser.add_argument(
        "--broker", metavar="URL",
        help="run the CeleryExecutor with this Redis broker (redis://HOST:6379/0): tasks then run "
        "on workers started with `newsdesk airflow worker` (default: the LocalExecutor)",
    )
    parser.set_defaults(handler=handle)
    workers = parser.add_subparsers(dest="airflow_command", metavar="{worker}")
    _register_worker(workers)


def handle(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("airflow") is None:
        raise NewsdeskError("Airflow is not installed: pip install 'newsdesk[airflow]'")
    from pipeline.airflow import local
    from pipeline.db import connect_migrated, database_url, redact
    from pipeline.db.embedded import home

    if args.sources:  # a bad file: one line now, not a stack of Airflow components failing later
        load_sources(args.sources)
    _stop_on_sigterm()
    news_dsn = database_url()
    connect_migrated(news_dsn).close()
    airflow_home = home() / "airflow"
    metadata = local.metadata_url(news_dsn)
    with contextlib.ExitStack() as stack:
        sources = Path(args.sources) if args.sources else None
        env = local.stack_env(
            airflow_home, metadata=metadata, news_dsn=news_dsn, port=args.port, sources=sources,
            extra=_executor_env(args.broker),
        )
        local.check_ports(env)
        if sources is None:
            env["NEWSDESK_SOURCES"] = str(_serve_demo(stack, airflow_home, args.articles))
        print(f"airflow: home {airflow_home}, metadata {redact(metadata)}")
        print("airflow: migrating the metadata database and creating the crawl pool...")
        local.prepare(env, crawl_slots=args.crawl_slots)
        running = local.start(env, airflow_home / "logs" / "components")
        stack.callback(running.stop)
        local.wait_for_api(args.port, stack=running)
        passwords = airflow_home / "simple_auth_manager_passwords.json.generated"
        print(f"airflow: UI on http://127.0.0.1:{args.port}/ (user admin, password in {passwords})")
        print(f"airflow: sources {env['NEWSDESK_SOURCES']}; DAGs news_daily and news_maintenance"
              " (paused).")
        print(f"airflow: try  {unpause_hint(airflow_home)}")
        print("airflow: component logs in", airflow_home / "logs" / "components",
              "; Ctrl-C (or SIGTERM) stops")
        if args.broker:
            print(f"airflow: CeleryExecutor: start workers with  "
                  f"{worker_hint(args.broker, env['NEWSDESK_SOURCES'])}")
        while all(running.alive().values()):
            time.sleep(2)
        dead = [name for name, alive in running.alive().items() if not alive]
        raise NewsdeskError("; ".join(f"{name} exited, see {running.logs[name]}" for name in dead))
    return 0


def unpause_hint(airflow_home: Path) -> str:
    """The command printed for the operator: plain `airflow` with only AIRFLOW_HOME set works,
    as `local.prepare` wrote the stack's settings into AIRFLOW_HOME/airflow.cfg."""
    return f"AIRFLOW_HOME={airflow_home} airflow dags unpause news_daily"


def worker_hint(broker: str, sources: str) -> str:
    """The worker command printed for the operator: the broker URL as the variable the worker
    reads (out of `ps`), its password hidden (the operator has it; the terminal may be logged)."""
    from pipeline.airflow.celery_workers import BROKER_VARIABLE
    from pipeline.db import redact

    return (f"{BROKER_VARIABLE}={redact(broker)} newsdesk airflow worker --sources {sources}"
            " [--queues default,eu]")


def _stop_on_sigterm() -> None:
    """SIGTERM (`kill PID`, a service manager) stops the stack as Ctrl-C does: the
    KeyboardInterrupt unwinds the ExitStack, which ends every component's process group. A
    second SIGTERM during that shutdown is ignored so the cleanup finishes."""

    def interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _serve_demo(stack: contextlib.ExitStack, airflow_home: Path, articles: int) -> Path:
    """Serve today's demo site, as `newsdesk demo` does, for as long as the stack runs; its
    sources file, no delay (local)."""
    from pipeline.cli.demo import DEMO_PORT, todays_demo_site
    from pipeline.demo_site import serve_demo_site

    site = todays_demo_site(articles=articles)
    running = stack.enter_context(serve_demo_site(site, base_port=DEMO_PORT))
    document = yaml.safe_load(running.sources_yaml())
    for source in document["sources"]:
        source["politeness"] = {"delay": 0, "concurrency": 8}
    path = airflow_home / "demo-sources.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    print(f"airflow: demo site served on {', '.join(sorted(running.bases.values()))}")
    return path


def _executor_env(broker: str | None) -> dict[str, str]:
    from pipeline.airflow.celery_workers import celery_env

    return celery_env(broker) if broker else {}


def _register_worker(subparsers: argparse._SubParsersAction) -> None:
    from pipeline.airflow.celery_workers import BROKER_VARIABLE

    parser = subparsers.add_parser(
        "worker", help="a Celery worker taking the tasks of some queues (CeleryExecutor)",
        description="One Celery worker on this host, until Ctrl-C, for a stack started with "
        "`newsdesk airflow --broker URL` (or any Airflow on the CeleryExecutor): the same "
        "newsdesk database (NEWSDESK_DATABASE_URL, else the embedded one) and the `airflow` "
        "metadata database beside it (or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN). Exported "
        "AIRFLOW__API__SECRET_KEY and AIRFLOW__API_AUTH__JWT_SECRET win over this host's own. "
        "docs/deploy.md, \"Scaling out\".",
    )
    add_sources_option(parser)
    parser.add_argument(
        "--queues", metavar="Q[,Q...]",
        help="take only the tasks of these queues (default: Airflow's `[operators] "
        "default_queue`, as the DAG's); a source's `queue:` in the sources file sends its crawl "
        "to one",
    )
    parser.add_argument(
        "--broker", metavar="URL",
        help=f"the stack's Redis broker (redis://HOST:6379/0; default: {BROKER_VARIABLE}, "
        "which keeps its password out of `ps`)",
    )
    parser.add_argument(
        "--api-server", type=http_url, default="http://127.0.0.1:8080", metavar="URL",
        help="the Airflow API server the tasks report to (default: http://127.0.0.1:8080)",
    )
    parser.add_argument(
        "--concurrency", type=whole_number(1), default=2, metavar="N",
        help="tasks at once (default: 2)",
    )
    parser.add_argument(
        "--log-port", type=whole_number(1, 65535), default=8793, metavar="PORT",
        help="where it serves its task logs to the UI (default: Airflow's 8793; two workers on "
        "one host need two)",
    )
    parser.add_argument(
        "--name",
        help="the name its tasks record as their host; the UI reads a running task's log from "
        "NAME:LOG-PORT (default: this host's name)",
    )
    parser.set_defaults(handler=handle_worker)


def handle_worker(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("airflow.providers.celery") is None:
        raise NewsdeskError("the Celery provider is not installed: pip install 'newsdesk[airflow]'")
    from pipeline.airflow import celery_workers, local
    from pipeline.db import database_url
    from pipeline.db.embedded import home

    if args.sources:  # a bad file: one line now, not a failed task on every run
        load_sources(args.sources)
    name = args.name or socket.getfqdn()
    queues = [q.strip() for q in (args.queues or "").split(",") if q.strip()]
    if args.queues is not None and not queues:
        raise NewsdeskError(f"--queues {args.queues!r}: name at least one queue")
    airflow_home = home() / "airflow"
    env = celery_workers.worker_env(
        airflow_home, news_dsn=database_url(), api=args.api_server.rstrip("/"),
        broker=args.broker, sources=Path(args.sources).resolve() if args.sources else None,
    )
    logs = airflow_home / "logs" / "components"
    running = local.Stack()
    # SIGTERM (a service manager's stop) ends the worker as Ctrl-C does, not just this process.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        celery_workers.start_worker(running, env, logs, name, queues,
                                    concurrency=args.concurrency, log_port=args.log_port)
        print(f"airflow worker {name}: queues {', '.join(queues) or 'Airflow default'}, "
              f"{args.concurrency} at "
              f"once; log {logs / f'celery-{name}.log'}; Ctrl-C stops")
        while all(running.alive().values()):
            time.sleep(2)
    finally:
        running.stop()
    raise NewsdeskError(f"the Celery worker exited; see {logs / f'celery-{name}.log'}")
