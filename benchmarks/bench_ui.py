"""How fast the workshop app plays, measured in a real browser (figures, not a test).

    python benchmarks/bench_ui.py                  # 8 seeds x 2 scenarios, speeds 4 and max
    python benchmarks/bench_ui.py --steps 40 --sessions 1 2 --speeds max

Prints, for the app's default set-up (policy and baseline over 8 common seeds, the baseline
world), with targets from issue 19:

- **first render**: from starting ``cluster-abm ui`` to the page showing its charts in a fresh
  browser (target: within 10 s), from the spin-up cache as it is (``make ui-assets`` fills it:
  ``python -m cluster_abm.ui.warm``; the script says whether it was warm) and, with ``--cold``,
  also from an empty cache (every world spun up by the first page);
- **steps/s**: Play -> the step counter showing step N, per session, with one or two sessions
  playing at once (target: at least 4 with 8 seeds x 2 scenarios);
- **page refreshes/s**: how often the chart picture changes in the browser while playing
  (target: at least 2);
- in-process, without a browser: what one step of the 16 models and one frame (map + charts)
  cost, to tell model time from drawing and transport.

Starts the app offline on a free port, drives headless Debian Chromium through Playwright (each
session a fresh browser context = its own Solara session and models). The machine should be
otherwise idle: the load average is printed first.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server",
                 "--disable-background-networking", "--disable-dev-shm-usage",
                 # a background tab must not be throttled: both sessions "are on screen"
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
SCREEN = {"width": 1600, "height": 1000}
# counts changes of the chart picture, with their times (performance.now(), ms)
WATCH_JS = """() => {
    window.__frames = [];
    const seen = () => {
        const img = document.querySelector('img.cpl-charts-img');
        return img ? img.src : '';
    };
    let last = seen();
    const obs = new MutationObserver(() => {
        const now = seen();
        if (now !== last) { last = now; window.__frames.push(performance.now()); }
    });
    obs.observe(document.body, {subtree: true, attributes: true, attributeFilter: ['src'],
                                childList: true});
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["SOLARA_ASSETS_CDN"] = "http://127.0.0.1:9/npm/"  # offline: a cache miss fails locally
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def start_server(port: int, log_path: Path, cache: str | None = None
                 ) -> tuple[subprocess.Popen, float]:
    """``cluster-abm ui`` on ``port`` (offline; ``cache``: another spin-up cache); returns the
    process and its start time."""
    log = open(log_path, "wb")  # noqa: SIM115 - the server writes to it until stopped
    env = _env() | ({} if cache is None else {"CLUSTER_ABM_SPINUP_CACHE": cache})
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "cluster_abm.cli.cmd_ui", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"cluster-abm ui exited with {proc.returncode}; see {log_path}")
        try:
            with opener.open(f"http://127.0.0.1:{port}/", timeout=5):
                return proc, t0
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"cluster-abm ui did not answer; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def step_of(page) -> int:
    text = page.evaluate(
        "() => (document.querySelector('.cpl-clock-step') || {textContent: ''}).textContent")
    try:
        return int(text.split()[1])
    except (IndexError, ValueError):
        return -1


def open_session(browser, url: str, speed: str):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=90_000)
    page.locator("img.cpl-charts-img").wait_for(timeout=90_000)
    page.locator(".cpl-speed").get_by_role("button", name=speed, exact=True).click()
    page.get_by_role("button", name="Present").click()  # the projector view
    page.wait_for_timeout(800)
    return context, page


def measure(browser, url: str, sessions: int, speed: str, steps: int):
    """Per session: steps/s from Play to step ``steps`` and chart refreshes/s meanwhile."""
    opened = [open_session(browser, url, speed) for _ in range(sessions)]
    for _, page in opened:
        page.evaluate(WATCH_JS)
    starts, done = [], {}
    for _, page in opened:
        page.get_by_role("button", name="Play").click()
        starts.append(time.monotonic())
    deadline = time.monotonic() + 300
    while len(done) < sessions and time.monotonic() < deadline:
        for k, (_, page) in enumerate(opened):
            if k not in done and step_of(page) >= steps:
                done[k] = time.monotonic() - starts[k]
        time.sleep(0.02)
    rates, refreshes = [], []
    for k, (context, page) in enumerate(opened):
        frames = page.evaluate("() => window.__frames")
        rates.append(steps / done[k] if k in done else float("nan"))
        span = done.get(k, float("nan"))
        refreshes.append(len(frames) / span if frames else 0.0)
        context.close()
    return rates, refreshes


