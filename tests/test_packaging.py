"""The product installs as a package without the emulator; settings are read in one place;
every distribution the code imports is declared; the image carries what the DAG reads."""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from functools import cache
from importlib.metadata import distribution, packages_distributions
from pathlib import Path, PurePosixPath

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
        value = {"PR_WAREHOUSE_MAX_EXTRACT_TASKS": "7", "PR_WAREHOUSE_EXTRACT_TASKS_TARGET": "9",
                 "PR_WAREHOUSE_DEPLOY_SOURCES": "x/y=release"}.get(var, "/x/y")
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
    marts = {path.stem for path in (ROOT / "dbt" / "models" / "marts").rglob("*.sql")}
    assert documented == marts


# --- every imported distribution is declared ------------------------------------------------

#: the code the image runs: the package, the DAG file, the UI plugin
PRODUCT_CODE = ("src/pr_warehouse", "dags", "plugins")
#: imported, yet deliberately not a dependency, and why
NOT_DEPENDENCIES = {
    # The `demo` command's emulator: this repository's sibling package (github_emulator/),
    # never published; cli.py imports it inside the command and says how to install it.
    # Declared on the index, the name could resolve to somebody else's package.
    "github-emulator",
}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared() -> dict[str, Requirement]:
    """``[project.dependencies]`` and every optional extra, by canonical name."""
    project = pyproject()["project"]
    lines = [*project["dependencies"],
             *(r for extra in project.get("optional-dependencies", {}).values() for r in extra)]
    return {canonicalize_name(r.name): r for r in map(Requirement, lines)}


def pinned_by_declared() -> set[str]:
    """Distributions a declared one requires at one exact version (``==``): an umbrella
    released in lock-step with them (apache-airflow: -core, -task-sdk) stands for them."""
    pinned = set()
    for name in declared():
        for line in distribution(name).requires or []:
            req = Requirement(line)
            if req.marker is None and any(s.operator == "==" for s in req.specifier):
                pinned.add(canonicalize_name(req.name))
    return pinned


def third_party_imports() -> dict[str, set[str]]:
    """``{dotted module: {files importing it}}``, absolute imports anywhere in a file
    (inside functions too: the tasks import their heavy dependencies late)."""
    found: dict[str, set[str]] = {}
    for folder in PRODUCT_CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top in ("__future__", "pr_warehouse"):
                        continue
                    found.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    return found


@cache
def _files_of(dist: str) -> frozenset[str]:
    return frozenset(str(f) for f in distribution(dist).files or ())


@cache
def _providers() -> dict[str, list[str]]:
    return packages_distributions()


def owning_distributions(module: str) -> set[str]:
    """The distributions that install ``module``: among those providing its top-level
    name, the ones holding its deepest package or file (``airflow.sdk`` belongs to
    apache-airflow-task-sdk, ``airflow.models`` to apache-airflow-core)."""
    candidates = _providers().get(module.split(".")[0], [])
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        base = "/".join(parts[:depth])
        owners = {canonicalize_name(d) for d in candidates
                  if {f"{base}.py", f"{base}/__init__.py"} & _files_of(d)}
        if owners:
            return owners
    return {canonicalize_name(d) for d in candidates}  # an extension module, a .pth, ...


def test_every_imported_distribution_is_declared() -> None:
    """A fresh `pip install pr-warehouse` must bring everything the code imports: relying
    on another dependency to pull a distribution in breaks the day it stops doing so."""
    covered = set(declared()) | pinned_by_declared() | NOT_DEPENDENCIES
    undeclared = {}
    for module, files in third_party_imports().items():
        owners = owning_distributions(module)
        assert owners, f"{module} (imported by {sorted(files)}) is not installed"
        if not owners & covered:
            undeclared[module] = (sorted(owners), sorted(files))
    assert undeclared == {}, f"declare in pyproject.toml [project.dependencies]: {undeclared}"


def test_the_umbrella_exception_covers_only_airflow() -> None:
    assert pinned_by_declared() == {"apache-airflow-core", "apache-airflow-task-sdk"}


