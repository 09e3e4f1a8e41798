"""``cluster-abm ui``: serve the workshop app (:mod:`cluster_abm.ui.app`) in the browser, offline.

Wiring in cli.py (owned by the CLI)::

    from .commands import ui
    p = sub.add_parser("ui", help="the workshop app in the browser")
    ui.add_ui_arguments(p); p.set_defaults(func=ui.cmd_ui)

It makes sure Solara's CDN cache holds the front-end (from the npm registry, once; see
:mod:`cluster_abm.ui.offline`), prints the address and runs ``solara run`` in production mode
with telemetry off, returning its exit status (130 when stopped with Ctrl-C, 2 when the port is
taken). ``python -m cluster_abm.cli.cmd_ui`` works without cli.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from cluster_abm.ui.controls import SCENARIOS_ENV  # extra scenario folders for the app's picker

APP = "cluster_abm.ui.app"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 1 and 65535, got {value}")
    return value


def add_ui_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm ui``."""
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 lets other "
                             "machines of the room's network connect)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--scenarios", action="append", default=[], metavar="DIR",
                        help="another folder of scenario files for the app's picker "
                             "(repeatable; ./scenarios and the project's are always listed)")


def server_command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line the app is served with."""
    return [sys.executable, "-m", "solara", "run", APP, "--host", host, "--port", str(port),
            "--production", "--no-open", "--no-check-version"]


def server_env(scenario_dirs: list[str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"  # no usage reports leave the machine
    env["SOLARA_ASSETS_PROXY"] = "True"  # front-end files from the local CDN cache
    env["SOLARA_THEME_SHOW_BANNER"] = "False"  # its corner badge covers the app's legends
    env["MPLBACKEND"] = "Agg"
    if scenario_dirs:
        dirs = [str(Path(d).resolve()) for d in scenario_dirs]
        if env.get(SCENARIOS_ENV):
            dirs.append(env[SCENARIOS_ENV])
        env[SCENARIOS_ENV] = os.pathsep.join(dirs)
    return env


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def cmd_ui(args: argparse.Namespace) -> int:
    from cluster_abm.ui.offline import CdnCacheError, ensure_cdn_cache

    for d in getattr(args, "scenarios", []) or []:
        if not Path(d).is_dir():
            print(f"error: --scenarios {d}: not a folder", file=sys.stderr)
            return 2
    try:
        ensure_cdn_cache(verbose=False)
    except CdnCacheError as exc:
        # the page needs these files; without them (and without internet) it stays blank
        print(f"warning: Solara's front-end cache is incomplete ({exc}); the page may not load "
              "offline. Run `python -m cluster_abm.ui.offline` once with network access.",
              file=sys.stderr)
    if not _port_free(args.host, args.port):
        print(f"error: {args.host}:{args.port} is in use; choose another with --port",
              file=sys.stderr)
        return 2
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"cluster-abm workshop app: http://{shown}:{args.port}", flush=True)
    process = subprocess.Popen(server_command(args.host, args.port),
                               env=server_env(getattr(args, "scenarios", None)))
    # Ctrl-C reaches the server directly (same process group); a SIGTERM to this process
    # (a service manager, `kill`) is passed on too, so the server never outlives it
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return process.wait()
    except KeyboardInterrupt:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cluster-abm ui",
                                     description="Serve the workshop app in the browser.")
    add_ui_arguments(parser)
    return cmd_ui(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
