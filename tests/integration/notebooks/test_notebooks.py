"""Both notebooks run end to end on a small simulated history (in memory: no .ipynb written)."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from shoplake.config import REPO_ROOT
from shoplake.stack import Stack
from tests.support.histories import LANDING_TIMEOUT, HistoryLake

pytestmark = LANDING_TIMEOUT


@pytest.mark.parametrize("name", ["recommendations", "forecasting"])
def test_the_notebook_runs(
    name: str,
    stack: Stack,
    history_lake: HistoryLake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The kernel inherits this process's environment, where an earlier test's library may
    # have chosen a headless matplotlib backend: a notebook shows its plots inline.
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    root = history_lake.root
    notebook = jupytext.read(REPO_ROOT / "notebooks" / f"{name}.py")
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source = parameters.source.replace('lake_root = ""', f"lake_root = {root!r}")
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    NotebookClient(
        notebook, km=kernel, timeout=600, resources={"metadata": {"path": str(REPO_ROOT)}}
    ).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") == "display_data" for o in outputs)  # the plot
