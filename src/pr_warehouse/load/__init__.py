"""Load: raw pages from object storage into DuckDB, idempotently."""
