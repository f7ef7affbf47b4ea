"""The dashboards in a real browser: the Streamlit server as `shoplake dashboards` runs it,
headless Chromium (Debian's, driven by Playwright) loads every page, and each screenshot is
checked for being neither blank nor a skeleton, with its charts drawn."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, sync_playwright

from shoplake.config import Settings
from shoplake.stack.dashboards import streamlit_command, streamlit_env
from shoplake.stack.process import free_port
from tests.support.gold import write_gold_tables

CHROMIUM = "/usr/bin/chromium"
CHART = '[data-testid="stVegaLiteChart"]'
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
]
PAGES = ["sales", "funnel", "customers", "inventory", "search", "data_health"]


@pytest.fixture(scope="module")
def dashboards(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    lake = tmp_path_factory.mktemp("lake")
    write_gold_tables(str(lake))
    local = settings.model_copy(
        update={"lake_root": lake, "gold_dir": tmp_path_factory.mktemp("gold")}
    )
    port = free_port()
    log = (tmp_path_factory.mktemp("logs") / "streamlit.log").open("wb")
    server = subprocess.Popen(
        streamlit_command(local, port), env=streamlit_env(local), stdout=log, stderr=log
    )
    url = f"http://{settings.bind_host}:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the dashboards did not start: see {log.name}")
        time.sleep(0.3)
    yield url
    server.terminate()
    server.wait(10)
    log.close()


def _settled(page: Page) -> None:
    """Wait until the page's script finished and its charts were drawn (a websocket round trip
    after the page loads: an open page is not a rendered one)."""
    page.wait_for_selector(f"{CHART} canvas, {CHART} svg", state="visible", timeout=90_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=90_000)
    page.wait_for_function(
        "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
    )


def _colours(path: Path, box: tuple[float, float, float, float] | None = None) -> tuple[int, float]:
    """Distinct colours and the share of non-white pixels (of the whole shot, or a box)."""
    with Image.open(path) as shot:
        image = shot.convert("RGB")
        if box is not None:
            x, y, width, height = box
            image = image.crop((int(x), int(y), int(x + width), int(y + height)))
        counts = image.getcolors(maxcolors=1 << 24) or []
    pixels = sum(n for n, _ in counts)
    coloured = sum(n for n, rgb in counts if isinstance(rgb, tuple) and sum(rgb) < 735)
    return len(counts), coloured / max(pixels, 1)


def test_every_page_renders_charts_in_chromium(dashboards: str, tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `make setup`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            outside: list[str] = []
            page.on(
                "request",
                lambda r: None if r.url.startswith(dashboards) else outside.append(r.url),
            )
            for name in PAGES:
                page.goto(f"{dashboards}/{name}", wait_until="domcontentloaded")
                _settled(page)
                shot = tmp_path / f"{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                colours, coloured = _colours(shot)
                # A blank page has one colour, Streamlit's grey skeleton about ten.
                assert colours > 50 and coloured > 0.01, (name, colours, coloured)
                chart = page.locator(CHART).first.bounding_box()
                assert chart is not None, name
                page.screenshot(path=str(tmp_path / f"{name}-chart.png"), clip=chart)
                chart_colours, chart_coloured = _colours(tmp_path / f"{name}-chart.png")
                assert chart_colours > 20 and chart_coloured > 0.01, (name, chart_colours)
                assert not page.locator('[data-testid="stException"]').count(), name
        finally:
            browser.close()
    # Usage statistics are off: the page asked nothing of any other host.
    assert outside == [], outside[:5]