def first_render(browser, url: str, t0: float) -> float:
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.locator("img.cpl-charts-img").wait_for(timeout=90_000)
    page.wait_for_function("() => document.querySelector('img.cpl-charts-img').complete")
    elapsed = time.monotonic() - t0
    context.close()
    return elapsed


def in_process(steps: int) -> None:
    from cluster_abm.ui import model_view
    from cluster_abm.ui.app_state import CHART_SIZE_PX, CHART_SPECS, MAP_WIDTH_PX
    from cluster_abm.ui.charts import ChartPlot, MapPlot
    from cluster_abm.ui.controls import Settings, build_run_scenarios
    from cluster_abm.ui.runs import HEADLINES, RunSet

    s = Settings()
    policy, reference = build_run_scenarios(s)
    t0 = time.perf_counter()
    runs = RunSet(policy, reference, s.seed_list())
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        runs.step()
    step_ms = (time.perf_counter() - t0) / steps * 1000
    map_plot = MapPlot(runs.watched.world, width_px=MAP_WIDTH_PX)
    charts = ChartPlot(runs.horizon / runs.steps_per_year, CHART_SPECS, True, *CHART_SIZE_PX)

    def frame():
        map_plot.render(runs.firm_view(), runs.innovated_last_year(),
                        model_view.static_sites(runs.watched))
        charts.render({m.key: runs.bands(m) for m in HEADLINES})
        runs.outcomes()

    frame()
    t0 = time.perf_counter()
    for _ in range(10):
        frame()
    draw_ms = (time.perf_counter() - t0) / 10 * 1000
    print(f"  in-process, {len(runs.all_models())} models ({runs.n_seeds} seeds x 2), "
          f"{policy.param('sim.n_firms')} firms: build {build_s:.1f} s, {step_ms:.0f} ms per "
          f"step (= {1000 / step_ms:.1f} steps/s), {draw_ms:.0f} ms per frame (map + charts)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speeds", nargs="+", default=None,
                        help="speed buttons to press (default: the app's default and max)")
    parser.add_argument("--sessions", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-in-process", action="store_true")
    parser.add_argument("--cold", action="store_true",
                        help="also time a first render from an empty spin-up cache")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from cluster_abm.ui.app_state import DEFAULT_SPEED, FRAME_INTERVAL, MAX_SPEED_FRAME_INTERVAL

    speeds = args.speeds or [DEFAULT_SPEED, "max"]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{os.cpu_count()} CPUs")
    print(f"set-up: policy and baseline, 8 common seeds each; pictures every "
          f"{FRAME_INTERVAL:.2f} s at most (at speed max: every {MAX_SPEED_FRAME_INTERVAL:.2f} s)")
    from cluster_abm.ui import warm

    scenario, seeds = warm.default_setup()
    cold = warm.missing(scenario, seeds)
    print(f"spin-up cache: {len(seeds) - len(cold)} of the default {len(seeds)} worlds ready"
          + (" (run `python -m cluster_abm.ui.warm` first to time a warm start)" if cold else ""))
    if not args.no_in_process:
        in_process(args.steps)
    if args.cold:
        with tempfile.TemporaryDirectory() as empty, sync_playwright() as pw:
            port = free_port()
            server, t0 = start_server(port, Path("/tmp") / f"bench_ui_cold_{port}.log", empty)
            try:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
                print(f"  first render, empty spin-up cache: "
                      f"{first_render(browser, f'http://127.0.0.1:{port}/', t0):.1f} s")
                browser.close()
            finally:
                stop_server(server)
    port = free_port()
    log_path = Path("/tmp") / f"bench_ui_{port}.log"
    server, t0 = start_server(port, log_path)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            print(f"  first render: {first_render(browser, url, t0):.1f} s from starting "
                  "`cluster-abm ui` to the charts on screen (target <= 10 s)")
            for speed in speeds:
                for n in args.sessions:
                    rates, refreshes = [], []
                    for _ in range(args.repeats):
                        r, f = measure(browser, url, n, speed, args.steps)
                        rates += r
                        refreshes += f
                    shown = ", ".join(f"{r:.2f}" for r in rates)
                    print(f"  browser, speed {speed:>3}, {n} session{'s' if n > 1 else ' '} at "
                          f"once: play -> step {args.steps}: median "
                          f"{statistics.median(rates):.2f} steps/s [{shown}]; page refreshes "
                          f"median {statistics.median(refreshes):.1f}/s")
            browser.close()
    finally:
        stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
