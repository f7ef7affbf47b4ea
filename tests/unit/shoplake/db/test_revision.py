"""`shoplake db revision` writes migrations in the house style: `000N_<slug>.py`, ruff-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from shoplake import db
from shoplake.config import Settings


def test_the_next_id_is_one_more_than_the_highest_with_a_slug(tmp_path: Path) -> None:
    for name in ("0001_baseline.py", "0002_serving_part_1.py", "0004_orders.py", "notes.txt"):
        (tmp_path / name).write_text("")
    assert db.next_revision_id("Product reviews!", tmp_path) == "0005_product_reviews"
    assert db.next_revision_id("???", tmp_path) == "0005_change"
    long = db.next_revision_id("a very long message " * 5, tmp_path)
    assert len(long) <= 32 and long.startswith("0005_a_very_long") and not long.endswith("_")


def test_a_new_revision_follows_the_chain_and_passes_ruff(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(db.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    newest = max(p.stem for p in (migrations / "versions").glob("0*.py"))

    path = db.revision(
        Settings(_env_file=None),
        "add product reviews",
        autogenerate=False,
        migrations_dir=migrations,
    )

    number = int(newest[:4]) + 1
    assert path.name == f"{number:04d}_add_product_reviews.py"
    text = path.read_text()
    assert f'revision: str = "{number:04d}_add_product_reviews"' in text
    assert f'down_revision: str | None = "{newest}"' in text
    ruff = Path(sys.executable).parent / "ruff"
    config = Path(__file__).resolve().parents[4] / "pyproject.toml"  # the house's rules
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [str(ruff), *args, "--config", str(config), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