def test_requirements_in_lists_and_the_lock_satisfies_every_declared_dependency() -> None:
    """requirements.in (what the lock is compiled from) names each dependency, and the lock
    pins a version each of pyproject's ranges accepts."""
    wanted = {canonicalize_name(Requirement(line).name)
              for line in (ROOT / "requirements.in").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    locked = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split("==", 1)
            locked[canonicalize_name(name.split("[")[0])] = version.split()[0]
    for name, req in declared().items():
        assert name in wanted, f"{name}: declared in pyproject.toml, not in requirements.in"
        assert name in locked, f"{name}: not in requirements.txt (re-lock)"
        assert req.specifier.contains(locked[name], prereleases=True), (name, locked[name])


def test_the_wheel_ships_every_module_and_data_file_of_the_package(
        wheel: zipfile.ZipFile) -> None:
    """Every file of src/pr_warehouse (GraphQL documents, the DDL, report templates, any
    added later) is in the wheel: package-data must keep up with the tree."""
    package = ROOT / "src"
    tree = {p.relative_to(package).as_posix() for p in (package / "pr_warehouse").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert tree - set(wheel.namelist()) == set()


# --- the image carries what the DAG reads -------------------------------------------------------


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    """One .dockerignore pattern (Go's filepath.Match plus ``**``) as a regex."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


@cache
def dockerignore() -> tuple[tuple[bool, re.Pattern[str], str], ...]:
    """``(excludes, regex, pattern)`` per line, in order."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).strip("/")
        rules.append((not negated, _ignore_regex(pattern), pattern))
    return tuple(rules)


def in_context(path: str) -> bool:
    """Whether ``path`` (relative, posix) is sent to the builder: the last pattern that
    matches it or one of its parent folders decides (moby's patternmatcher)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    included = True
    for excludes, regex, _ in dockerignore():
        if any(regex.fullmatch(p) for p in prefixes):
            included = not excludes
    return included


def build_context() -> set[str]:
    """Every file of the checkout the Docker build context holds."""
    negations = [p for excludes, _, p in dockerignore() if not excludes]
    found = set()
    for folder, dirs, files in os.walk(ROOT):
        rel = Path(folder).relative_to(ROOT).as_posix()
        rel = "" if rel == "." else rel + "/"
        # Skip folders that are out and that no exception could bring back (.venv, .git).
        dirs[:] = [d for d in dirs if in_context(rel + d)
                   or any(n.startswith(("*", rel + d)) for n in negations)]
        found |= {rel + f for f in files if in_context(rel + f)}
    return found


def _instructions(name: str) -> list[list[str]]:
    """The Dockerfile's ``name`` instructions as argument lists (continuations joined)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        words = line.strip().split(None, 1)
        if words and words[0].upper() == name and len(words) == 2:
            found.append(shlex.split(words[1]))
    return found


def image_files(context: set[str]) -> dict[str, str]:
    """``{path in the image: path in the context}`` of every file COPY puts there. A
    folder's contents land in the destination folder, as Docker does."""
    placed = {}
    for args in _instructions("COPY"):
        args = [a for a in args if not a.startswith("--")]
        *sources, dest = args
        into_folder = dest.endswith("/") or len(sources) > 1
        for source in sources:
            source = source.rstrip("/")
            assert source in context or any(f.startswith(source + "/") for f in context), (
                f"COPY {source}: not in the build context (.dockerignore)")
            if source in context:
                target = f"{dest.rstrip('/')}/{PurePosixPath(source).name}" if into_folder else dest
                placed[target] = source
            for f in context:
                if f.startswith(source + "/"):
                    placed[f"{dest.rstrip('/')}/{f[len(source) + 1:]}"] = f
    return placed


def image_env() -> dict[str, str]:
    env = {}
    for args in _instructions("ENV"):
        env.update(a.split("=", 1) for a in args)
    return env


def test_the_image_carries_the_dbt_project_and_the_presets_where_settings_look() -> None:
    """Without any bind mount, the image holds the dbt project at PR_WAREHOUSE_DBT_DIR,
    projects.yaml at PR_WAREHOUSE_PROJECTS, the DAG and the plugin in Airflow's folders."""
    context = build_context()
    placed = image_files(context)
    env = image_env()
    dbt_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "dbt").rglob("*")
                 if p.is_file() and not {"target", "logs", "dbt_packages"} & set(p.parts)}
    assert {"dbt/dbt_project.yml", "dbt/profiles.yml"} <= dbt_files
    assert dbt_files <= context
    dbt_dir = env["PR_WAREHOUSE_DBT_DIR"]
    for f in dbt_files:
        assert placed.get(f"{dbt_dir}/{f.removeprefix('dbt/')}") == f, f
    assert placed.get(env["PR_WAREHOUSE_PROJECTS"]) == "projects.yaml"
    assert Settings.from_env(env).dbt_dir == Path(dbt_dir)
    assert Settings.from_env(env).projects_file == Path(env["PR_WAREHOUSE_PROJECTS"])
    # Airflow's folders in the official image (AIRFLOW__CORE__DAGS_FOLDER, PLUGINS_FOLDER)
    for f in context:
        if f.startswith(("dags/", "plugins/")) and f.endswith(".py"):
            assert placed.get(f"/opt/airflow/{f}") == f, f
    assert "/opt/airflow/dags/github_pull_requests.py" in placed
    assert f"{env['PR_WAREHOUSE_HOME']}/pyproject.toml" in placed


