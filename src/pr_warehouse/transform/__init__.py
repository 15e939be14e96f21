"""Transform: run the dbt project, then publish a read-only snapshot for analysts."""
