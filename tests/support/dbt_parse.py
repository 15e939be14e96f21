"""One dbt parse per test session, which every later dbt run starts from.

Each test builds a fresh warehouse, and dbt parses the whole project on its first run in
a new target folder (~6 s, more on a busy machine). Every dbt run the tests start reads
this parse instead (dbt's ``DBT_PARTIAL_PARSE_FILE_PATH``), as a warehouse's daily run
reads its own: dbt checks it the same way, so a changed file, var or profile is parsed
again. That works across warehouses because the product runs dbt in the warehouse's
folder with the file named relative to it (``transform/dbt.py``).

The xdist workers share it (``made_once`` in tests/support/once.py): the first to need it
parses, the others wait for its file. dbt only reads the file it is given; it writes its
own parse into the run's target folder.
"""

from __future__ import annotations

import os
from pathlib import Path

PARTIAL_PARSE_ENV = "DBT_PARTIAL_PARSE_FILE_PATH"


def parse_once(folder: Path) -> Path:
    """Parse the project for a warehouse in ``folder`` named as the product names it by
    default, with the product's default vars; return dbt's ``partial_parse.msgpack``."""
    from pr_warehouse.config import Settings, deploy_vars
    from pr_warehouse.transform.dbt import run_dbt, target_dir

    default_name = Settings.from_env({}).duckdb_path.name
    settings = Settings.from_env({**os.environ, "PR_WAREHOUSE_DUCKDB": str(folder / default_name)})
    run_dbt(settings, ["parse"], deploy_vars(settings))
    parsed = target_dir(settings) / "partial_parse.msgpack"
    assert parsed.is_file(), f"dbt parse wrote no {parsed}"
    return parsed
