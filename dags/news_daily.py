"""
### news_daily: crawl every active source, extract, summarise

One run a day, for a one-day data interval (the logical date is the day's start; the run starts
when the day is over). Tasks:

1. **sync_sources**: validate the sources file, upsert it into `sources`, deactivate the sources
   no longer in it (once for the run); returns the names to crawl by queue (all active ones, or
   the `sources` param). A config error (a bad file, an unknown name) fails it at once, unretried.
2. **crawl** (and **crawl_QUEUE** for each `queue:` the sources file names, fixed when this file
   is parsed): one mapped task per source, named after it, in the `newsdesk_crawl` pool (its
   slots cap concurrent crawls), each fed by its queue's **batches** task. Past Airflow's
   `[core] max_map_length` a task crawls a batch of sources (named `first..last (n)`); a retry
   skips the batch's sources that already succeeded. Each runs `python -m crawlers --source NAME
   --no-sync` (the sync is done) as a subprocess, stopped with its task (a timeout too), retries
   with exponential backoff, and fails alone: the other sources carry on.
3. **process**: extracts every pending page of those sources into `articles`, deduplicating
   each batch as it loads it (runs even when some crawls failed, so their pages are not lost);
   its progress reaches the task log line by line as it goes.
4. **dedupe**: groups into stories any article still without one (a catch-up; usually quick).
5. **summary**: writes the day's HTML report (`$NEWSDESK_REPORT_DIR`, else
   `$NEWSDESK_HOME/reports`, path in the log), sends a source-health alert for each source that is
   breaking (yield collapse, vanishing fields, rising errors, gone quiet), logs the run's
   per-source statistics from `crawl_runs`, and fails the run, after everything else has
   finished, when the sync, any source (named), processing or dedupe failed (the rules are
   `pipeline.airflow.summary.run_outcome`). On success it updates the `newsdesk_articles` asset,
   so downstream DAGs can be scheduled on fresh articles.

Idempotent by logical date: `crawl_runs` rows are keyed by (source, logical date), reruns and
backfills upsert them, and pages and articles are upserts. The database is the Airflow
connection `newsdesk_db` (`AIRFLOW_CONN_NEWSDESK_DB`), else `NEWSDESK_DATABASE_URL`. The sources
file is the `sources_file` param, else the `newsdesk_sources` Variable, else `NEWSDESK_SOURCES`.
The queues and the names the `sources` param accepts are read from `NEWSDESK_SOURCES` (else the
packaged file) each time this file is parsed, so a source added to it becomes triggerable at the
next parse.

Schedule, time zone, pool, retries and timeout come from `NEWSDESK_SCHEDULE` (cron, default
`0 0 * * *`), `NEWSDESK_TIMEZONE` (`UTC`), `NEWSDESK_CRAWL_POOL`, `NEWSDESK_CRAWL_RETRIES` (2),
`NEWSDESK_RETRY_DELAY` (seconds before the first retry, 300) and `NEWSDESK_CRAWL_TIMEOUT`
(minutes, 60).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import (
    Asset,
    CronDataIntervalTimetable,
    Param,
    TriggerRule,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.configuration import conf

from pipeline.airflow.layout import read_layout
from pipeline.airflow.notifier import NewsdeskAlertNotifier

SCHEDULE = os.environ.get("NEWSDESK_SCHEDULE", "0 0 * * *")
TIMEZONE = os.environ.get("NEWSDESK_TIMEZONE", "UTC")
CRAWL_POOL = os.environ.get("NEWSDESK_CRAWL_POOL", "newsdesk_crawl")
CRAWL_RETRIES = int(os.environ.get("NEWSDESK_CRAWL_RETRIES", "2"))
RETRY_DELAY = timedelta(seconds=float(os.environ.get("NEWSDESK_RETRY_DELAY", "300")))
CRAWL_TIMEOUT = timedelta(minutes=float(os.environ.get("NEWSDESK_CRAWL_TIMEOUT", "60")))

#: The crawl queues and source names of the sources file, read at every parse (cheaply).
LAYOUT = read_layout(conf.get("operators", "default_queue"))

#: The articles table; updated by every successful run.
ARTICLES = Asset(name="newsdesk_articles", uri="x-newsdesk://newsdesk_db/public/articles")


@dag(
    dag_id="news_daily",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone=TIMEZONE),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["newsdesk"],
    default_args={
        "owner": "newsdesk",
        "retries": 1,
        "retry_delay": RETRY_DELAY,
        "execution_timeout": timedelta(hours=2),
    },
    params={
        "sources": Param(
            [], type="array", items=LAYOUT.source_name_schema(), uniqueItems=True, title="Sources",
            description="Crawl only these (default: every active source).",
        ),
        "limit": Param(
            None, type=["null", "integer"], minimum=1, title="Article limit",
            description="Fetch at most this many article pages per source.",
        ),
        "dry_run": Param(
            False, type="boolean", title="Dry run",
            description="Check the sources file and the database, crawl and store nothing.",
        ),
        "sources_file": Param(
            None, type=["null", "string"], minLength=1, title="Sources file",
            description="A sources YAML file or folder (default: Variable newsdesk_sources, "
            "then NEWSDESK_SOURCES, then the sources.yaml shipped in the package).",
        ),
    },
    on_failure_callback=NewsdeskAlertNotifier(),
)
def news_daily():
    @task(multiple_outputs=False)
    def sync_sources(params: dict | None = None) -> dict[str, list[str]]:
        from pipeline.airflow import settings
        from pipeline.airflow.daily import sync_and_select

        with settings.failing_at_once_on_config_errors():
            return sync_and_select(
                settings.sources_path(params["sources_file"]),
                only=params["sources"],
                queues=LAYOUT.queues,
                database_url=settings.database_url(),
                dry_run=params["dry_run"],
            )

    @task(multiple_outputs=False)
    def batches(selected: dict[str, list[str]], queue: str) -> list[list[str]]:
        from airflow.sdk.configuration import conf

        from pipeline.airflow.daily import split_into_batches

        return split_into_batches(selected[queue], conf.getint("core", "max_map_length"))

    @task(
        pool=CRAWL_POOL,
        retries=CRAWL_RETRIES,
        retry_exponential_backoff=True,
        max_retry_delay=timedelta(hours=1),
        execution_timeout=CRAWL_TIMEOUT,
        map_index_template="{{ source_name }}",
        multiple_outputs=False,
    )
    def crawl(sources: list[str], params: dict | None = None) -> list[dict]:
        from pipeline.airflow import settings
        from pipeline.airflow.daily import batch_label, crawl_sources

        context = get_current_context()
        context["source_name"] = batch_label(sources)  # names the mapped task in the UI
        settings.skip_if_dry_run(params, f"would crawl {', '.join(sources)}")
        reports = crawl_sources(
            sources,
            settings.run_key(context),
            retry=settings.is_retry(context["ti"]),
            sources_path=settings.sources_path(params["sources_file"]),
            limit=params["limit"],
            database_url=settings.database_url(),
        )
        keep = ("source", "status", "pages_fetched", "pages_failed")
        return [{k: report[k] for k in keep} for report in reports]

    @task(trigger_rule=TriggerRule.ALL_DONE, multiple_outputs=False)
    def process(selected: dict[str, list[str]] | None, params: dict | None = None) -> dict:
        from pipeline.airflow import settings
        from pipeline.airflow.daily import process_sources

        settings.skip_if_dry_run(params, "nothing to process")
        return process_sources(
            [name for names in (selected or {}).values() for name in names],
            sources_path=settings.sources_path(params["sources_file"]),
            database_url=settings.database_url(),
        )

    @task(trigger_rule=TriggerRule.ALL_DONE, multiple_outputs=False)
    def dedupe(params: dict | None = None) -> dict:
        from pipeline.airflow import settings
        from pipeline.airflow.daily import dedupe_pending_articles

        settings.skip_if_dry_run(params, "nothing to deduplicate")
        return dedupe_pending_articles(database_url=settings.database_url())

    @task(trigger_rule=TriggerRule.ALL_DONE, outlets=[ARTICLES], multiple_outputs=False)
    def summary(
        selected: dict[str, list[str]] | None,
        processed: dict | None,
        deduped: dict | None,
        params: dict | None = None,
    ):
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.airflow import settings
        from pipeline.airflow.summary import RunFailed, summarise_run

        names = None if selected is None else [n for ns in selected.values() for n in ns]
        settings.skip_if_dry_run(params, f"the run would crawl {names}")
        context = get_current_context()
        notifier = NewsdeskAlertNotifier()
        try:
            return summarise_run(
                settings.run_key(context), names, processed, deduped,
                alert=lambda line: notifier.send(f"newsdesk: source health: {line}", context),
                database_url=settings.database_url(),
            )
        except RunFailed as exc:
            raise AirflowFailException(str(exc)) from None

    selected = sync_sources()
    processed = process(selected)
    for queue in LAYOUT.queues:  # one mapped crawl task per queue: a mapped task has one queue
        picked = batches.override(task_id=LAYOUT.batches_task_id(queue))(selected, queue)
        crawl.override(task_id=LAYOUT.crawl_task_id(queue), queue=queue).expand(
            sources=picked) >> processed
    deduped = dedupe()
    processed >> deduped
    summary(selected, processed, deduped)


news_daily()
