"""Real-browser tests of the workshop app (cluster_abm/ui/app.py) in headless Debian Chromium.

``solara run cluster_abm.ui.app`` is started offline (fixture ``solara_server``) and driven the
way a trainer would, on a 1600x1000 projector-like screen:

- the default ensemble (policy and baseline over 8 common seeds): switch levers on, step, and
  check that the charts draw the bands and the difference chart (pixels of the band colours in
  the chart image), that a tile whose interval spans zero stays neutral and says so while the
  levers' direct outcome turns green, and that the narrative and the lever strip tell what is on;
- presentation mode: every text node on the page at least 18 px (measured from the DOM), also
  with the lever panel open and a lever's tooltip showing;
- exports: the charts and the map (PNG), the data (CSV, read with pandas) and the set-up as a
  scenario file (``cluster-abm scenario check`` accepts it), downloaded by the browser;
- a lever switched on at year 5 while the runs go on: nothing changes before year 5 (in the
  downloaded data every series of the policy run equals the baseline's, seed by seed, up to the
  switch: the difference series is zero), the runs carry on from year 5 (no restart), and the
  marker is drawn on every chart at year 5 (pixels of the marker colour where an in-process
  chart puts year 5), named beneath the charts and told in the narrative;
- invalid input gets one line on screen; two tabs keep their own runs; every request stays on
  this machine; no JavaScript error, no traceback in the server log.

``test_restart.py`` checks that ``cluster-abm ui`` serves again within 5 s of a Ctrl-C with a tab
open. Screenshots go to the test's tmp_path, or to ``$CLUSTER_ABM_SCREENSHOT_DIR`` when set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cluster_abm.ui.controls import SCENARIOS_ENV

pytestmark = pytest.mark.browser

FIRST_RENDER_MS = 90_000
UPDATE_MS = 30_000
IMAGES = "img.cpl-map-img, img.cpl-charts-img"
SCREEN = {"width": 1600, "height": 1000}
NO_CHANCE = "not distinguishable from chance yet"
MIN_FONT_PX = 18.0

# every visible text node whose computed font size is below the minimum
SMALL_TEXT_JS = """min => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        const text = node.textContent.trim();
        const el = node.parentElement;
        if (!text || !el || ['STYLE', 'SCRIPT', 'TITLE', 'NOSCRIPT'].includes(el.tagName)) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        const box = range.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden' || parseFloat(style.opacity) === 0) continue;
        const px = parseFloat(style.fontSize);
        if (px < min) out.push(`${px}px <${el.tagName.toLowerCase()} class="${el.className}">: ${text.slice(0, 50)}`);
    }
    return out;
}"""
COUNTED_TEXT_JS = """() => {
    let n = 0;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) if (walker.currentNode.textContent.trim()) n++;
    return n;
}"""

# pixels of the chart image near a colour, in its top (levels) or bottom (effects) half
COLOUR_PIXELS_JS = """([sel, rgb, tol, half]) => {
    const img = document.querySelector(sel);
    if (!img || !img.complete || img.naturalWidth === 0) return null;  // being replaced
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const y0 = half === 'bottom' ? Math.floor(c.height / 2) : 0;
    const data = ctx.getImageData(0, y0, c.width, Math.floor(c.height / 2)).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - rgb[0]) <= tol && Math.abs(data[i + 1] - rgb[1]) <= tol
            && Math.abs(data[i + 2] - rgb[2]) <= tol) n++;
    }
    return n;
}"""


IMAGE_SIZE_JS = """([sel]) => {
    const img = document.querySelector(sel);
    if (!img || !img.complete || img.naturalWidth === 0) return null;  // being replaced
    return [img.naturalWidth, img.naturalHeight];
}"""


# per column of the chart image: pixels near a colour (the lever markers' vertical lines)
COLOUR_COLUMNS_JS = """([sel, rgb, tol]) => {
    const img = document.querySelector(sel);
    if (!img || !img.complete || img.naturalWidth === 0) return null;  // being replaced
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    const cols = new Array(c.width).fill(0);
    for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - rgb[0]) <= tol && Math.abs(data[i + 1] - rgb[1]) <= tol
            && Math.abs(data[i + 2] - rgb[2]) <= tol) cols[(i / 4) % c.width]++;
    }
    return cols;
}"""


def _read_image(page, js: str, args: list):
    """``js`` run on the chart image once one is loaded: the app replaces the image while a run
    goes on, and a replaced one has no pixels until it has loaded."""
    deadline = time.monotonic() + UPDATE_MS / 1000
    while (value := page.evaluate(js, args)) is None:
        assert time.monotonic() < deadline, f"no loaded chart image ({args[0]}) in {UPDATE_MS} ms"
        page.wait_for_timeout(100)
    return value


def _blend(hex_colour: str, alpha: float, under: list[float] | None = None) -> list[int]:
    """The colour at ``alpha`` over white, or over the colour ``under`` (a band over a band)."""
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    under = under or [255.0, 255.0, 255.0]
    return [round((1 - alpha) * u + alpha * c) for u, c in zip(under, rgb, strict=True)]


def _screenshot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.mouse.move(0, 0)
    page.wait_for_timeout(600)  # no hover highlight or click ripple in the picture
    page.screenshot(path=str(path))
    keep = os.environ.get("CLUSTER_ABM_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / path.name)
    print(f"screenshot: {path}")
    return path


def _sources(page) -> list[str]:
    imgs = page.locator(IMAGES)
    return [imgs.nth(i).get_attribute("src") or "" for i in range(imgs.count())]


def _wait_images(page, before: list[str] | None = None) -> list[str]:
    """Both pictures loaded (and, given ``before``, both different from it)."""
    page.wait_for_function(
        """([sel, before]) => {
            const imgs = [...document.querySelectorAll(sel)];
            return imgs.length === 2 && imgs.every((i, k) =>
                i.complete && i.naturalWidth > 0 && (before === null || i.src !== before[k]));
        }""",
        arg=[IMAGES, before],
        timeout=UPDATE_MS,
    )
    return _sources(page)


def _step_no(page) -> int:
    text = page.locator(".cpl-clock-step").inner_text()
    return int(re.match(r"step (\d+) /", text).group(1))


def _steps(page, n: int) -> None:
    step = page.get_by_role("button", name="Step", exact=True)
    for _ in range(n):
        target = _step_no(page) + 1
        step.click()
        page.wait_for_function(
            """n => {
                const el = document.querySelector('.cpl-clock-step');
                const m = el && el.textContent.match(/step (\\d+) \\//);
                return m && Number(m[1]) >= n;
            }""", arg=target, timeout=UPDATE_MS)


def _pick(page, locator, label: str) -> None:
    locator.click()
    page.locator(".v-menu__content.menuable__content__active .v-list-item",
                 has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).click()


def _lever_switch(page, name: str):
    return page.get_by_role("switch", name=name)


def _click_switch(switch, page, tries: int = 5) -> None:
    """Click a lever's switch. Its working group's panel opens with an animation, during which
    the switch can be outside the viewport for a moment (a flaky 'Element is outside of the
    viewport'); Playwright raises that before clicking, so trying again is safe."""
    from playwright.sync_api import Error

    for attempt in range(tries):
        try:
            switch.click(force=True)
            return
        except Error as err:
            if "outside of the viewport" not in str(err) or attempt == tries - 1:
                raise
            page.wait_for_timeout(250)


def _write_scenarios(folder: Path) -> None:
    folder.mkdir()
    (folder / "targeted.toml").write_text(
        'extends = "baseline"\ntitle = "Glocal support in North-East Romania"\n'
        '[levers.glocal_support]\nregions = ["north_east_romania"]\n'
    )
    (folder / "two_regions.toml").write_text(
        'extends = "baseline"\ntitle = "Veneto and Upper Austria only"\n'
        '[simulation]\nregions = ["veneto", "upper_austria"]\n'
    )


def _assert_clean(server, pages) -> None:
    for p, rec in pages:
        rec.settle(p)
        assert not rec.foreign(), f"requests to non-local addresses: {rec.foreign()}"
        assert not rec.failed, f"failed requests: {rec.failed}"
        assert not rec.page_errors, f"JavaScript errors: {rec.page_errors}"
        assert not rec.console_errors, f"console errors: {rec.console_errors}"
    assert not server.cdn_failures(), "\n".join(server.cdn_failures())
    assert "Traceback" not in server.log(), server.log_tail()


@pytest.fixture
def app_server(solara_server, tmp_path, monkeypatch):
    _write_scenarios(tmp_path / "workshop")
    monkeypatch.setenv(SCENARIOS_ENV, str(tmp_path / "workshop"))  # the server inherits it
    return solara_server("cluster_abm.ui.app")


def _open(open_page, server):
    page, record = open_page(server.url, **SCREEN)
    page.get_by_role("button", name="Step", exact=True).wait_for(state="visible",
                                                                  timeout=FIRST_RENDER_MS)
    page.locator("img.cpl-charts-img").wait_for(timeout=FIRST_RENDER_MS)
    return page, record


def test_ensemble_bands_effects_tiles_and_presentation(open_page, app_server, tmp_path):
    server = app_server
    page, record = _open(open_page, server)
    try:
        _drive_ensemble(page, tmp_path)
    except Exception:
        _screenshot(page, tmp_path, "app_failure")
        raise
    _assert_clean(server, [(page, record)])


def _drive_ensemble(page, tmp_path):
    from playwright.sync_api import expect

    from cluster_abm.ui.charts import BAND_ALPHA, RUN_COLOURS

    expect(page.locator(".cpl-clock-step")).to_have_text("step 0 / 80", timeout=UPDATE_MS)
    expect(page.locator(".cpl-strip-runs")).to_contain_text("policy and baseline, 8 seeds each")
    # no lever: every effect tile is neutral and says why
    expect(page.locator(".cpl-tile-chance")).to_have_count(4)
    # two levers from the catalogue, in their working group, each with a tooltip
    page.get_by_text("WG3 Cooperation and networking").click()
    _click_switch(_lever_switch(page, "Glocal cluster support"), page)
    expect(page.locator(".cpl-strip-lever")).to_have_count(1, timeout=UPDATE_MS)
    page.get_by_text("WG4 Financing").click()
    _click_switch(_lever_switch(page, "Business network contracts"), page)
    expect(page.locator(".cpl-strip-lever")).to_have_count(2, timeout=UPDATE_MS)
    expect(page.locator(".cpl-strip-lever").first).to_have_text("Glocal cluster support ×1")
    before = _wait_images(page)
    # Three years: since the 2026-12-06 recalibration the baseline world has about 830 model firms
    # at year 0 (not about 2,000), and after 6 steps the contracts lever's +6.5 firms in contracts
    # still had a 95 % interval reaching below zero.
    _steps(page, 12)
    _wait_images(page, before)

    # the charts: bands around policy and baseline (top), the effect and its band (bottom)
    charts = "img.cpl-charts-img"
    size = _read_image(page, IMAGE_SIZE_JS, [charts])
    assert size == [1000, 560], size  # two rows: levels and effects
    # the policy band lies over the baseline band (the runs differ little in level)
    both = _blend(RUN_COLOURS["policy"], BAND_ALPHA, _blend(RUN_COLOURS["reference"], BAND_ALPHA))
    effect = _blend(RUN_COLOURS["difference"], BAND_ALPHA)
    for what, rgb, half in (("policy and baseline bands", both, "top"),
                            ("policy line", _blend(RUN_COLOURS["policy"], 1.0), "top"),
                            ("effect band", effect, "bottom"),
                            ("effect line", _blend(RUN_COLOURS["difference"], 1.0), "bottom")):
        n = _read_image(page, COLOUR_PIXELS_JS, [charts, rgb, 12, half])
        assert n > 150, f"no {what} drawn in the {half} half ({n} pixels of {rgb})"
    expect(page.locator(".cpl-legend", has_text="effect = policy − baseline")).to_be_visible()
    expect(page.get_by_text("lines: mean of 8 seeds · shaded: 95 % interval")).to_be_visible()

    # tiles: the contracts lever's direct outcome is clearly up (green); jobs is not clear yet
    contracts = page.locator(".cpl-tile", has_text="Firms in contracts now")
    expect(contracts).to_have_class(re.compile(r"cpl-tone-good"))
    expect(contracts.locator(".cpl-tile-chance")).to_have_count(0)
    neutral = page.locator(".cpl-tile.cpl-tone-neutral")
    assert neutral.count() >= 1
    for k in range(neutral.count()):
        tile = neutral.nth(k)
        expect(tile.locator(".cpl-tile-chance")).to_have_text(NO_CHANCE)
        ci = tile.locator(".cpl-tile-ci").inner_text()
        lo, hi = (float(x.replace("±", "").replace("−", "-").replace("\u202f", ""))
                  for x in re.match(r"95 % interval (\S+) to (\S+)", ci).groups())
        assert lo <= 0 <= hi, ci  # neutral exactly while the interval spans zero
        colour = tile.locator(".cpl-tile-value").evaluate("e => getComputedStyle(e).color")
        assert colour == "rgb(51, 51, 51)", colour
    cost = page.locator(".cpl-tile", has_text="Public cost so far")  # real euros
    expect(cost).to_contain_text(re.compile(r"\d (k€|M€|bn €)"))
    expect(cost).to_contain_text("euros of the real regions")
    _screenshot(page, tmp_path, "app_1600x1000_panel")

    # fonts with the panel open and a lever's tooltip showing
    page.locator(".cpl-lever.cpl-on .cpl-info").first.hover()
    tip = page.locator(".v-tooltip__content.menuable__content__active")
    expect(tip).to_contain_text("What to expect", timeout=UPDATE_MS)
    expect(tip).to_contain_text("Seed section 3.3.3")
    small = page.evaluate(SMALL_TEXT_JS, MIN_FONT_PX)
    assert not small, "text below 18 px with the lever panel open:\n" + "\n".join(small)
    page.mouse.move(0, 0)

    # presentation mode: the pictures fill the screen, the lever strip stays, all text >= 18 px
    page.get_by_role("button", name="Present").click()
    expect(page.locator(".cpl-panel")).to_have_count(0, timeout=UPDATE_MS)
    expect(page.locator(".cpl-strip-lever")).to_have_count(2)
    _steps(page, 2)
    page.wait_for_timeout(500)
    small = page.evaluate(SMALL_TEXT_JS, MIN_FONT_PX)
    assert page.evaluate(COUNTED_TEXT_JS) > 50  # the measure saw the page
    assert not small, "text below 18 px in presentation mode:\n" + "\n".join(small)
    chart_box = page.locator(charts).bounding_box()
    map_box = page.locator("img.cpl-map-img").bounding_box()
    assert chart_box["width"] >= 950 and map_box["width"] >= 500, (chart_box, map_box)
    assert chart_box["y"] + chart_box["height"] <= SCREEN["height"], chart_box  # no scrolling
    ids = re.compile(r"\b[a-z]+_[a-z_]+\.[a-z_]+\b|\['|policy\.[a-z_]+|\(firms\) firms")
    body = page.locator("body").inner_text()
    assert not ids.search(body), ids.search(body).group(0)
    _screenshot(page, tmp_path, "app_1600x1000_present")


def test_exports_download_valid_files(open_page, app_server, tmp_path):
    import pandas as pd

    server = app_server
    page, record = _open(open_page, server)
    page.get_by_text("WG1 Innovation and R&D").click()
    _click_switch(_lever_switch(page, "Networked start-up incubators"), page)
    page.locator(".cpl-strip-lever").first.wait_for(timeout=UPDATE_MS)
    _steps(page, 2)
    files = {}
    for label, name in (("Charts (PNG)", "charts.png"), ("Map (PNG)", "map.png"),
                        ("Data (CSV)", "data.csv"), ("Save set-up as scenario file", "setup.toml")):
        with page.expect_download(timeout=UPDATE_MS) as download:
            page.get_by_role("button", name=label).click()
        path = tmp_path / name
        download.value.save_as(path)
        files[name] = path
    for name in ("charts.png", "map.png"):
        assert files[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    df = pd.read_csv(files["data.csv"])
    assert set(df["run"]) == {"policy", "baseline"} and df["seed"].nunique() == 8
    assert df["step"].max() == 2 and len(df) == 2 * 8 * 3
    out = subprocess.run([sys.executable, "-m", "cluster_abm.cli.main", "scenario", "check",
                          str(files["setup.toml"])], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "levers: incubators" in out.stdout, out.stdout
    _assert_clean(server, [(page, record)])


def test_invalid_input_one_line_and_tabs_apart(open_page, app_server, tmp_path):
    server = app_server
    page, record = _open(open_page, server)
    try:
        _drive_invalid(page, open_page, server, tmp_path, record)
    except Exception:
        _screenshot(page, tmp_path, "app_failure")
        raise


def _drive_invalid(page, open_page, server, tmp_path, record):
    from playwright.sync_api import expect

    banner = page.locator(".cpl-error")
    step = page.get_by_role("button", name="Step", exact=True)
    page.get_by_role("button", name="1", exact=True).last.click()  # one seed per run
    expect(page.locator(".cpl-strip-runs")).to_contain_text("one seed (1)", timeout=UPDATE_MS)
    expect(page.locator(".cpl-tile-chance").first).to_have_text(
        "one seed: no interval, could be chance")
    _pick(page, page.locator(".cpl-scenario"), "Glocal support in North-East Romania")
    expect(page.get_by_text("Glocal support in North-East Romania").first).to_be_visible(
        timeout=UPDATE_MS)
    expect(page.locator(".cpl-lever.cpl-on")).to_have_count(1, timeout=UPDATE_MS)
    glocal = _lever_switch(page, "Glocal cluster support")
    expect(glocal).to_be_checked(timeout=UPDATE_MS)
    page.wait_for_timeout(800)  # the working group's panel has opened by itself: let it settle
    _click_switch(glocal, page)  # off and on again: the user's choice, with the scenario's region
    expect(page.locator(".cpl-lever.cpl-on")).to_have_count(0, timeout=UPDATE_MS)
    _click_switch(glocal, page)
    expect(page.locator(".cpl-lever.cpl-on")).to_have_count(1, timeout=UPDATE_MS)
    _pick(page, page.locator(".cpl-scenario"), "Veneto and Upper Austria only")
    expect(banner).to_have_count(1, timeout=UPDATE_MS)
    text = banner.locator(".cpl-error-text").inner_text()
    assert "Glocal cluster support" in text and "North-East Romania" in text, text
    assert "Veneto and Upper Austria only" in text and "\n" not in text.strip(), text
    assert "north_east_romania" not in text and "[" not in text, text
    expect(step).to_be_disabled()
    expect(page.get_by_role("button", name="Play")).to_be_disabled()
    _screenshot(page, tmp_path, "app_1600x1000_invalid")
    page.get_by_role("button", name="Undo my changes").click()
    expect(banner).to_have_count(0, timeout=UPDATE_MS)
    _steps(page, 1)

    # a second tab: a session of its own, at 1024x768, with its own runs
    other, other_record = open_page(server.url, width=1024, height=768)
    other.get_by_role("button", name="Step", exact=True).wait_for(timeout=FIRST_RENDER_MS)
    expect(other.locator(".cpl-clock-step")).to_have_text("step 0 / 80", timeout=UPDATE_MS)
    expect(other.locator(".cpl-strip-runs")).to_contain_text("8 seeds each")
    _steps(other, 2)
    other.get_by_role("button", name="Present").click()
    expect(other.locator(".cpl-panel")).to_have_count(0, timeout=UPDATE_MS)
    _wait_images(other)
    _screenshot(other, tmp_path, "app_1024x768_present")
    expect(page.locator(".cpl-clock-step")).to_have_text("step 1 / 80")
    expect(page.locator(".cpl-strip-runs")).to_contain_text("one seed (1)")
    _assert_clean(server, [(page, record), (other, other_record)])


def test_play_pause_at_year_and_horizon(open_page, app_server, tmp_path):
    from playwright.sync_api import expect

    server = app_server
    page, record = _open(open_page, server)
    _pick(page, page.locator(".cpl-pause-at"), "year 1")
    page.locator(".cpl-speed").get_by_role("button", name="max", exact=True).click()
    page.get_by_role("button", name="Play").click()
    expect(page.locator(".cpl-clock-step")).to_have_text("step 4 / 80", timeout=60_000)
    expect(page.get_by_role("button", name="Play")).to_be_visible(timeout=UPDATE_MS)
    expect(page.locator(".cpl-event").first).to_have_text("Paused at year 1, as set.")
    page.wait_for_timeout(800)
    assert _step_no(page) == 4, "the run went on past the pause"
    _pick(page, page.locator(".cpl-horizon"), "30 years")
    expect(page.locator(".cpl-clock-step")).to_have_text("step 4 / 120", timeout=UPDATE_MS)
    expect(page.locator(".cpl-clock-year")).to_have_text("Year 1 of 30")
    _assert_clean(server, [(page, record)])


def test_a_lever_switched_on_at_year_5_changes_nothing_before_it(open_page, app_server, tmp_path):
    server = app_server
    page, record = _open(open_page, server)
    try:
        _drive_switch_at_year_5(page, tmp_path)
    except Exception:
        _screenshot(page, tmp_path, "app_switch_failure")
        raise
    _assert_clean(server, [(page, record)])


def _drive_switch_at_year_5(page, tmp_path):
    import numpy as np
    import pandas as pd
    from playwright.sync_api import expect

    from cluster_abm.ui.app_state import CHART_SIZE_PX, CHART_SPECS
    from cluster_abm.ui.charts import MARK_COLOUR, ChartPlot

    charts = "img.cpl-charts-img"
    olive = _blend(MARK_COLOUR, 1.0)
    # play to year 5 and stop there by itself
    _pick(page, page.locator(".cpl-pause-at"), "year 5")
    page.locator(".cpl-speed").get_by_role("button", name="max", exact=True).click()
    page.get_by_role("button", name="Play").click()
    expect(page.locator(".cpl-clock-step")).to_have_text("step 20 / 80", timeout=120_000)
    expect(page.get_by_role("button", name="Play")).to_be_visible(timeout=UPDATE_MS)
    _wait_images(page)
    assert sum(_read_image(page, COLOUR_COLUMNS_JS, [charts, olive, 16])) < 20  # no marker yet
    expect(page.locator(".cpl-mark")).to_have_count(0)

    # "now we introduce network contracts": the lever panel, a switch, from year 5 on
    before = _sources(page)
    page.get_by_text("WG4 Financing").click()
    _click_switch(_lever_switch(page, "Business network contracts"), page)
    expect(page.locator(".cpl-strip-lever")).to_have_text(
        "Business network contracts ×1, from year 5", timeout=UPDATE_MS)
    expect(page.locator(".cpl-event").first).to_have_text(
        "Year 5: Business network contracts started in the policy run (switched on now; the "
        "baseline runs without it).")
    expect(page.locator(".cpl-mark")).to_contain_text("year 5: Business network contracts on")
    page.wait_for_function("([sel, src]) => { const i = document.querySelector(sel); "
                           "return i.complete && i.src !== src; }", arg=[charts, before[1]],
                           timeout=UPDATE_MS)  # the charts redrawn (the map: the same world)
    expect(page.locator(".cpl-clock-step")).to_have_text("step 20 / 80")  # no restart

    # the marker: a vertical line at year 5 on every chart (both rows, four columns)
    cols = np.array(_read_image(page, COLOUR_COLUMNS_JS, [charts, olive, 16]))
    plot = ChartPlot(20, CHART_SPECS, True, *CHART_SIZE_PX)
    expected = sorted({round(float(ax.transData.transform((5.0, 0.0))[0]))
                       for ax in plot.axes.values()})
    assert len(expected) == 4, expected
    lines = np.flatnonzero(cols >= 150)  # a line spans both rows of a column (> 2 x 150 px)
    assert lines.size, f"no marker line in the charts (max {cols.max()} pixels in a column)"
    for x in expected:
        assert np.min(np.abs(lines - x)) <= 3, (x, lines.tolist())
    assert all(np.min(np.abs(np.array(expected) - x)) <= 3 for x in lines), lines.tolist()

    # on the projector: the marker's legend and the narrative at 18 px or more too
    page.get_by_role("button", name="Present").click()
    expect(page.locator(".cpl-panel")).to_have_count(0, timeout=UPDATE_MS)
    page.wait_for_timeout(500)
    expect(page.locator(".cpl-mark")).to_be_visible()
    small = page.evaluate(SMALL_TEXT_JS, MIN_FONT_PX)
    assert not small, "text below 18 px in presentation mode:\n" + "\n".join(small)

    # a year on, then the data: nothing changed before year 5, something after
    _pick(page, page.locator(".cpl-pause-at"), "year 6")
    page.get_by_role("button", name="Play").click()
    expect(page.locator(".cpl-clock-step")).to_have_text("step 24 / 80", timeout=60_000)
    expect(page.get_by_role("button", name="Play")).to_be_visible(timeout=UPDATE_MS)
    expect(page.locator(".cpl-tile", has_text="Firms in contracts now")).to_have_count(1)
    page.get_by_role("button", name="Exit presentation").click()
    with page.expect_download(timeout=UPDATE_MS) as download:
        page.get_by_role("button", name="Data (CSV)").click()
    path = tmp_path / "data.csv"
    download.value.save_as(path)
    df = pd.read_csv(path)
    assert df["step"].max() == 24 and df["seed"].nunique() == 8
    series = [c for c in df.columns if c not in ("step", "year", "run", "seed")]
    assert "firms_in_contracts" in series and "public_cost" in series
    wide = df.set_index(["run", "seed", "step"])[series]
    diff = wide.loc["policy"] - wide.loc["baseline"]  # the difference series, seed by seed
    steps = diff.index.get_level_values("step")
    assert (diff[steps <= 20] == 0).all().all(), diff[steps <= 20].abs().max()
    after = diff[steps > 20]
    assert (after["public_cost"] > 0).any() and (after["firms_in_contracts"] != 0).any()
    _screenshot(page, tmp_path, "app_1600x1000_switch_year5")
