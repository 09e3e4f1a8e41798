"""``cluster-abm``: the command line. A thin table of sub-commands; each lives in
:mod:`cluster_abm.cli`. Input problems print one line and exit with status 2."""

from __future__ import annotations

import argparse
import importlib
import sys

from cluster_abm import __version__
from cluster_abm.errors import InputError

# name -> (module, add-arguments function, command function, help)
COMMANDS = {
    "run": ("cmd_run", "add_run_arguments", "cmd_run", "run one scenario with one seed"),
    "levers": ("cmd_scenarios", "add_levers_arguments", "cmd_levers", "list the policy levers"),
    "scenario": ("cmd_scenarios", "add_scenario_arguments", "cmd_scenario", "show or check a scenario file"),
    "sweep": ("cmd_sweep", "add_sweep_arguments", "cmd_sweep", "run an experiment (replications, designs)"),
    "compare": ("cmd_compare", "add_compare_arguments", "cmd_compare", "compare policy scenarios with a report"),
    "replay": ("cmd_sweep", "add_replay_arguments", "cmd_replay", "re-simulate one stored run and check it"),
    "sensitivity": ("cmd_sensitivity", "add_sensitivity_arguments", "cmd_sensitivity", "global sensitivity analysis (SALib)"),
    "calibrate": ("cmd_calibrate", "add_calibrate_arguments", "cmd_calibrate", "fit parameters to published statistics"),
    "validate": ("cmd_calibrate", "add_validate_arguments", "cmd_validate", "check stylized facts over many seeds"),
    "ui": ("cmd_ui", "add_ui_arguments", "cmd_ui", "start the workshop app in the browser"),
}


def _module(name: str):
    try:
        return importlib.import_module(f"cluster_abm.cli.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"cluster_abm.cli.{name}":
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
        return 2
    try:
        return int(args._run(args) or 0)
    except InputError as exc:
        print(f"cluster-abm {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cluster-abm {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `cluster-abm levers | head`: the reader left, nothing to say
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
