# The project's Airflow image: the official 3.3.2 image, the pinned lock, then the product
# package itself (src/pr_warehouse). The GitHub emulator, tests and benchmarks are not
# shipped (.dockerignore keeps them out of the build context).
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt
COPY pyproject.toml README.md /opt/airflow/project/
COPY src /opt/airflow/project/src
# --no-deps: the lock above already installed every dependency at its pinned version.
RUN pip install --no-cache-dir --no-deps --no-build-isolation /opt/airflow/project
ENV PR_WAREHOUSE_HOME=/opt/airflow/project \
    PR_WAREHOUSE_DBT_DIR=/opt/airflow/project/dbt \
    PR_WAREHOUSE_PROJECTS=/opt/airflow/project/projects.yaml \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false
