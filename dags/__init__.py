"""Installed as the data-only package `pipeline.airflow.dags`: the DAGs folder newsdesk ships."""
