"""Real-browser tests: Solara pages render offline from the CDN cache, in headless Chromium.

Each page is served by ``solara run`` (fixture ``solara_server``) whose CDN fallback points
at a closed local port, opened by Playwright, used like a person would, and checked for:
no CDN failures in the server log, no request to anything but this machine, no failed
request and no JavaScript error. Screenshots go to the test's tmp_path, or to
``$CLUSTER_ABM_SCREENSHOT_DIR`` when set.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PAGES = Path(__file__).resolve().parent / "pages"
# first render: the browser loads ~3 MB of front-end and the kernel renders the page
FIRST_RENDER_MS = 60_000
UPDATE_MS = 20_000
STEP_TEXT = re.compile(r"^Step: \d+$")  # SolaraViz's "Information" card


def _screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.mouse.move(0, 0)  # no hover highlight...
    page.wait_for_timeout(600)  # ...and no click ripple in the picture
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("CLUSTER_ABM_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / path.name)
    print(f"screenshot: {path}")
    return path


def _assert_offline_and_clean(server, page, record) -> None:
    record.settle(page)  # a CDN miss shows in the log only once the server gave up (~7 s)
    assert not server.cdn_failures(), "CDN failures in the server log:\n" + "\n".join(
        server.cdn_failures()
    )
    assert not record.foreign(), f"requests to non-local addresses: {record.foreign()}"
    assert record.requests, "the page made no request at all"
    assert any("/_solara/cdn/" in url for url in record.requests), "nothing from the CDN cache"
    assert not record.failed, f"failed requests: {record.failed}"
    assert not record.page_errors, f"JavaScript errors: {record.page_errors}"
    assert not record.console_errors, f"console errors: {record.console_errors}"
    assert "Traceback" not in server.log(), server.log_tail()


def test_hello_page_renders_and_reacts_offline(open_page, solara_server, tmp_path):
    from playwright.sync_api import expect

    server = solara_server(PAGES / "hello.py")
    page, record = open_page(server.url)

    button = page.get_by_role("button", name="Increment")
    button.wait_for(state="visible", timeout=FIRST_RENDER_MS)
    count = page.locator(".solara-markdown")
    expect(count).to_have_text("Count: 0", timeout=UPDATE_MS)

    button.click()
    expect(count).to_have_text("Count: 1", timeout=UPDATE_MS)
    button.click()
    expect(count).to_have_text("Count: 2", timeout=UPDATE_MS)

    shot = _screenshot(page, tmp_path, "hello")
    assert shot.stat().st_size > 1000
    _assert_offline_and_clean(server, page, record)


def _chart_sources(page) -> list[str]:
    """src of the matplotlib charts (PNG images) that Mesa's SolaraViz shows."""
    charts = page.locator(".vue-grid-item img.widget-image")
    return [charts.nth(i).get_attribute("src") or "" for i in range(charts.count())]


def _wait_for_charts(page, n: int) -> None:
    page.wait_for_function(
        """n => {
            const imgs = [...document.querySelectorAll('.vue-grid-item img.widget-image')];
            return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0);
        }""",
        arg=n,
        timeout=FIRST_RENDER_MS,
    )


def test_mesa_solaraviz_renders_offline_with_one_model_per_session(
    open_page, solara_server, tmp_path
):
    from playwright.sync_api import expect

    server = solara_server(PAGES / "mesa_viz.py")
    page, record = open_page(server.url)

    step_button = page.get_by_role("button", name="Step", exact=True)
    step_button.wait_for(state="visible", timeout=FIRST_RENDER_MS)
    steps = page.get_by_text(STEP_TEXT)
    expect(steps).to_have_text("Step: 0", timeout=UPDATE_MS)
    _wait_for_charts(page, 2)  # space (make_space_component) and plot (make_plot_component)
    before = _chart_sources(page)

    step_button.click()
    expect(steps).to_have_text("Step: 1", timeout=UPDATE_MS)
    step_button.click()
    expect(steps).to_have_text("Step: 2", timeout=UPDATE_MS)
    page.wait_for_function(
        """before => {
            const imgs = [...document.querySelectorAll('.vue-grid-item img.widget-image')];
            return imgs.length >= 2 && imgs.every((i, k) => i.src !== before[k] && i.naturalWidth > 0);
        }""",
        arg=before,
        timeout=UPDATE_MS,
    )
    _screenshot(page, tmp_path, "mesa_viz")

    # a second session (fresh browser context = new page load) gets its own model
    other, other_record = open_page(server.url)
    other.get_by_role("button", name="Step", exact=True).wait_for(timeout=FIRST_RENDER_MS)
    expect(other.get_by_text(STEP_TEXT)).to_have_text("Step: 0", timeout=UPDATE_MS)
    _wait_for_charts(other, 2)
    # ...and stepping there leaves the first session's model alone
    other.get_by_role("button", name="Step", exact=True).click()
    expect(other.get_by_text(STEP_TEXT)).to_have_text("Step: 1", timeout=UPDATE_MS)
    page.reload(wait_until="domcontentloaded")  # a reload is a new session too
    expect(page.get_by_text(STEP_TEXT)).to_have_text("Step: 0", timeout=FIRST_RENDER_MS)
    # Reset builds a new model from model_params, within this session
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.get_by_text(STEP_TEXT)).to_have_text("Step: 1", timeout=UPDATE_MS)
    page.get_by_role("button", name="Reset").click()
    expect(page.get_by_text(STEP_TEXT)).to_have_text("Step: 0", timeout=UPDATE_MS)
    _wait_for_charts(page, 2)
    expect(other.get_by_text(STEP_TEXT)).to_have_text("Step: 1")

    _assert_offline_and_clean(server, page, record)
    _assert_offline_and_clean(server, other, other_record)
