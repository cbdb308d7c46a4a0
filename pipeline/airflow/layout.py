"""What the news_daily DAG file reads when it is parsed: its sources' names and crawl queues.

A mapped task has one queue, so the DAG has one crawl task per queue, fixed when it is parsed;
and the `sources` param lists the known names, so Airflow refuses an unknown one when the run is
triggered. Both come from the sources file the DAG processor sees (`NEWSDESK_SOURCES`, else the
packaged one; never the Variable, which would be a database call on every parse), read without
validation. A broken file never breaks parsing: the DAG gets the default queue alone and no name
list, and the run's sync_sources reports the error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pipeline.sources.config import NAME_PATTERN, peek_queues

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DagLayout:
    """The crawl queues (Airflow's default one first) and the source names of a sources file."""

    default_queue: str
    queues: tuple[str, ...]
    names: tuple[str, ...]

    def crawl_task_id(self, queue: str) -> str:
        """`crawl` for the default queue, `crawl_<queue>` for the others."""
        return "crawl" if queue == self.default_queue else f"crawl_{queue}"

    def batches_task_id(self, queue: str) -> str:
        return "batches" if queue == self.default_queue else f"batches_{queue}"

    def source_name_schema(self) -> dict:
        """JSON schema of one name in the `sources` param: one of the file's names, when known."""
        return {"type": "string", "enum": list(self.names)} if self.names \
            else {"type": "string", "pattern": NAME_PATTERN}


def read_layout(default_queue: str, path: str | Path | None = None) -> DagLayout:
    """The layout of the sources file at `path` (default: NEWSDESK_SOURCES, else the packaged).

    Queues are sorted so the DAG's shape does not change with the order of the file.
    """
    try:
        peeked = peek_queues(path)
    except Exception as exc:  # whatever is wrong with it, the DAG must still parse
        log.warning("sources file unreadable at parse time (the run's sync will say why): %s", exc)
        return DagLayout(default_queue, (default_queue,), ())
    others = sorted({q for q in peeked.values() if q and q != default_queue})
    return DagLayout(default_queue, (default_queue, *others), tuple(sorted(peeked)))
