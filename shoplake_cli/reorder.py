"""`shoplake forecast reorder`: the models' suggestions, counted against serving's open purchase
orders, and with `--draft-pos` turned into DRAFT purchase orders (`shoplake_cli/drafts.py`).

The command joins two sibling layers (models and serving), so it is built here, at the
composition root, and attached to the models' `forecast` group by `shoplake_cli/main.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shoplake.commands.common import console, fail
from shoplake.config import get_settings

if TYPE_CHECKING:
    from serving.catalog.schemas import ProductPublic
    from serving.unit_of_work import SqlUnitOfWork


def forecast_reorder(
    lake: Annotated[
        Path | None, typer.Option(help="read the lake here instead of SHOPLAKE_LAKE_ROOT")
    ] = None,
    draft_pos: Annotated[
        bool,
        typer.Option(
            "--draft-pos",
            help="also write one DRAFT purchase order per warehouse, from --supplier, "
            "for the SKUs that need reordering",
        ),
    ] = False,
    supplier: Annotated[
        str | None, typer.Option(help="with --draft-pos: the supplier's code or id")
    ] = None,
    ignore_open_orders: Annotated[
        bool,
        typer.Option(
            "--ignore-open-orders",
            help="do not count open purchase orders as inbound stock (reads the lake only)",
        ),
    ] = False,
) -> None:
    """Reorder suggestions into gold.reorder_suggestions, open purchase orders counted as
    inbound stock; with --draft-pos, the DRAFT purchase orders that cover them."""
    if draft_pos and supplier is None:
        raise fail("--draft-pos needs --supplier <code or id>", code=2)
    if supplier is not None and not draft_pos:
        raise fail("--supplier only goes with --draft-pos", code=2)
    if draft_pos and ignore_open_orders:
        raise fail(
            "--draft-pos reads the open purchase orders (a rerun must not draft the same "
            "units twice): drop --ignore-open-orders",
            code=2,
        )
    from models.commands import reorder

    settings = get_settings()
    if ignore_open_orders:
        reorder(settings, lake)
        return

    import redis
    import sqlalchemy.exc

    from serving.catalog import service as catalog
    from serving.errors import ApiError
    from serving.inbound import service as inbound
    from serving.unit_of_work import SqlUnitOfWork
    from shoplake.db import make_engine
    from shoplake_cli import drafts

    engine = make_engine(settings, pool_size=1)
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)

    def unit() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, redis_client=client, settings=settings)

    def products(skus: list[str]) -> dict[str, ProductPublic]:
        with engine.connect() as conn:
            return catalog.get_products(conn, client, settings, skus)

    try:
        drafter = None
        if draft_pos:
            assert supplier is not None
            try:
                found = inbound.find_supplier(unit(), supplier)
            except ApiError:
                raise fail(f"no supplier with code or id '{supplier}'", code=2) from None
            if not found.active:
                raise fail(f"supplier '{found.code}' is inactive", code=2)
            drafter = drafts.InboundDrafter(
                unit,
                found,
                products,
                today=lambda: datetime.now(UTC).date(),
                say=lambda message: console.print(message, highlight=False),
            )
        run = reorder(settings, lake, units_on_order=drafts.units_on_order(unit), draft=drafter)
    except (sqlalchemy.exc.OperationalError, redis.ConnectionError) as exc:
        raise fail(
            f"the open purchase orders could not be read ({type(exc).__name__}): start the "
            "stack (`shoplake stack up`), or pass --ignore-open-orders to read the lake only"
        ) from None
    except ApiError as exc:  # the catalog changed under the run: a rerun drafts the rest once
        raise fail(f"a draft was refused: {exc.message}; rerun to draft the rest") from None
    finally:
        client.close()
        engine.dispose()
    if draft_pos:
        console.print(f"{len(run.drafts)} draft purchase orders written", highlight=False)
