# The project's Airflow image: the official 3.3.2 image plus the pinned lock.
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt
ENV PYTHONPATH=/opt/airflow/plugins \
    PR_WAREHOUSE_HOME=/opt/airflow/project \
    PR_WAREHOUSE_DBT_DIR=/opt/airflow/project/dbt \
    PR_WAREHOUSE_PROJECTS=/opt/airflow/project/projects.yaml \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false
