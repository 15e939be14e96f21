# The project's Airflow image: the official 3.3.2 image, the pinned lock, the product
# package (src/pr_warehouse), and everything the DAG reads at run time: the DAG file, the
# UI plugin, the dbt project and the projects.yaml presets. It runs the pipeline with no
# bind mount; docker-compose.yaml mounts dags/, plugins/, dbt/ and projects.yaml over
# these copies for development only (edit without rebuilding). The GitHub emulator, tests
# and benchmarks are not shipped (.dockerignore keeps them out of the build context).
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt
# Owned by the airflow user (group 0, as the official image expects): setuptools builds in
# the source tree, and PR_WAREHOUSE_HOME/data (the default data folder) is created there.
COPY --chown=airflow:0 pyproject.toml README.md /opt/airflow/project/
COPY --chown=airflow:0 src /opt/airflow/project/src
# --no-deps: the lock above already installed every dependency at its pinned version.
RUN pip install --no-cache-dir --no-deps --no-build-isolation /opt/airflow/project
COPY --chown=airflow:0 dbt /opt/airflow/project/dbt
COPY --chown=airflow:0 projects.yaml /opt/airflow/project/projects.yaml
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
ENV PR_WAREHOUSE_HOME=/opt/airflow/project \
    PR_WAREHOUSE_DBT_DIR=/opt/airflow/project/dbt \
    PR_WAREHOUSE_PROJECTS=/opt/airflow/project/projects.yaml \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false
