"""How fast the workshop app plays, measured in a real browser (figures, not a test).

    python benchmarks/bench_ui.py                    # the app's default speed, 1 and 2 sessions
    python benchmarks/bench_ui.py --speed max --modes single compare --steps 40

Starts ``solara run cluster_abm.ui.app`` offline on a free port, opens one or two browser
sessions (headless Debian Chromium through Playwright, each a fresh browser context = its own
Solara session and models), clicks Play in each and times, per session, play -> the step
counter showing step N (default 40). Target: at least 4 steps a second with the baseline
scenario, also while a second session plays at the same time. Also prints, without a browser,
what one step of the runs and one picture cost in-process, to tell model time from drawing and
transport. The machine should be otherwise idle: the load average is printed first.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    """The app as ``cluster-abm ui`` serves it, but with the CDN fallback closed (offline)."""
    from cluster_abm.cli.cmd_ui import server_command, server_env

    env = server_env()
    env["SOLARA_ASSETS_CDN"] = "http://127.0.0.1:9/npm/"
    cmd = server_command("127.0.0.1", port)
    log = open(log_path, "wb")  # noqa: SIM115 - the server writes to it until stopped
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"solara run exited with {proc.returncode}; see {log_path}")
        try:
            with opener.open(f"http://127.0.0.1:{port}/", timeout=5):
                return proc
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"solara run did not answer; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def step_of(page) -> int:
    text = page.evaluate(
        "() => (document.querySelector('.cpl-clock-step') || {textContent: ''}).textContent")
    try:
        return int(text.split()[1])
    except (IndexError, ValueError):
        return -1


def open_session(browser, url: str, speed: str, compare: bool):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=90_000)
    page.wait_for_function("() => document.querySelectorAll('img.cpl-map-img').length === 1",
                           timeout=60_000)
    page.locator(".cpl-speed").get_by_role("button", name=speed, exact=True).click()
    if compare:
        page.get_by_role("switch", name="Policy vs baseline").click(force=True)
        page.locator(".cpl-tile-sub").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    return context, page


def measure(browser, url: str, sessions: int, speed: str, compare: bool, steps: int) -> list[float]:
    """Steps per second of each session, played at the same time, from Play to step ``steps``."""
    opened = [open_session(browser, url, speed, compare) for _ in range(sessions)]
    starts, done = [], {}
    for _, page in opened:
        page.get_by_role("button", name="Play").click()
        starts.append(time.monotonic())
    deadline = time.monotonic() + 240
    while len(done) < sessions and time.monotonic() < deadline:
        for k, (_, page) in enumerate(opened):
            if k not in done and step_of(page) >= steps:
                done[k] = time.monotonic() - starts[k]
        time.sleep(0.02)
    rates = [steps / done[k] if k in done else float("nan") for k in range(sessions)]
    for context, _ in opened:
        context.close()
    return rates


def in_process(steps: int) -> None:
    from cluster_abm.ui.charts import ChartPlot, MapPlot
    from cluster_abm.ui.controls import Settings, build_run_scenarios
    from cluster_abm.ui.runs import RunPair

    for compare in (False, True):
        policy, reference = build_run_scenarios(Settings(compare=compare))
        pair = RunPair(policy, reference, seed=1)
        t0 = time.perf_counter()
        for _ in range(steps):
            pair.step()
        step_ms = (time.perf_counter() - t0) / steps * 1000
        map_plot = MapPlot(pair.policy.world, width_px=600)
        charts = ChartPlot(pair.horizon / pair.steps_per_year, tuple(pair.tracks), 600, 480)
        map_plot.render(pair.policy)
        charts.render(pair.tracks)
        t0 = time.perf_counter()
        for _ in range(10):
            map_plot.render(pair.policy)
            charts.render(pair.tracks)
        draw_ms = (time.perf_counter() - t0) / 10 * 1000
        print(f"  in-process, {'policy + baseline' if compare else 'one run'}: "
              f"{step_ms:.1f} ms per step, {draw_ms:.1f} ms per frame (map + charts)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speed", default=None,
                        help="speed button to press (default: the app's default)")
    parser.add_argument("--modes", nargs="+", choices=("single", "compare"),
                        default=["single", "compare"])
    parser.add_argument("--sessions", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from cluster_abm.ui.app_state import DEFAULT_SPEED, FRAME_INTERVAL

    speed = args.speed or DEFAULT_SPEED
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{os.cpu_count()} CPUs")
    print(f"speed button: {speed} (steps/s), pictures every {FRAME_INTERVAL:.2f} s at most")
    in_process(args.steps)
    port = free_port()
    log_path = Path("/tmp") / f"bench_ui_solara_{port}.log"
    server = start_server(port, log_path)
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            measure(browser, url, 1, speed, False, 8)  # warm-up: imports, first render
            for mode in args.modes:
                for n in args.sessions:
                    all_rates = []
                    for _ in range(args.repeats):
                        all_rates += measure(browser, url, n, speed, mode == "compare",
                                             args.steps)
                    shown = ", ".join(f"{r:.2f}" for r in all_rates)
                    print(f"  browser, {mode:7s}, {n} session{'s' if n > 1 else ' '} at once: "
                          f"play -> step {args.steps}: min {min(all_rates):.2f}, "
                          f"median {statistics.median(all_rates):.2f} steps/s  [{shown}]")
            browser.close()
    finally:
        stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
