"""Decisions under uncertainty: the best package for a budget, how robust it is, where it fails.

* :mod:`.decision_spec` -- outcomes, decision variables and the search file (``optimize``);
* :mod:`.ensemble_spec` -- the robustness file: packages, worlds (parameter uncertainty and
  deep-uncertainty drivers), targets and scenario-discovery questions;
* :mod:`.package_eval` -- what a worker runs: one package (or an analytic test problem) with one
  replicate seed, measured as the spec's outcomes;
* :mod:`.decision_problems` -- analytic test problems (ZDT1) on the same evaluation path;
* :mod:`.frontier` -- the multi-objective search (Optuna) and its Pareto set as scenario files;
* :mod:`.robustness` -- the ensemble of worlds on the experiment runner, regret, satisficing and
  ranking stability;
* :mod:`.discovery` -- scenario discovery with PRIM (Friedman & Fisher 1999).

The reports (HTML, Excel, CSV, figures) are in :mod:`cluster_abm.reports.decision_report`.
"""
