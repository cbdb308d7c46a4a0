"""Failure alerts through Airflow's notifier mechanism: logged always, chat or e-mail when set.

`NewsdeskAlertNotifier` is given to a DAG's `on_failure_callback`. It always logs one alert line
(DAG, run, failed tasks, the error). When the NEWSDESK_ALERT_WEBHOOK environment variable or
the password of the `newsdesk_alert_webhook` Connection (a webhook URL is a secret: Airflow masks
a connection's password and can keep it in a secrets backend) holds a URL, it also POSTs
`{"text": ...}` there (Slack, Mattermost, Rocket.Chat and Teams incoming webhooks accept it). When
NEWSDESK_ALERT_EMAIL (or the `newsdesk_alert_email` Variable) names addresses, it sends the
alert through the SMTP provider's notifier (the `smtp_default` connection). A broken alert channel
is logged, never raised: an alert must not fail the run a second time.
"""

from __future__ import annotations

import html
import json
import logging
import os
import urllib.request
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

WEBHOOK_ENV = "NEWSDESK_ALERT_WEBHOOK"
WEBHOOK_CONNECTION = "newsdesk_alert_webhook"
EMAIL_ENV = "NEWSDESK_ALERT_EMAIL"


def alert_text(context: dict[str, Any]) -> str:
    """One line an on-call person can act on: which DAG run failed, where and why."""
    dag_run = context.get("dag_run")
    dag_id = getattr(dag_run, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    run_id = getattr(dag_run, "run_id", "?")
    ti = context.get("ti") or context.get("task_instance")
    where = f" task {ti.task_id}" if ti is not None and getattr(ti, "task_id", None) else ""
    if ti is not None and getattr(ti, "map_index", -1) not in (-1, None):
        where += f"[{getattr(ti, 'rendered_map_index', None) or ti.map_index}]"
    from pipeline.db import redact

    error = context.get("exception") or context.get("reason") or "see the task logs"
    return redact(f"newsdesk: DAG {dag_id} run {run_id} failed{where}: {error}".splitlines()[0])


class NewsdeskAlertNotifier(BaseNotifier):
    """Log the failure; also post it to a chat webhook and/or e-mail it when configured."""

    def __init__(self, webhook_url: str | None = None, email: str | None = None) -> None:
        super().__init__()
        self.webhook_url = webhook_url
        self.email = email

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render (no templated fields); a DAG-level callback gets a serialised DAG
        without a template environment on Airflow 3.3, which the base class would trip on."""

    def notify(self, context: dict[str, Any]) -> None:
        self.send(alert_text(context), context)

    def send(self, text: str, context: dict[str, Any]) -> None:
        """Log one alert line, and post or e-mail it where configured."""
        log.error("ALERT %s", text)
        webhook = self.webhook_url or webhook_setting()
        if webhook:
            try:
                post_webhook(webhook, text)
            except Exception as exc:
                log.error("alert webhook failed: %s", _redact(str(exc)))
        email = self.email or _setting("newsdesk_alert_email", EMAIL_ENV)
        if email:
            try:
                from airflow.providers.smtp.notifications.smtp import SmtpNotifier

                # The alert quotes error messages that pages and URLs can fill: escaped for the
                # HTML, and sent with notify(), not __call__, which would first render subject
                # and body as Jinja templates (`{{ conn.smtp_default.password }}` in a URL).
                SmtpNotifier(
                    to=email, subject=(text.splitlines() or [""])[0][:120],
                    html_content=f"<p>{html.escape(text)}</p>",
                ).notify(context)
            except Exception as exc:
                log.error("alert e-mail failed: %s", _redact(str(exc)))


def post_webhook(url: str, text: str, timeout: float = 10.0) -> None:
    """POST {"text": text} as JSON to a chat incoming webhook."""
    request = urllib.request.Request(
        url, data=json.dumps({"text": text}).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()


def webhook_setting() -> str | None:
    """The chat webhook URL: NEWSDESK_ALERT_WEBHOOK, else the `newsdesk_alert_webhook`
    Connection's password. A Connection that cannot be read (a broken secrets backend) is a
    warning, as is a URL left in the Variable of that name, which is no longer read: either
    way the alert would otherwise be dropped with no word."""
    if os.environ.get(WEBHOOK_ENV):
        return os.environ[WEBHOOK_ENV]
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(WEBHOOK_CONNECTION).password or None
    except AirflowNotFoundException:  # no webhook configured, the usual case
        if _setting(WEBHOOK_CONNECTION, WEBHOOK_ENV):
            log.warning(
                "alert webhook: the %s Variable is no longer read; the alert is only logged."
                " Make the URL the password of the %s Connection", WEBHOOK_CONNECTION,
                WEBHOOK_CONNECTION,
            )
        return None
    except Exception as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        log.warning("alert webhook: the %s Connection could not be read, the alert is only"
                    " logged: %s", WEBHOOK_CONNECTION, _redact(reason))
        return None


def _setting(variable: str, env: str) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    try:
        from airflow.sdk import Variable

        return Variable.get(variable, default=None)
    except Exception:  # outside a task (e.g. a DAG-processor callback without the API)
        return None


def _redact(text: str) -> str:
    from pipeline.db import redact

    return redact(text)
