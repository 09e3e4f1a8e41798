"""``cluster-abm ui``: serve the workshop app (:mod:`cluster_abm.ui.app`) in the browser, offline.

It makes sure Solara's CDN cache holds the front-end (from the npm registry, once; see
:mod:`cluster_abm.ui.offline`), prints the address and runs ``solara run`` in production mode
with telemetry off, returning its exit status. A taken port or a missing ``--scenarios`` folder
is an :class:`~cluster_abm.errors.InputError` (status 2); Ctrl-C or SIGTERM stops the server
too (status 130): both through the CLI's boundary, :func:`cluster_abm.cli.main.run_command`.
``python -m cluster_abm.cli.cmd_ui`` is ``cluster-abm ui``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from cluster_abm.errors import InputError
from cluster_abm.ui.controls import SCENARIOS_ENV  # extra scenario folders for the app's picker

APP = "cluster_abm.ui.app"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
STOP_GRACE_S = 0.5  # after Ctrl-C: the server's time to stop by itself before it is killed


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
    """Whether a server could listen on ``host:port`` now.

    The test binds with ``SO_REUSEADDR``, as the server itself (uvicorn) does: connections left
    in TIME-WAIT by the previous run (say, a browser tab open when it was stopped with Ctrl-C)
    then do not count, while a socket still listening there does. Without it the check refused
    a restart for about a minute after every Ctrl-C with a tab open.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        if os.name != "nt":  # on Windows SO_REUSEADDR would let two servers share the port
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def cmd_ui(args: argparse.Namespace) -> int:
    from cluster_abm.ui.offline import CdnCacheError, ensure_cdn_cache
    from cluster_abm.ui.warm import note_when_serving

    for d in getattr(args, "scenarios", []) or []:
        if not Path(d).is_dir():
            raise InputError("not a folder", key=f"--scenarios {d}")
    if not _port_free(args.host, args.port):
        raise InputError(f"{args.host}:{args.port} is in use; choose another with --port",
                         key="--port")
    # the server starts (imports Solara, ~1-2 s) while this process checks the front-end cache
    process = subprocess.Popen(server_command(args.host, args.port),
                               env=server_env(getattr(args, "scenarios", None)))
    try:
        try:
            ensure_cdn_cache(verbose=False)
        except CdnCacheError as exc:
            # the page needs these files; without them (and without internet) it stays blank
            print(f"warning: Solara's front-end cache is incomplete ({exc}); the page may not "
                  "load offline. Run `python -m cluster_abm.ui.offline` once with network "
                  "access.", file=sys.stderr)
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        print(f"cluster-abm workshop app: http://{shown}:{args.port}", flush=True)
        note_when_serving(args.host, args.port)  # cold spin-up cache? said once it serves
        return process.wait()
    except KeyboardInterrupt:
        # Ctrl-C reaches the server directly (same process group); a SIGTERM to this process
        # (turned into KeyboardInterrupt by the CLI) is passed on, so the server never
        # outlives it; the CLI then reports the interruption
        _stop(process)
        raise


def _stop(process: subprocess.Popen, timeout: float = STOP_GRACE_S) -> None:
    """Stop the server: SIGINT, then a kill after ``timeout`` s. A graceful stop closes every
    open tab's session; the app keeps nothing worth waiting for, and a trainer restarting wants
    the terminal back at once."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(argv: list[str] | None = None) -> int:
    """``python -m cluster_abm.cli.cmd_ui [options]``: the same as ``cluster-abm ui``."""
    from cluster_abm.cli.main import main as cli_main

    return cli_main(["ui", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
