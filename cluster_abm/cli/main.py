"""``cluster-abm``: the command line. A thin table of sub-commands (one ``cmd_*`` module per
command family in :mod:`cluster_abm.cli`) and the one error boundary they all run inside.

:func:`run_command` is that boundary. A command raises; it does not print errors or pick exit
statuses for them:

* :class:`~cluster_abm.errors.InputError` (a bad file, key or option) -> one line
  ``cluster-abm <command>: error: <file>: <key>: <what is wrong and allowed>``, status 2;
* an OS error about a path the user gave (missing, not permitted, a folder, a full disk: any
  ``OSError`` that names a file) -> one line ``cluster-abm <command>: error: <path>: <reason>``,
  status 2;
* a bad option or argument (argparse) -> one line ``cluster-abm <command>: error: ...``,
  status 2;
* Ctrl-C, or SIGTERM (``kill``, ``scancel``, a batch system's time limit), which is turned into
  the same ``KeyboardInterrupt`` so sweeps stop cleanly and stay resumable -> one line
  ``cluster-abm <command>: interrupted``, status 130;
* a broken pipe on standard output (``cluster-abm levers | head``: the reader left) -> nothing
  more is written, status 0; a broken pipe elsewhere -> one line, status 2.

Anything else is a bug and keeps its traceback. ``python -m cluster_abm.cli.cmd_sweep`` and the
other modules' ``main`` go through :func:`main` too, so every entry point behaves the same.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

from cluster_abm import __version__
from cluster_abm.errors import InputError

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130

# name -> (module, add-arguments function, command function, help)
COMMANDS = {
    "run": ("cmd_run", "add_run_arguments", "cmd_run", "run one scenario with one seed"),
    "levers": ("cmd_scenarios", "add_levers_arguments", "cmd_levers", "list the policy levers"),
    "scenario": ("cmd_scenarios", "add_scenario_arguments", "cmd_scenario", "show or check a scenario file"),
    "region": ("cmd_region", "add_region_arguments", "cmd_region", "build a region's scenario from its published statistics"),
    "sweep": ("cmd_sweep", "add_sweep_arguments", "cmd_sweep", "run an experiment (replications, designs)"),
    "compare": ("cmd_compare", "add_compare_arguments", "cmd_compare", "compare policy scenarios with a report"),
    "replay": ("cmd_sweep", "add_replay_arguments", "cmd_replay", "re-simulate one stored run and check it"),
    "verify": ("cmd_verify", "add_verify_arguments", "cmd_verify", "check a result store against its checksums"),
    "sensitivity": ("cmd_sensitivity", "add_sensitivity_arguments", "cmd_sensitivity", "global sensitivity analysis (SALib)"),
    "calibrate": ("cmd_calibrate", "add_calibrate_arguments", "cmd_calibrate", "fit parameters to published statistics"),
    "validate": ("cmd_calibrate", "add_validate_arguments", "cmd_validate", "check stylized facts over many seeds"),
    "optimize": ("cmd_decisions", "add_optimize_arguments", "cmd_optimize", "search the best packages for a budget (Pareto frontier)"),
    "robustness": ("cmd_decisions", "add_robustness_arguments", "cmd_robustness", "test packages across an ensemble of plausible worlds"),
    "discover": ("cmd_decisions", "add_discover_arguments", "cmd_discover", "find the worlds where a package misses its target (PRIM)"),
    "ui": ("cmd_ui", "add_ui_arguments", "cmd_ui", "start the workshop app in the browser"),
}


def _module(name: str):
    try:
        return importlib.import_module(f"cluster_abm.cli.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"cluster_abm.cli.{name}":
            return None
        raise


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like the commands' own (status 2)."""

    def error(self, message: str):
        self.exit(EXIT_INPUT, f"{self.prog}: error: {' '.join(message.split())} "
                              f"(see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="cluster-abm",
        description="Agent-based simulator of industrial clusters under policy (ClusterPoliSEE, South-East Europe).",
    )
    parser.add_argument("--version", action="version", version=f"cluster-abm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (mod_name, add_fn, cmd_fn, help_text) in COMMANDS.items():
        mod = _module(mod_name)
        if mod is None or not hasattr(mod, cmd_fn):
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        getattr(mod, add_fn)(p)
        p.set_defaults(_run=getattr(mod, cmd_fn))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return EXIT_INPUT
    return run_command(args.command, args._run, args)


def run_command(command: str, func: Callable[[argparse.Namespace], int | None],
                args: argparse.Namespace) -> int:
    """Run one command inside the CLI's error boundary (see the module docstring)."""
    prog = f"cluster-abm {command}"
    try:
        with sigterm_as_interrupt():
            return int(func(args) or 0)
    except InputError as exc:
        return _error(prog, str(exc))
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError as exc:
        if _stdout_closed():
            return 0  # the reader of our output left (`| head`): nothing to say to anyone
        return _error(prog, f"broken pipe ({exc.strerror or exc})")
    except OSError as exc:
        if exc.filename is None and not isinstance(exc, _PATH_ERRORS):
            raise  # not about a path the user gave: a bug or the machine, keep the traceback
        return _error(prog, _os_message(exc))


_PATH_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


def _error(prog: str, message: str) -> int:
    print(f"{prog}: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_INPUT


def _os_message(exc: OSError) -> str:
    """``path: reason`` (``path -> other: reason`` for a rename or copy)."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return reason
    where = str(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {exc.filename2}"
    return f"{where}: {reason}"


def _stdout_closed() -> bool:
    """Whether standard output's reader has gone; if so, point stdout at /dev/null so the
    interpreter's last flush does not print a second broken-pipe traceback."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except (OSError, ValueError):
        return False
    else:
        try:
            import select

            poller = select.poll()
            poller.register(sys.stdout.fileno(), select.POLLOUT)
            if not any(ev & select.POLLERR for _, ev in poller.poll(0)):
                return False
        except (AttributeError, OSError, ValueError):  # no poll (Windows) or no real stdout
            return False
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return True


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (scancel, a batch system's time limit, ``kill``) like Ctrl-C: commands
    stop the same clean way (a sweep records what finished and can resume)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
