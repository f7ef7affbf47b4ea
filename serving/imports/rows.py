"""Reading an import file one row at a time: CSV (stdlib `csv`) or JSON Lines, each row with
the line of the file where it starts, validated by a pydantic model.

A CSV row is a header-keyed dict of strings; empty cells are left out (the model's default
applies), and the columns that hold lists or objects are decoded first: `category_path` as
slugs joined by '/', `image_urls` joined by '|', `attributes` as a JSON object. The line of a
row is where it starts, not the record number: a quoted cell may span lines. A UTF-8 BOM (as
Excel writes it) is skipped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from pydantic import BaseModel, ValidationError

from serving.imports.schemas import ImportFormat, RowError

# Decoders of CSV cells that are not plain scalars.
CELL_DECODERS: Mapping[str, Callable[[str], Any]] = {
    "category_path": lambda text: [part for part in text.split("/") if part],
    "image_urls": lambda text: [part for part in text.split("|") if part],
    "attributes": json.loads,
}


@dataclass(frozen=True)
class Row:
    line: int
    value: BaseModel | None  # None: the row is refused (see errors)
    errors: tuple[RowError, ...] = ()


def _cut(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:100]


def validation_errors(line: int, exc: ValidationError) -> tuple[RowError, ...]:
    return tuple(
        RowError(
            line=line,
            column=".".join(str(part) for part in error["loc"]) or None,
            reason=error["msg"],
            value=_cut(error.get("input")) if error["type"] != "missing" else None,
        )
        for error in exc.errors(include_url=False)
    )


class HeaderError(ValueError):
    """The file cannot be read as rows of this kind at all (the header is wrong)."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error.reason)
        self.error = error


def csv_rows(stream: IO[str], model: type[BaseModel]) -> Iterator[Row]:
    reader = csv.reader(stream, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise HeaderError(
            RowError(line=1, column=None, reason=f"unreadable header: {exc}")
        ) from exc
    known = set(model.model_fields)
    unknown = [name for name in header if name not in known]
    missing = [
        name
        for name, info in model.model_fields.items()
        if info.is_required() and name not in header
    ]
    if unknown or missing or len(set(header)) != len(header):
        reason = "; ".join(
            part
            for part in (
                f"unknown columns: {', '.join(unknown)}" if unknown else "",
                f"missing columns: {', '.join(missing)}" if missing else "",
                "a column is named twice" if len(set(header)) != len(header) else "",
            )
            if part
        )
        raise HeaderError(RowError(line=1, column=None, reason=reason))
    start = reader.line_num + 1
    while True:
        line = start
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a quote never closed: the rest cannot be trusted
            yield Row(line, None, (RowError(line=line, column=None, reason=f"unreadable: {exc}"),))
            return
        start = reader.line_num + 1
        if not cells or all(not cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            reason = f"expected {len(header)} fields, got {len(cells)}"
            yield Row(line, None, (RowError(line=line, column=None, reason=reason),))
            continue
        fields: dict[str, Any] = {}
        errors: list[RowError] = []
        for name, cell in zip(header, cells, strict=True):
            if cell == "":
                continue
            decode = CELL_DECODERS.get(name)
            if decode is None:
                fields[name] = cell
                continue
            try:
                fields[name] = decode(cell)
            except ValueError as exc:
                errors.append(RowError(line=line, column=name, reason=str(exc), value=_cut(cell)))
        yield _validated(model, line, fields, errors)


def jsonl_rows(stream: IO[str], model: type[BaseModel]) -> Iterator[Row]:
    for line, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            fields = json.loads(text)
        except ValueError as exc:
            yield Row(line, None, (RowError(line=line, column=None, reason=f"not JSON: {exc}"),))
            continue
        if not isinstance(fields, dict):
            reason = "a row must be a JSON object"
            yield Row(line, None, (RowError(line=line, column=None, reason=reason),))
            continue
        yield _validated(model, line, fields, [])


def _validated(
    model: type[BaseModel], line: int, fields: dict[str, Any], errors: list[RowError]
) -> Row:
    try:
        checked = model.model_validate(fields)
    except ValidationError as exc:
        return Row(line, None, (*errors, *validation_errors(line, exc)))
    if errors:
        return Row(line, None, tuple(errors))
    return Row(line, checked, ())


def read_rows(stream: IO[str], fmt: ImportFormat, model: type[BaseModel]) -> Iterator[Row]:
    return csv_rows(stream, model) if fmt is ImportFormat.CSV else jsonl_rows(stream, model)
