# newsdesk on the official Airflow image: our wheel (package, migrations, default sources, DAGs),
# Airflow's own Python. Build: docker build -t newsdesk-airflow .   (docker-compose.yml builds it
# for every service)
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11

# The wheel, built from the sources alone: what `pip install newsdesk` would get.
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY crawlers ./crawlers
COPY pipeline ./pipeline
COPY sql ./sql
COPY dags ./dags
RUN pip install --no-cache-dir -c constraints.txt build \
    && python -m build --wheel --outdir /dist .

FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}
ARG AIRFLOW_VERSION

# The official image runs as the `airflow` user and installs into its own environment; we
# install the wheel with the project's pins, keeping the image's Airflow exactly as it is.
USER airflow
COPY --chown=airflow:root --from=build /dist /tmp/dist
COPY --chown=airflow:root constraints.txt /tmp/dist/
RUN grep -v '^apache-airflow' /tmp/dist/constraints.txt > /tmp/dist/newsdesk-constraints.txt \
    && wheel="$(echo /tmp/dist/newsdesk-*.whl)" \
    && pip install --no-cache-dir -c /tmp/dist/newsdesk-constraints.txt \
       "apache-airflow==${AIRFLOW_VERSION}" "${wheel}[airflow]" \
    && pip check \
    && rm -rf /tmp/dist

# Airflow's DAGs folder is the one the package ships, so every container of the image (and any
# worker that installs the same wheel) loads the same DAGs.
RUN rm -rf /opt/airflow/dags \
    && ln -s "$(python -c 'from pipeline.airflow.local import dags_folder; print(dags_folder())')" \
       /opt/airflow/dags
