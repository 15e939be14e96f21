"""Publishing the marts beyond the DuckDB snapshot: Postgres for BI tools (``postgres``)."""
