"""The shipping label: a 4 by 6 inch PDF with the carrier, the addresses and a Code128 barcode of
the tracking number, drawn with reportlab and stored under the state dir.

Text is drawn as text (a PDF reader, and the tests, can find the tracking number and the
names in it). Customers' names are not all Latin-1: the label uses the TTF of
`SHOPLAKE_LABEL_FONT_PATH` (Debian's DejaVu Sans by default, registered once per process) and
falls back to Helvetica, which prints other characters as boxes, only when that file is
missing. `invariant=1` makes the bytes depend on the content alone.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.graphics.barcode import code128
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 4 * inch, 6 * inch
MARGIN = 0.2 * inch
_FONT = "ShoplakeLabel"
_registered: dict[str, str] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class LabelData:
    carrier: str
    tracking_number: str
    shipment_id: str
    order_id: str
    sender: Sequence[str]
    recipient: Sequence[str]
    weight_g: int
    units: int


def _font(path: Path | None) -> str:
    """The font the labels are drawn in: the TTF at `path`, else Helvetica."""
    key = str(path)
    with _lock:
        if key not in _registered:
            if path is not None and path.is_file():
                pdfmetrics.registerFont(TTFont(_FONT, str(path)))
                _registered[key] = _FONT
            else:
                log.warning("label font %s not found: Helvetica (Latin-1 only) is used", path)
                _registered[key] = "Helvetica"
        return _registered[key]


def address_lines(address: dict[str, object]) -> list[str]:
    """An address as the lines a label prints (empty parts left out)."""
    city = " ".join(str(address.get(k) or "") for k in ("postal_code", "city")).strip()
    lines = [address.get("full_name"), address.get("line1"), address.get("line2"), city]
    lines.append(address.get("country"))
    return [str(line) for line in lines if line]


def render(data: LabelData, font_path: Path | None) -> bytes:
    """The label as PDF bytes."""
    font = _font(font_path)
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=(WIDTH, HEIGHT), pageCompression=1, invariant=1)
    page.setTitle(f"Shipping label {data.tracking_number}")
    y = HEIGHT - 0.5 * inch
    page.setFont(font, 22)
    page.drawString(MARGIN, y, data.carrier.upper())
    page.setFont(font, 9)
    page.drawRightString(WIDTH - MARGIN, y, f"{data.weight_g} g · {data.units} units")
    y -= 0.35 * inch
    page.drawString(MARGIN, y, "FROM")
    for line in data.sender:
        y -= 11
        page.drawString(MARGIN + 0.45 * inch, y, line)
    y -= 0.3 * inch
    page.line(MARGIN, y, WIDTH - MARGIN, y)
    y -= 0.3 * inch
    page.setFont(font, 9)
    page.drawString(MARGIN, y, "SHIP TO")
    page.setFont(font, 14)
    for line in data.recipient:
        y -= 17
        page.drawString(MARGIN + 0.1 * inch, y, line)
    barcode = code128.Code128(
        data.tracking_number,
        barWidth=0.0135 * inch,
        barHeight=1.1 * inch,
        humanReadable=False,
        quiet=True,
    )
    barcode.drawOn(page, (WIDTH - barcode.width) / 2, 1.2 * inch)
    page.setFont(font, 11)
    page.drawCentredString(WIDTH / 2, 0.9 * inch, f"TRACKING # {data.tracking_number}")
    page.setFont(font, 7)
    page.drawCentredString(
        WIDTH / 2, 0.5 * inch, f"order {data.order_id} · shipment {data.shipment_id}"
    )
    page.showPage()
    page.save()
    return buffer.getvalue()


def store(labels_dir: Path, shipment_id: str, pdf: bytes) -> Path:
    """Write the label where the API serves it from, atomically (a reader never sees half)."""
    labels_dir.mkdir(parents=True, exist_ok=True)
    path = labels_dir / f"{shipment_id}.pdf"
    partial = path.with_suffix(f".pdf.{os.getpid()}.{threading.get_ident()}.tmp")
    partial.write_bytes(pdf)
    partial.replace(path)
    return path
