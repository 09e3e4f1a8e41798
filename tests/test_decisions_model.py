"""The budget frontier on the model (issue 18), at a reduced size: a frontier package is never
dominated by a hand-written package of the same cost in a paired comparison.

A programme of fixed money (3 M€ over three years in North-East Romania) is shared between two
levers; the search decides the shares, trading jobs in the region against its skilled
emigrants. The hand-written package splits the same money evenly. Every package runs on the
same replicate seeds (common random numbers), so the comparison is paired: the hand-written
package *dominates* a frontier package when it is better on every objective with the paired
95 % t-interval of the difference excluding zero. No frontier package may be dominated.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cluster_abm.analysis.decisions.decision_spec import frontier_spec_from_dict
from cluster_abm.analysis.decisions.frontier import (
    REFERENCE,
    decode,
    directed,
    open_search,
    pareto_trials,
    run_search,
    run_tasks,
    summarise,
    tasks_for,
)

pytestmark = pytest.mark.slow

SEARCH = {
    "name": "paired_frontier", "base": "baseline", "replicates": 6, "trials": 16, "years": 4,
    "seed": 11, "params": {"sim.n_firms": 600, "sim.spinup_years": 3},
    "programme": {"budget_keur": 3000.0, "years": 3, "regions": ["north_east_romania"],
                  "split": "shares"},
    "levers": {"employment_incentives": {"regions": ["north_east_romania"]},
               "graduate_first_jobs": {"regions": ["north_east_romania"]}},
    "objectives": {"jobs": {"series": "employment_real", "region": "north_east_romania",
                            "direction": "max"},
                   "emigrants": {"series": "skilled_emigrants_real",
                                 "region": "north_east_romania", "stat": "total",
                                 "direction": "min"}},
    "optimizer": {"sampler": "tpe", "startup_trials": 6},
    "execution": {"executor": "serial"},
}


def test_no_frontier_package_is_dominated_by_an_even_split(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTER_ABM_SPINUP_CACHE", str(tmp_path / "cache"))
    spec = frontier_spec_from_dict(SEARCH, source=str(tmp_path / "paired_frontier.toml"))
    summary = run_search(spec, results_dir=tmp_path, quiet=True)
    assert summary.completed == SEARCH["trials"]
    study, _ = open_search(spec, tmp_path, create=False)
    reference = study.user_attrs[REFERENCE]
    hand_values = {"share.employment_incentives": 0.5, "share.graduate_first_jobs": 0.5}
    hand_runs = run_tasks(tasks_for(spec, "hand", hand_values))["hand"]
    hand = summarise(spec, hand_runs, reference)["reps"]
    front = pareto_trials(study)
    assert front
    for t in front:
        package = spec.package(decode(spec, t.params))
        assert package.programme.per_year_keur == pytest.approx(1000.0)  # the same money
        mine = t.user_attrs["reps"]
        better_everywhere = True
        for o in directed(spec):
            d = o.sign * (np.asarray(hand[o.name]) - np.asarray(mine[o.name]))  # > 0: hand better
            half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
            better_everywhere &= bool(d.mean() - half > 0)
        assert not better_everywhere, (t.number, t.params, mine, hand)
