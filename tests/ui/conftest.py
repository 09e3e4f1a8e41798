"""Fixtures for real-browser tests of Solara pages: headless Chromium + a `solara run` server.

- ``chromium_path``: Debian's /usr/bin/chromium (``scripts/install_browser.sh``). Missing, the
  browser tests skip, unless ``CLUSTER_ABM_REQUIRE_BROWSER`` is set (CI), where they fail.
- ``browser``: one Playwright (sync API) Chromium for the session. Playwright's own browser
  download is not reachable here, hence ``executable_path``. Playwright gives every launch a
  fresh temporary profile (it refuses ``--user-data-dir`` in ``args``).
- ``solara_server``: factory; ``solara_server("tests/ui/pages/hello.py")`` or a module name
  starts ``solara run`` on 127.0.0.1 and a free port, waits until it answers and returns a
  :class:`SolaraServer` (``url``, ``log_path``); stopped (process group) at teardown.
- ``open_page``: factory; ``page, record = open_page(server.url)`` opens a page in a fresh
  browser context (= a fresh Solara session) and records every request it makes.

The server runs offline by construction: the CDN it would fall back to is pointed at a closed
local port, so a file missing from the CDN cache shows as ``Could not load URL`` in its log
(:meth:`SolaraServer.cdn_failures`) instead of a download from the internet.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
REQUIRE_ENV = "CLUSTER_ABM_REQUIRE_BROWSER"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    # every address stays local: never use a proxy the environment may name
    "--no-proxy-server",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
PAGES = Path(__file__).resolve().parent / "pages"
SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 10.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
if importlib.util.find_spec("cluster_abm") is None:  # not installed: run from the checkout
    sys.path.insert(0, str(REPO_ROOT))
# Solara's CDN proxy logs these when a file is not in its cache and cannot be fetched
CDN_FAILURE = re.compile(r"Could not load URL|Failed writing cache file|outside of cache directory")


def _missing(message: str) -> None:
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{message} ({REQUIRE_ENV} is set)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"{CHROMIUM} missing: run scripts/install_browser.sh")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def cdn_cache() -> list[Path]:
    """Solara's CDN proxy cache, filled from the npm registry if needed (idempotent)."""
    from cluster_abm.ui.offline import CdnCacheError, ensure_cdn_cache

    try:
        return ensure_cdn_cache(verbose=False)
    except CdnCacheError as e:
        pytest.fail(f"cannot fill Solara's CDN cache: {e}", pytrace=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SolaraServer:
    url: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def cdn_failures(self) -> list[str]:
        return [line for line in self.log().splitlines() if CDN_FAILURE.search(line)]

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-n:])


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy
    try:
        with opener.open(url, timeout=10) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, SERVER_STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(
        {
            # serve the front-end through the server's CDN proxy (its cache)...
            "SOLARA_ASSETS_PROXY": "True",
            # ...and make a cache miss fail at once, locally, instead of reaching the internet
            "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/npm/",
            # no usage reports to mixpanel / api.ipify.org
            "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
            # as `cluster-abm ui` serves it: no "This website runs on Solara" corner badge
            "SOLARA_THEME_SHOW_BANNER": "False",
            "MPLBACKEND": "Agg",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in ("VSCODE_PID", "VSCODE_CWD"):  # would make Solara bypass its proxy
        env.pop(name, None)
    return env


@pytest.fixture
def solara_server(tmp_path, cdn_cache) -> Iterator:
    """Factory: ``solara_server(app, timeout=60) -> SolaraServer``; stopped at teardown."""
    started: list[SolaraServer] = []

    def start(app: str | os.PathLike, *, timeout: float = SERVER_START_TIMEOUT) -> SolaraServer:
        port = free_port()
        log_path = tmp_path / f"solara-{port}.log"
        cmd = [
            str(Path(sys.executable).with_name("solara")),
            "run",
            str(app),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--production",
            "--no-open",  # default is to open a browser window
            "--no-check-version",  # default asks PyPI for the newest solara
        ]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                cmd,
                cwd=REPO_ROOT,
                env=_server_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, stopped as a whole
            )
        server = SolaraServer(f"http://127.0.0.1:{port}/", log_path, process)
        started.append(server)
        deadline = time.monotonic() + timeout
        while not _answers(server.url):
            if process.poll() is not None:
                pytest.fail(
                    f"solara run exited with {process.returncode}:\n{server.log_tail()}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"solara run did not answer within {timeout:.0f}s:\n{server.log_tail()}",
                    pytrace=False,
                )
            time.sleep(0.25)
        return server

    yield start
    for server in started:
        _stop(server.process)


@dataclass
class PageRecord:
    """What a page did on the network and in its console."""

    requests: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # request failures and HTTP >= 400
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    pending: set = field(default_factory=set)  # requests not finished yet

    def settle(self, page, timeout: float = 30.0) -> None:
        """Wait (bounded) until no request is in flight, e.g. a CDN miss the server retries."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert not self.pending, f"requests still pending after {timeout:.0f}s: " + ", ".join(
            r.url for r in self.pending
        )

    def foreign(self) -> list[str]:
        """Requests and websockets to anything but this machine (data:/blob: are local)."""
        out = []
        for url in self.requests + self.websockets:
            parsed = urlparse(url)
            if parsed.scheme in ("data", "blob", "about"):
                continue
            if parsed.hostname not in LOCAL_HOSTS:
                out.append(url)
        return out


@pytest.fixture
def open_page(browser) -> Iterator:
    """Factory: ``open_page(url) -> (page, PageRecord)``, each in a fresh browser context."""
    contexts = []

    def open_(url: str, *, width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        context.set_default_timeout(30_000)
        page = context.new_page()
        record = PageRecord()

        def on_request(request):
            record.requests.append(request.url)
            record.pending.add(request)

        page.on("request", on_request)
        page.on("requestfinished", lambda r: record.pending.discard(r))
        page.on("requestfailed", lambda r: record.pending.discard(r))
        page.on("websocket", lambda ws: record.websockets.append(ws.url))
        page.on("requestfailed", lambda r: record.failed.append(f"{r.url}: {r.failure}"))
        page.on(
            "response",
            lambda r: (
                record.failed.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None
            ),
        )
        page.on(
            "console",
            lambda m: record.console_errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: record.page_errors.append(str(e)))
        page.goto(url, wait_until="domcontentloaded")
        return page, record

    yield open_
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()
