"""The house rules are enforced by a machine: `make lint` runs import-linter with the contracts
in pyproject.toml, and a planted violation of each kind makes it fail."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _root_packages() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages: list[str] = config["tool"]["importlinter"]["root_packages"]
    return packages


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, check=False
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of every root package and the configuration, to plant violations in."""
    for package in _root_packages():
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _broken_contracts(report: str) -> list[str]:
    """The names of the broken contracts (the report wraps long names over lines)."""
    summary = " ".join(report.split("dependencies.")[1].split("Contracts:")[0].split())
    summary = summary.lstrip("- ")
    return [
        match.group(1)
        for match in re.finditer(r"(.+?) (KEPT|BROKEN)(?: \(\d+ ignored imports?\))? ?", summary)
        if match.group(2) == "BROKEN"
    ]


def _plant(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}  # planted\n")


def test_the_code_as_it_stands_keeps_every_contract(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # The kernel imports nothing above it.
        ("shoplake.config", "import serving.errors", "Layers"),
        # Batch and streaming layers never reach into serving, nor into each other.
        ("spark_jobs.reconcile", "import serving.cart.store", "Only serving"),
        ("streaming.bronze", "import spark_jobs.reconcile", "Layers"),
        # Domains meet through services, never through another domain's store or tables.
        ("serving.wishlist.service", "import serving.catalog.store", "Domains meet"),
        ("serving.cart.service", "import serving.orders.tables", "Domains meet"),
        # A router does HTTP only.
        ("serving.catalog.router", "import sqlalchemy", "A router does HTTP only"),
    ],
)
def test_a_planted_violation_breaks_its_contract(
    tree: Path, module: str, line: str, broken: str
) -> None:
    _plant(tree, module, line)
    result = _lint(tree)
    assert result.returncode == 1, result.stdout
    assert any(name.startswith(broken) for name in _broken_contracts(result.stdout)), result.stdout
