"""Where the alert notifier finds its chat webhook: NEWSDESK_ALERT_WEBHOOK, else the password of
the `newsdesk_alert_webhook` Airflow Connection (here from Airflow's AIRFLOW_CONN_ variable, as
a secrets backend would give it)."""

from __future__ import annotations

import json

import pytest

URL = "https://hooks.example.invalid/services/T1/B2/s3cret"


def test_the_webhook_url_is_the_connection_password_unless_the_env_names_one(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # if airflow is not imported yet
    pytest.importorskip("airflow.sdk")
    from pipeline.airflow.notifier import WEBHOOK_ENV, webhook_setting

    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    assert webhook_setting() is None  # nothing configured: alerts are only logged

    monkeypatch.setenv(
        "AIRFLOW_CONN_NEWSDESK_ALERT_WEBHOOK", json.dumps({"conn_type": "http", "password": URL})
    )
    assert webhook_setting() == URL

    monkeypatch.setenv(WEBHOOK_ENV, "http://127.0.0.1:9/hook")
    assert webhook_setting() == "http://127.0.0.1:9/hook"


def test_an_unreadable_connection_or_the_old_variable_is_a_warning(monkeypatch, tmp_path, caplog):
    """Either way the alert goes only to the log: say why instead of dropping it silently."""
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # if airflow is not imported yet
    pytest.importorskip("airflow.sdk")
    from pipeline.airflow.notifier import WEBHOOK_ENV, webhook_setting

    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    monkeypatch.setenv("AIRFLOW_VAR_NEWSDESK_ALERT_WEBHOOK", URL)  # where issue 19 moved it from
    with caplog.at_level("WARNING", logger="pipeline.airflow.notifier"):
        assert webhook_setting() is None
    assert [r.getMessage() for r in caplog.records if r.name == "pipeline.airflow.notifier"] == [
        "alert webhook: the newsdesk_alert_webhook Variable is no longer read; the alert is only"
        " logged. Make the URL the password of the newsdesk_alert_webhook Connection"]

    caplog.clear()
    monkeypatch.delenv("AIRFLOW_VAR_NEWSDESK_ALERT_WEBHOOK")
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", "newsdesk_no_such_module.VaultBackend")
    with caplog.at_level("WARNING", logger="pipeline.airflow.notifier"):
        assert webhook_setting() is None
    (message,) = [r.getMessage() for r in caplog.records if r.name == "pipeline.airflow.notifier"]
    assert message.startswith("alert webhook: the newsdesk_alert_webhook Connection could not be"
                              " read, the alert is only logged: "), message
