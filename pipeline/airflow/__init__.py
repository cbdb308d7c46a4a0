"""The Airflow side of newsdesk: settings read from Airflow, the alert notifier, the local stack.

Only the DAG files and `newsdesk airflow` import this package (Airflow is the optional
`airflow` extra); the work itself is in `daily`, `summary` and `maintenance` (with `child_process`
for child processes), which never import Airflow.
"""
