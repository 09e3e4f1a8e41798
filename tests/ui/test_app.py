"""Real-browser test of the workshop app (cluster_abm/ui/app.py) in headless Debian Chromium.

``solara run cluster_abm.ui.app`` is started offline (fixture ``solara_server``) and driven the
way a trainer would: switch a lever on, step, compare with the baseline, play, pause, pick a
scenario that makes the lever settings invalid (the banner explains it in one line and Play
and Step are disabled), undo, and look at it on a 1280x720 screen and a 1024x768 projector.
It checks the step counter and that the map and chart images change, that no error banner
shows when none should, and that the page made no request off this machine and logged no
JavaScript error or Python traceback. Screenshots go to the test's tmp_path, or to
``$CLUSTER_ABM_SCREENSHOT_DIR`` when set.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from cluster_abm.ui.controls import SCENARIOS_ENV

pytestmark = pytest.mark.browser

FIRST_RENDER_MS = 60_000
UPDATE_MS = 20_000
IMAGES = "img.cpl-map-img, img.cpl-charts-img"


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


def _wait_step(page, at_least: int, timeout_ms: int = UPDATE_MS) -> None:
    page.wait_for_function(
        """n => {
            const el = document.querySelector('.cpl-clock-step');
            const m = el && el.textContent.match(/step (\\d+) \\//);
            return m && Number(m[1]) >= n;
        }""",
        arg=at_least,
        timeout=timeout_ms,
    )


def _pick_scenario(page, label: str) -> None:
    page.locator(".cpl-scenario").click()
    page.locator(".v-menu__content .v-list-item", has_text=re.compile(rf"^\s*{label}\s*$")).click()


def _lever_switch(page, name: str):
    return page.get_by_role("switch", name=name)


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


def test_workshop_app_levers_steps_compare_and_errors(open_page, solara_server, tmp_path,
                                                      monkeypatch):

    _write_scenarios(tmp_path / "workshop")
    monkeypatch.setenv(SCENARIOS_ENV, str(tmp_path / "workshop"))  # the server inherits it
    server = solara_server("cluster_abm.ui.app")
    page, record = open_page(server.url, width=1280, height=720)
    try:
        _drive(page, record, open_page, server, tmp_path)
    except Exception:
        _screenshot(page, tmp_path, "app_failure")
        raise


def _drive(page, record, open_page, server, tmp_path):
    from playwright.sync_api import expect

    step = page.get_by_role("button", name="Step", exact=True)
    step.wait_for(state="visible", timeout=FIRST_RENDER_MS)
    expect(page.locator(".cpl-clock-step")).to_have_text("step 0 / 80", timeout=UPDATE_MS)
    before = _wait_images(page)
    banner = page.locator(".cpl-error")

    # a lever, from the catalogue, in its working group
    page.get_by_text("WG3 Cooperation and networking").click()
    _lever_switch(page, "Glocal cluster support").click(force=True)
    expect(page.get_by_text(re.compile(r"WG3 Cooperation and networking\s+·\s+1 on"))).to_be_visible(
        timeout=UPDATE_MS)
    expect(page.get_by_text(re.compile(r"^Intensity 1\.0$"))).to_be_visible()
    for n in (1, 2):
        step.click()
        expect(page.locator(".cpl-clock-step")).to_have_text(f"step {n} / 80", timeout=UPDATE_MS)
    after = _wait_images(page, before)  # the map and the charts were redrawn
    assert len(set(after)) == 2
    expect(banner).to_have_count(0)
    _screenshot(page, tmp_path, "app_1280x720_lever")

    # side by side: policy and baseline in lock-step, differences on the tiles
    _lever_switch(page, "Policy vs baseline").click(force=True)
    expect(page.locator(".cpl-clock-step")).to_have_text("step 0 / 80", timeout=UPDATE_MS)
    # four headline numbers and the lever's direct outcome, each as policy - baseline
    expect(page.locator(".cpl-tile-sub")).to_have_count(5)
    expect(page.locator(".cpl-tile-sub").first).to_have_text(re.compile(r"^[\d\u2009]+ vs [\d\u2009]+$"))
    expect(page.locator(".cpl-direct")).to_contain_text("Glocal firms")
    before = _wait_images(page)
    page.get_by_role("button", name="Play").click()
    t0 = time.monotonic()
    _wait_step(page, 12, timeout_ms=60_000)
    elapsed = time.monotonic() - t0
    page.get_by_role("button", name="Pause").click()
    expect(step).to_be_enabled(timeout=UPDATE_MS)
    _wait_images(page, before)
    stopped = _step_no(page)
    page.wait_for_timeout(800)
    assert _step_no(page) == stopped, "the run went on after Pause"
    # a loose bound (the benchmark measures properly): the default speed is 8 steps a second
    assert 12 / elapsed > 1.0, f"only {12 / elapsed:.2f} steps/s"
    page.locator(".cpl-map-run").get_by_role("button", name="baseline").click()  # map: baseline
    expect(page.locator(".cpl-map-run .v-btn--active")).to_have_text("baseline",
                                                                      timeout=UPDATE_MS)
    before = _sources(page)
    _lever_switch(page, "Ties").click(force=True)  # cooperation ties on the map, on demand
    expect(page.get_by_text("Transnational tie")).to_be_visible(timeout=UPDATE_MS)
    page.wait_for_function(
        "before => document.querySelector('img.cpl-map-img').src !== before", arg=before[0],
        timeout=UPDATE_MS)
    expect(banner).to_have_count(0)
    _screenshot(page, tmp_path, "app_1280x720_compare")

    # an invalid combination: the lever targets a region the picked scenario lacks
    page.get_by_role("button", name="Undo my changes").click()  # levers as the files say
    expect(page.locator(".cpl-lever.cpl-on")).to_have_count(0, timeout=UPDATE_MS)
    _pick_scenario(page, "targeted")
    expect(page.get_by_text("Glocal support in North-East Romania")).to_be_visible(
        timeout=UPDATE_MS)
    expect(page.locator(".cpl-lever.cpl-on")).to_have_count(1, timeout=UPDATE_MS)
    glocal = _lever_switch(page, "Glocal cluster support")
    glocal.click(force=True)  # off and on again: now the user's choice, with the scenario's region
    expect(page.locator(".cpl-lever.cpl-on")).to_have_count(0, timeout=UPDATE_MS)
    glocal.click(force=True)
    expect(page.locator(".cpl-lever.cpl-on")).to_have_count(1, timeout=UPDATE_MS)
    _pick_scenario(page, "two_regions")
    expect(banner).to_have_count(1, timeout=UPDATE_MS)
    text = banner.locator(".cpl-error-text").inner_text()
    assert "Glocal cluster support" in text and "north_east_romania" in text, text
    assert "two_regions" in text and "\n" not in text.strip(), text
    expect(step).to_be_disabled()
    expect(page.get_by_role("button", name="Play")).to_be_disabled()
    _screenshot(page, tmp_path, "app_1280x720_invalid")
    page.get_by_role("button", name="Undo my changes").click()
    expect(banner).to_have_count(0, timeout=UPDATE_MS)
    expect(step).to_be_enabled()
    step.click()
    expect(page.locator(".cpl-clock-step")).to_have_text("step 1 / 80", timeout=UPDATE_MS)

    # the projector: 1024x768, a session of its own, lever panel hidden to give the pictures room
    proj, proj_record = open_page(server.url, width=1024, height=768)
    proj.get_by_role("button", name="Step", exact=True).wait_for(timeout=FIRST_RENDER_MS)
    _lever_switch(proj, "Policy vs baseline").click(force=True)
    expect(proj.locator(".cpl-tile-sub")).to_have_count(4, timeout=UPDATE_MS)
    for _ in range(4):
        proj.get_by_role("button", name="Step", exact=True).click()
    expect(proj.locator(".cpl-clock-step")).to_have_text("step 4 / 80", timeout=UPDATE_MS)
    _wait_images(proj)
    _screenshot(proj, tmp_path, "app_1024x768_panel")
    proj.get_by_role("button", name="Levers").click()
    expect(proj.locator(".cpl-panel")).to_have_count(0, timeout=UPDATE_MS)
    _screenshot(proj, tmp_path, "app_1024x768")
    # ...and the first session kept its own run
    expect(page.locator(".cpl-clock-step")).to_have_text("step 1 / 80")

    for p, rec in ((page, record), (proj, proj_record)):
        rec.settle(p)
        assert not rec.foreign(), f"requests to non-local addresses: {rec.foreign()}"
        assert not rec.failed, f"failed requests: {rec.failed}"
        assert not rec.page_errors, f"JavaScript errors: {rec.page_errors}"
        assert not rec.console_errors, f"console errors: {rec.console_errors}"
    assert not server.cdn_failures(), "\n".join(server.cdn_failures())
    assert "Traceback" not in server.log(), server.log_tail()
