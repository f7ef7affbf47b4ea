"""The Airflow 3 venv that `make setup` builds beside the main one (see ARCHITECTURE.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from shoplake.config import REPO_ROOT, Settings

AIRFLOW_BIN = REPO_ROOT / ".venv-airflow" / "bin"


def test_airflow_3_runs_and_imports_the_shared_kernel(tmp_path: Path) -> None:
    assert (AIRFLOW_BIN / "airflow").exists(), "no .venv-airflow: run `make setup`"
    version = subprocess.run(
        [str(AIRFLOW_BIN / "airflow"), "version"],
        capture_output=True,
        text=True,
        env={"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=True,
    ).stdout.strip()
    assert version.split(".")[0] == "3"

    probe = subprocess.run(
        [
            str(AIRFLOW_BIN / "python"),
            "-c",
            "import shoplake.config, pyspark; from airflow.sdk import dag, task; "
            "print(shoplake.config.Settings().kafka_bootstrap_servers, pyspark.__version__)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    bootstrap, spark_version = probe.stdout.split()
    assert bootstrap == Settings().kafka_bootstrap_servers
    assert spark_version.startswith("4.2")
