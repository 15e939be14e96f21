"""pr_warehouse: a GitHub pull-request warehouse on Airflow, DuckDB and dbt.

The sub-packages follow the data flow, one step each:

- ``queries``: the GraphQL documents we send (``.graphql`` files), apart from transport;
- ``client``: the HTTP transport that survives GitHub (retries, limits, adaptive pages);
- ``extract``: pages the API per repository and writes every response, untouched;
- ``storage``: where raw pages live (``ObjectStoragePath``: ``file://`` or ``s3://``);
- ``load``: raw pages into DuckDB, idempotently;
- ``transform``: runs the dbt project in ``dbt/``;
- ``publish``: the read-only snapshot readers open, and Postgres for BI tools;
- ``report``: the charts people look at (the Airflow UI page and each run's HTML report).

Beside them: ``constants`` (names and defaults shared by all), ``config`` (``Settings``:
every environment variable), ``options`` (``RunOptions``: the run's Params, decided once),
``pipeline`` (the DAG's task bodies) and ``cli`` (``pr-warehouse demo/run/sql/report/pool``).
The GitHub emulator the demo and the tests use is a separate package, ``github_emulator``.
"""
