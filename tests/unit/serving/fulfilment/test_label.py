"""The shipping label PDF: 4 by 6 inches, the tracking number and the addresses as text (in a
Unicode font, so no name prints as boxes), a Code128 barcode, and the same bytes for the same
label."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf

from serving.fulfilment.label import LabelData, address_lines, render, store
from shoplake.config import Settings

DATA = LabelData(
    carrier="sandbox",
    tracking_number="SB000000164XX",
    shipment_id="s-1",
    order_id="o-1",
    sender=["shoplake fulfilment", "warehouse WH-1"],
    recipient=address_lines(
        {
            "full_name": "Łukasz Żółć",
            "line1": "ul. Długa 5",
            "line2": "",
            "postal_code": "00-238",
            "city": "Warszawa",
            "country": "PL",
        }
    ),
    weight_g=1200,
    units=3,
)


def _page(pdf: bytes) -> pypdf.PageObject:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0]


def test_the_label_is_a_4_by_6_pdf_with_its_text_and_barcode() -> None:
    pdf = render(DATA, Settings(_env_file=None).label_font_path)
    assert pdf.startswith(b"%PDF-")
    page = _page(pdf)
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (288.0, 432.0)
    text = page.extract_text()
    for expected in ("SANDBOX", "TRACKING # SB000000164XX", "Łukasz Żółć", "00-238 Warszawa"):
        assert expected in text
    # The barcode is drawn as filled bars: many rectangles in the page's content.
    assert page.get_contents().get_data().count(b" re") > 40  # type: ignore[union-attr]


def test_the_same_label_gives_the_same_bytes_and_is_stored_whole(tmp_path: Path) -> None:
    font = Settings(_env_file=None).label_font_path
    assert render(DATA, font) == render(DATA, font)
    path = store(tmp_path / "labels", "s-1", render(DATA, font))
    assert path == tmp_path / "labels" / "s-1.pdf" and path.read_bytes().startswith(b"%PDF-")
    assert list(path.parent.iterdir()) == [path]  # no partial file left behind


def test_without_the_font_file_the_label_still_renders(tmp_path: Path) -> None:
    pdf = render(DATA, tmp_path / "missing.ttf")
    assert "SB000000164XX" in _page(pdf).extract_text()


def test_an_address_prints_its_non_empty_parts() -> None:
    assert address_lines(
        {"full_name": "Ada", "line1": "1 Row", "city": "London", "country": "GB"}
    ) == [
        "Ada",
        "1 Row",
        "London",
        "GB",
    ]