def test_the_build_context_holds_nothing_but_the_product() -> None:
    context = build_context()
    assert not [f for f in context if f.startswith(("tests/", "github_emulator/", "bench/",
                                                    ".venv/", "data/", ".git/"))]
    assert not [f for f in context if "__pycache__" in f or f.endswith(".egg-info")]
    assert not in_context("dbt/target/manifest.json") and not in_context("dbt/logs/dbt.log")
    assert in_context("dbt/models/marts/fct_pull_requests.sql")


# --- the wheel, alone in a fresh environment ----------------------------------------------------


@pytest.mark.slow
def test_the_wheel_in_a_fresh_venv_imports_every_module_and_reads_its_data(
        wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    """The lock, then the wheel alone (no checkout on the path), as the image installs it:
    every module imports, and the files read at run time are there."""
    uv = Path(sys.executable).with_name("uv")
    if not uv.exists():
        pytest.skip(f"uv is not installed beside {sys.executable} (make venv installs it)")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Without the Makefile's UV_COMPILE_BYTECODE: precompiling every dependency (Airflow,
    # dbt) is ~20 core-s and no subject here; the imports below compile what they load.
    install_env = {k: v for k, v in os.environ.items() if k != "UV_COMPILE_BYTECODE"}
    for args in (["-r", str(ROOT / "requirements.txt")], ["--no-deps", wheel.filename]):
        done = subprocess.run([str(uv), "pip", "install", "--quiet", "--python", str(python),
                               *args], capture_output=True, text=True, env=install_env)
        assert done.returncode == 0, done.stderr
    check = r"""
import importlib, importlib.resources, pkgutil, sys
import pr_warehouse
assert pr_warehouse.__file__.startswith(sys.prefix), pr_warehouse.__file__
names = [m.name for m in pkgutil.walk_packages(pr_warehouse.__path__, "pr_warehouse.")]
for name in names:
    importlib.import_module(name)
from pr_warehouse.load.duckdb_loader import DDL_PATH
from pr_warehouse.queries import QUERY_DIR, load_query
assert "create" in DDL_PATH.read_text().lower()
queries = sorted(p.stem for p in QUERY_DIR.glob("*.graphql"))
for query in queries:
    load_query(query)
templates = importlib.resources.files("pr_warehouse.report") / "templates"
assert any(t.name.endswith(".html") for t in templates.iterdir())
print(len(names), "modules,", len(queries), "queries")
"""
    # A folder outside the checkout, and none of this interpreter's search-path variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow")
    done = subprocess.run([str(python), "-c", check], capture_output=True, text=True,
                          cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    modules = {p.relative_to(ROOT / "src").with_suffix("").as_posix().replace("/", ".")
               for p in (ROOT / "src" / "pr_warehouse").rglob("*.py")}
    assert done.stdout.startswith(f"{len(modules) - 1} modules"), done.stdout  # __init__
