"""Benchmark of the decision commands (figures, not a test): evaluations per hour of the budget
search (``cluster-abm optimize``) and of the robustness ensemble (``cluster-abm robustness``)
on this machine.

    python benchmarks/bench_decisions.py                       # full 2,000-firm world, 8 years
    python benchmarks/bench_decisions.py --firms 600 --years 4 # a quick look

The search is the shipped example's (``experiments/frontier_ne_romania.toml``: a programme for
North-East Romania, four levers, budget, shares and timing searched) with fewer trials; the
ensemble is the shipped robustness file's factors with the even-split package and one frontier
package of the search. An *evaluation* is one simulation (one package, one replicate seed; a
trial is ``replicates`` of them, plus the reference once); spin-ups are cold (a fresh cache),
once per seed for the search and once per (world, seed) for the ensemble, as in a first run.
The load average is printed: the machine should be otherwise idle.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=2000, help="sim.n_firms (default 2000)")
    ap.add_argument("--years", type=int, default=8, help="policy years (default 8)")
    ap.add_argument("--trials", type=int, default=12, help="search trials (default 12)")
    ap.add_argument("--replicates", type=int, default=2, help="replicates (default 2)")
    ap.add_argument("--worlds", type=int, default=8, help="ensemble worlds (default 8)")
    ap.add_argument("--executor", default="processes", choices=["serial", "processes", "dask"])
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()

    import optuna

    from cluster_abm.analysis.decisions.decision_spec import frontier_spec_from_dict
    from cluster_abm.analysis.decisions.ensemble_spec import ensemble_spec_from_dict
    from cluster_abm.analysis.decisions.frontier import (
        frontier_files,
        open_search,
        run_search,
        write_frontier,
    )
    from cluster_abm.analysis.decisions.robustness import run_ensemble
    from cluster_abm.specs.toml_spec import read_toml

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"load average before: {os.getloadavg()}; cpus: {os.cpu_count()}")
    tmp = Path(tempfile.mkdtemp(prefix="bench_decisions_"))
    os.environ["CLUSTER_ABM_SPINUP_CACHE"] = str(tmp / "cache")
    exp = ROOT / "experiments"

    raw = read_toml(exp / "frontier_ne_romania.toml")
    raw.update(name="bench_frontier", trials=args.trials, replicates=args.replicates,
               years=args.years, params={"sim.n_firms": args.firms})
    spec = frontier_spec_from_dict(raw, source=str(tmp / "bench_frontier.toml"), base_dir=exp)
    t0 = time.perf_counter()
    s = run_search(spec, results_dir=tmp, executor=args.executor, workers=args.workers,
                   quiet=True)
    wall = time.perf_counter() - t0
    print(s.format().splitlines()[0])
    print(f"search: {s.simulations} evaluations ({s.completed} trials x {args.replicates} "
          f"replicates + the reference) in {wall:.1f} s on {s.executor}: "
          f"{3600 * s.simulations / wall:,.0f} evaluations per hour, "
          f"{3600 * s.completed / wall:,.0f} trials per hour "
          f"({args.firms} firms, {args.years} years)")
    study, _ = open_search(spec, tmp, create=False)
    write_frontier(spec, study, tmp)

    raw = read_toml(exp / "robustness_ne_romania.toml")
    raw.pop("frontier")
    raw.pop("discovery")
    raw.update(name="bench_robustness", worlds=args.worlds, replicates=args.replicates,
               years=args.years, params={"sim.n_firms": args.firms},
               packages=["ne_romania_programme", str(frontier_files(tmp, "bench_frontier")[0])])
    rspec = ensemble_spec_from_dict(raw, source=str(tmp / "bench_robustness.toml"),
                                    base_dir=exp, results_dir=tmp)
    t0 = time.perf_counter()
    summary, _ = run_ensemble(rspec, results_dir=tmp, executor=args.executor,
                              workers=args.workers, quiet=True)
    wall = time.perf_counter() - t0
    runs = summary.ok + len(summary.failed)
    cells = len(rspec.packages) * rspec.worlds
    print(summary.format().splitlines()[0])
    print(f"robustness: {runs} evaluations ({len(rspec.packages)} packages + the reference x "
          f"{rspec.worlds} worlds x {args.replicates} replicates) in {wall:.1f} s: "
          f"{3600 * runs / wall:,.0f} evaluations per hour, {3600 * cells / wall:,.0f} "
          f"(package, world) cells per hour")
    print(f"load average after: {os.getloadavg()}; files in {tmp}")


if __name__ == "__main__":
    main()
