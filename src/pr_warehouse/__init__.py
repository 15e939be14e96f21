"""pr_warehouse: a GitHub pull-request warehouse on Airflow, DuckDB and dbt.

The sub-packages follow the data flow, one step each:

- ``queries``: the GraphQL documents we send (``.graphql`` files), apart from transport;
- ``client``: the HTTP transport that survives GitHub (retries, limits, adaptive pages);
- ``extract``: pages the API per repository and writes every response, untouched;
- ``storage``: where raw pages live (``ObjectStoragePath``: ``file://`` or ``s3://``);
- ``load``: raw pages into DuckDB, idempotently;
- ``transform``: runs the dbt project in ``dbt/``.

``emulator`` is a local HTTP server that plays GitHub for tests and the demo.
"""
