"""The product installs as a package without the emulator; settings are read in one place."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from pr_warehouse.config import ENVIRONMENT, Settings


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """Built from a copy of what the Dockerfile copies (setuptools builds in-tree)."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(out), str(source)],
                   check=True, capture_output=True)
    (built,) = out.glob("pr_warehouse-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_ships_the_product_and_its_data_files(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    for needed in ("pr_warehouse/pipeline.py", "pr_warehouse/load/ddl.sql",
                   "pr_warehouse/queries/repository_pull_requests.graphql",
                   "pr_warehouse/publish/snapshot.py"):
        assert needed in names, needed


def test_the_wheel_ships_no_emulator_schema_or_tests(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert not [n for n in names if "emulator" in n or n.endswith("schema.graphql")
                or n.startswith(("tests/", "bench/"))]


def test_the_product_never_imports_the_emulator_at_module_level() -> None:
    """Only the demo command reaches for it, inside a function, with a clear error."""
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "src").rglob("*.py")
                 if re.search(r"^(from|import) github_emulator", path.read_text(), re.M)]
    assert offenders == []


def test_readme_configuration_table_lists_exactly_what_settings_reads() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, re.M))
    assert documented == set(ENVIRONMENT)


def test_settings_reads_every_listed_variable_and_nothing_else() -> None:
    """Each variable of ENVIRONMENT changes Settings; the code reads no other."""
    base = Settings.from_env({})
    for var in ENVIRONMENT:
        value = "7" if var == "PR_WAREHOUSE_MAX_EXTRACT_TASKS" else "/x/y"
        assert Settings.from_env({var: value}) != base, var
    # `{**os.environ, ...}` hands the environment on to a subprocess; it reads nothing.
    readers = {str(p.relative_to(ROOT)) for p in (ROOT / "src").rglob("*.py")
               if re.search(r"(?<!\*\*)os\.environ|os\.getenv", p.read_text())}
    assert readers == {"src/pr_warehouse/config.py"}


def test_no_path_tricks_in_product_tests_or_bench() -> None:
    hits = []
    for path in [*ROOT.glob("src/**/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/**/*.py"),
                 *ROOT.glob("dags/*.py"), ROOT / "Makefile", ROOT / "Dockerfile"]:
        text = path.read_text()
        if path == Path(__file__):
            continue
        if re.search(r"sys\.path\.(insert|append)|PYTHONPATH", text):
            hits.append(str(path.relative_to(ROOT)))
    assert hits == []


def test_readme_mart_dictionary_lists_exactly_the_marts_that_exist() -> None:
    """The analyst section's table names every model in dbt/models/marts, and no other."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## For analysts", 1)[1].split("\n## ", 1)[0]
    first_cells = re.findall(r"^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|", section, re.M)
    documented = {name for cell in first_cells for name in re.findall(r"`([a-z_]+)`", cell)}
    marts = {path.stem for path in (ROOT / "dbt" / "models" / "marts").glob("*.sql")}
    assert documented == marts
