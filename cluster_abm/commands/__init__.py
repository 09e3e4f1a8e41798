"""Command implementations behind ``cluster-abm`` sub-commands (argparse wiring is in cli.py).

Each module offers ``add_<name>_arguments(parser)`` to declare options and ``cmd_<name>(args)``
returning an exit status, so the CLI stays a thin table of sub-commands.
"""
