"""Bulk import throughput and memory: products and stock, CSV and JSON Lines, through the API's
own rules (catalog and inventory services), on a scratch database of the stack's Postgres.

    .venv/bin/python -m benchmarks.imports --rows 100000

Products (CSV and JSON Lines) and stock (CSV) at 10k rows, then products and stock CSV at
`--rows`; each file in a child process of its own, all or nothing, reporting rows/s and its
peak RSS: memory that does not grow with the file is what "one streaming pass" means (stock
rows count the first 10k CSV products in as many warehouses as the file needs). A last run
measures the refusal of a 10k file whose last row is bad (all applied, then rolled back).
Writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from benchmarks.harness import write_result
from shoplake import db
from shoplake.config import Settings, child_env, get_settings


def write_file(path: Path, kind: str, fmt: str, rows: int, bad_last: bool = False) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            out.write(
                "sku,name,brand,category_path,price_cents,attributes\n"
                if kind == "products"
                else "sku,warehouse_id,on_hand,note\n"
            )
        for n in range(rows):
            price = "12,50" if bad_last and n == rows - 1 else str(500 + n % 9_000)
            # Products of the CSV and the JSONL file are distinct (both runs create); stock rows
            # count the CSV file's products.
            sku = f"B{'J' if kind == 'products' and fmt == 'jsonl' else 'C'}-{n:07d}"
            if kind == "products" and fmt == "csv":
                out.write(f'{sku},Bench mug {n},Acme,kitchen/mugs,"{price}","{{""n"": {n}}}"\n')
            elif kind == "products":
                row = {
                    "sku": sku,
                    "name": f"Bench mug {n}",
                    "brand": "Acme",
                    "category_path": ["kitchen", "mugs"],
                    "price_cents": price if bad_last and n == rows - 1 else int(price),
                    "attributes": {"n": n},
                }
                out.write(json.dumps(row) + "\n")
            else:
                # Counts of the first 10k CSV products, in as many warehouses as it takes.
                out.write(f"BC-{n % 10_000:07d},WH-{n // 10_000},{n % 500},bench\n")


def child(kind: str, fmt: str, path: str) -> None:
    """Import one file in this process; print the figures as JSON."""
    import io

    import redis

    from serving.imports.schemas import ImportFormat, ImportKind
    from serving.imports.service import run_import
    from shoplake.db import make_engine

    settings = get_settings()
    engine = make_engine(settings, pool_size=2)
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
    began = time.perf_counter()
    cpu = time.process_time()
    with open(path, "rb") as raw:
        report = run_import(
            engine,
            client,
            settings,
            ImportKind(kind),
            ImportFormat(fmt),
            io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""),
        )
    seconds = time.perf_counter() - began
    figures = {
        "rows": report.rows,
        "accepted": report.accepted,
        "refused": report.refused,
        "applied": report.applied,
        "seconds": round(seconds, 2),
        "rows_per_s": round(report.rows / seconds),
        "rows_per_cpu_s": round(report.rows / max(time.process_time() - cpu, 1e-9)),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    client.close()
    engine.dispose()
    print(json.dumps(figures))


def _scratch(settings: Settings) -> tuple[Settings, str]:
    name = f"shoplake_bench_{uuid.uuid4().hex[:8]}"
    admin = db.make_engine(settings, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    admin.dispose()
    scratch = settings.model_copy(
        update={
            "database_url": SecretStr(settings.database_endpoint.rsplit("/", 1)[0] + f"/{name}"),
            # Gate keys and cache deletions of the scratch SKUs stay out of the stack's Redis 0.
            "redis_url": settings.redis_endpoint.rsplit("/", 1)[0] + "/15",
        }
    )
    db.upgrade(scratch)
    return scratch, name


# What a drop meets while an autovacuum worker (or a child's last connection) is still there.
_BUSY = (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse)


def _drop(settings: Settings, name: str, wait_s: float = 180.0) -> None:
    """Drop the scratch database, waiting out autovacuum: after a 100k-row import a worker of
    it is often busy in the database, and the app's role may not end it (only a superuser or
    pg_signal_autovacuum_worker may), so `with (force)` fails until the worker is done. A
    database still there after `wait_s` is named in a warning; the figures are kept."""
    admin = db.make_engine(settings, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'drop database if exists "{name}" with (force)'))
                return
            except DBAPIError as exc:
                if not isinstance(exc.orig, _BUSY):
                    raise
                if time.monotonic() > deadline:
                    print(f"warning: scratch database {name} not dropped: {exc.orig}", flush=True)
                    return
                time.sleep(2.0)
    finally:
        admin.dispose()


def _run_child(scratch: Settings, kind: str, fmt: str, path: Path) -> dict[str, Any]:
    """The import in a process of its own, so that its peak RSS is its own."""
    env = child_env(database_url=scratch.database_endpoint, redis_url=scratch.redis_endpoint)
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.imports", "--child", kind, fmt, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def run(rows: int, products_at_scale: bool = True) -> dict[str, Any]:
    settings = get_settings()
    scratch, name = _scratch(settings)
    results: dict[str, Any] = {}
    small = min(10_000, rows)
    plan = [
        ("products", "csv", small),
        ("products", "jsonl", small),
        ("stock", "csv", small),
        ("products", "csv", rows),
        ("stock", "csv", rows),
    ]
    try:
        with tempfile.TemporaryDirectory() as folder:
            steps = plan if rows > small else plan[:3]
            if not products_at_scale:
                steps = [step for step in steps if step != ("products", "csv", rows)]
            for kind, fmt, size in steps:
                path = Path(folder) / f"{kind}-{size}.{fmt}"
                write_file(path, kind, fmt, size)
                figures = _run_child(scratch, kind, fmt, path)
                figures["file_mib"] = round(path.stat().st_size / 2**20, 1)
                results[f"{kind}_{fmt}_{size}"] = figures
                print(kind, fmt, size, figures, flush=True)
            bad = Path(folder) / f"bad-{small}.csv"
            write_file(bad, "products", "csv", small, bad_last=True)
            results[f"refused_products_csv_{small}"] = _run_child(scratch, "products", "csv", bad)
    finally:
        _drop(settings, name)
    return {"rows": rows, "results": results}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--no-products-at-scale",
        action="store_true",
        help="skip the large products file (the slowest run)",
    )
    args = parser.parse_args()
    write_result("imports", run(args.rows, products_at_scale=not args.no_products_at_scale))


if __name__ == "__main__":
    main()
