"""The warehouse docs are kept while the dbt project and vars they were made from are the
same, and made again when either changes (``generate_docs``; dbt itself replaced by a fake
that writes the page, as ``dbt docs generate --static`` does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pr_warehouse.config import Settings
from pr_warehouse.transform import dbt


def test_docs_of_the_same_project_are_kept_and_others_made_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env({"PR_WAREHOUSE_DUCKDB": str(tmp_path / "warehouse.duckdb"),
                                  "PR_WAREHOUSE_SNAPSHOT": str(tmp_path / "snapshot.duckdb")})
    runs: list[list[str]] = []

    def fake_dbt(settings: Settings, args: list[str], variables: Any = None) -> None:
        runs.append(args)
        page = dbt.target_dir(settings) / "static_index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"docs {len(runs)}")

    monkeypatch.setattr(dbt, "run_dbt", fake_dbt)
    first = dbt.generate_docs(settings, {"deploy_sources": {}})
    assert first is not None and first.read_text() == "docs 1"
    assert first.parent == tmp_path / "warehouse_docs"
    # The same project and vars: kept, dbt not run again.
    assert dbt.generate_docs(settings, {"deploy_sources": {}}) == first
    assert first.read_text() == "docs 1" and len(runs) == 1
    # Other vars: made again.
    assert dbt.generate_docs(settings, {"deploy_sources": {"a/b": "release"}}) == first
    assert first.read_text() == "docs 2" and runs == [dbt.docs_args()] * 2
