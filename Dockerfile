# newsdesk on the official Airflow image: our package and DAGs, Airflow's own Python.
# Build: docker build -t newsdesk-airflow .   (docker-compose.yml builds it for every service)
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

# The official image runs as the `airflow` user and installs into its own environment; we
# install newsdesk with the project's pins, keeping the image's Airflow exactly as it is.
USER airflow
WORKDIR /opt/newsdesk
COPY --chown=airflow:root pyproject.toml README.md constraints.txt ./
COPY --chown=airflow:root crawlers ./crawlers
COPY --chown=airflow:root pipeline ./pipeline
COPY --chown=airflow:root sql ./sql
COPY --chown=airflow:root sources.yaml scrapy.cfg ./
RUN grep -v '^apache-airflow' constraints.txt > /tmp/newsdesk-constraints.txt \
    && pip install --no-cache-dir -c /tmp/newsdesk-constraints.txt \
       "apache-airflow==${AIRFLOW_VERSION}" -e . \
    && pip check

# The DAGs are baked in too (compose also mounts ./dags over them for development).
COPY --chown=airflow:root dags /opt/airflow/dags
ENV NEWSDESK_SOURCES=/opt/newsdesk/sources.yaml \
    PYTHONPATH=/opt/newsdesk
