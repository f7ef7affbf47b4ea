"""What an import is asked to do and what it answers: a report of accepted and refused rows."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from serving.catalog.schemas import Sku
from serving.inventory.schemas import StockSet, WarehouseId


class ImportKind(StrEnum):
    PRODUCTS = "products"
    STOCK = "stock"


class ImportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class StockRow(StockSet):
    """A stock count of one SKU in one warehouse: PUT /v1/admin/inventory/{sku}/{warehouse}."""

    sku: Sku
    warehouse_id: WarehouseId


class RowError(BaseModel):
    line: int = Field(description="the line of the file where the row starts (1 = the header)")
    column: str | None = Field(description="the field at fault; none for the whole row")
    reason: str
    value: str | None = Field(None, description="the value refused (cut to 100 characters)")


class ImportReport(BaseModel):
    kind: ImportKind
    format: ImportFormat
    partial: bool = Field(description="true: the good rows were applied whatever the others")
    applied: bool = Field(description="whether anything was written")
    rows: int = Field(description="data rows read")
    accepted: int = Field(description="rows that passed (applied when `applied`)")
    refused: int
    errors: list[RowError] = Field(description="the first refused rows, in file order")
    errors_not_listed: int = Field(0, description="refused rows beyond the list")
    seconds: float
