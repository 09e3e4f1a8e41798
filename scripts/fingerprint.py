"""One hash of the model's outputs, to check that a refactoring or speed-up changed no number.

``python scripts/fingerprint.py`` runs ``baseline`` and ``full_strategy`` (seeds 1 and 2, 6 years)
and prints a SHA-256 of their time series, KPIs and firm tables. Run it before and after a change
that should not alter results: the two hashes must be equal. (A change that is meant to alter
results changes the hash; stored studies and calibrations then need re-running.)
"""

from __future__ import annotations

import hashlib

import pandas as pd

from cluster_abm.model.simulate import simulate


def fingerprint(scenarios=("baseline", "full_strategy"), seeds=(1, 2), years: float = 6) -> str:
    h = hashlib.sha256()
    for scenario in scenarios:
        for seed in seeds:
            r = simulate(scenario, seed, years, firm_data=True)
            h.update(pd.util.hash_pandas_object(r.timeseries, index=False).values.tobytes())
            h.update(repr(sorted(r.kpis.items())).encode())
            h.update(pd.util.hash_pandas_object(r.firms, index=False).values.tobytes())
    return h.hexdigest()


if __name__ == "__main__":
    print(fingerprint())
