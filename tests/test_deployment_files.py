"""The deployment files parse and agree with the project's pins (Docker itself is not run here)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
                    "airflow-triggerer", "airflow-init"}


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==(\S+)", line.strip()):
            found[m.group(1).lower().replace("_", "-")] = m.group(3)
    return found


def test_the_compose_file_is_a_celery_deployment_in_the_official_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    services = compose["services"]
    assert AIRFLOW_SERVICES | {"postgres", "redis"} <= set(services)
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        assert env["AIRFLOW_CONN_AN_SF_STAGING"].startswith("postgres://") and "@postgres:5432/" in env[
            "AIRFLOW_CONN_AN_SF_STAGING"]
        assert env["AN_SF_SYNC_EMBEDDED_POSTGRES"] == "refuse"
        assert services[name]["build"]["dockerfile"] == "deploy/airflow.Dockerfile"
    assert services["airflow-worker"]["command"] == "celery worker"
    assert "airflow pools set actionnetwork_api 1" in "".join(services["airflow-init"]["command"])
    init_sql = services["postgres"]["volumes"][1].split(":")[0]
    assert "CREATE DATABASE an_sf_sync" in (ROOT / init_sql).read_text()
    mounted = {v.removeprefix("${AIRFLOW_PROJ_DIR:-.}/").split(":")[0] for v in services["airflow-scheduler"]["volumes"]}
    assert mounted == {"dags", "plugins", "logs"} and (ROOT / "dags").is_dir() and (ROOT / "plugins").is_dir()


def test_the_images_run_the_airflow_the_project_pins():
    airflow = pins(ROOT / "constraints.txt")["apache-airflow"]
    official = (ROOT / "deploy" / "airflow.Dockerfile").read_text()
    assert f"FROM apache/airflow:{airflow}-python3.11" in official
    astro = (ROOT / "Dockerfile").read_text()
    runtime = re.search(r"^FROM astrocrpublic\.azurecr\.io/runtime:(\d+)\.(\d+)-\d+$", astro, re.M)
    assert runtime and (runtime.group(1), runtime.group(2)) == tuple(airflow.split(".")[:2])
    assert (ROOT / "packages.txt").exists()
    # the images bring Airflow: requirements.txt must not try to install another one
    assert "apache-airflow" not in pins(ROOT / "requirements.txt")
    assert set(pins(ROOT / "requirements.txt")) <= set(pins(ROOT / "constraints.txt"))


@pytest.mark.slow
def test_the_image_requirements_resolve_to_the_pinned_set(tmp_path):
    """What the images' pip does, as a dry run: requirements.txt under constraints.txt, with their Airflow."""
    airflow = pins(ROOT / "constraints.txt")["apache-airflow"]
    report = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
         "-r", str(ROOT / "requirements.txt"), f"apache-airflow=={airflow}", "-c", str(ROOT / "constraints.txt")],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    resolved = {i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"]
                for i in json.loads(report.read_text())["install"]}
    constrained = pins(ROOT / "constraints.txt")
    assert {name: version for name, version in resolved.items() if constrained.get(name) != version} == {}
    assert "pgserver" not in resolved and {"apache-airflow-providers-celery", "redis"} <= set(resolved)
