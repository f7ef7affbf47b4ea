"""The last successful build's manifest, kept so that the build after new data can leave out
what new data cannot change: seeds, views and unit tests whose definition is the same
(`dbt/selectors.yml`, selector `new_data`, with dbt's `--state`).

Leaving a view out is only right while the endpoint still has it: a fresh metastore (a new
server, a deleted `metastore_db`) forgets views, which, unlike the lake's tables, no registry
brings back. So the state is used only when every seed and view it names is there.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from shoplake.config import Settings
from spark_jobs.gold.dbt import GoldTarget, target_dir

NEW_DATA_SELECTOR = "new_data"

# The relations of one schema in the endpoint (tables and views): a function so that the rule
# is testable without a server.
ListRelations = Callable[[str], set[str]]


def state_dir(settings: Settings, target: GoldTarget) -> Path:
    return settings.gold_path / "dbt" / f"state-{target.label}"


def keep(settings: Settings, target: GoldTarget) -> None:
    """After a successful build of the whole project: its manifest is the state the next build
    compares against. Not after a selection: a view changed but left out of it was not built,
    and a state naming its new definition would keep it stale. Not after a failure either: the
    state stays the last build that succeeded, whose definitions are all in the endpoint."""
    manifest = target_dir(settings, target) / "manifest.json"
    if manifest.exists():
        kept = state_dir(settings, target)
        kept.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(manifest, kept / "manifest.json.tmp")
        (kept / "manifest.json.tmp").replace(kept / "manifest.json")  # never half a manifest


def relations_left_out(manifest: Mapping[str, Any]) -> dict[str, set[str]]:
    """Schema → names of the seeds and views a `new_data` build may leave out."""
    wanted: dict[str, set[str]] = {}
    for node in manifest.get("nodes", {}).values():
        kind = node.get("resource_type")
        materialized = node.get("config", {}).get("materialized")
        if kind == "seed" or (kind == "model" and materialized == "view"):
            name = node.get("alias") or node["name"]
            wanted.setdefault(str(node["schema"]).lower(), set()).add(str(name).lower())
    return wanted


def usable(manifest: Mapping[str, Any], relations: ListRelations) -> bool:
    """Whether every seed and view of the kept manifest still exists in the endpoint."""
    for schema, names in relations_left_out(manifest).items():
        if not names <= {n.lower() for n in relations(schema)}:
            return False
    return True


def new_data_args(
    settings: Settings, target: GoldTarget, relations: ListRelations
) -> list[str] | None:
    """`--selector new_data --state <dir>` when a kept state is usable, else None (build all)."""
    kept = state_dir(settings, target) / "manifest.json"
    if not kept.exists():
        return None
    try:
        manifest = json.loads(kept.read_text())
    except (OSError, ValueError):
        return None
    if not usable(manifest, relations):
        return None
    return ["--selector", NEW_DATA_SELECTOR, "--state", str(kept.parent)]


def endpoint_relations(settings: Settings) -> ListRelations:
    """`SHOW TABLES IN <schema>` on the endpoint (views included); a schema it does not know
    has no relations."""
    from pyhive.exc import Error

    from shoplake.sql_endpoint import query

    def names(schema: str) -> set[str]:
        try:
            return {str(row[1]) for row in query(settings, f"SHOW TABLES IN {schema}")}
        except Error:
            return set()

    return names
