"""``cluster-abm``: the command line; :mod:`~cluster_abm.cli.main` holds the table of sub-commands, one
``cmd_*`` module per command family."""
