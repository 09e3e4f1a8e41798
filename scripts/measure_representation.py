"""What one model firm stands for, region by region (the README's table, issue 16).

Builds the baseline (spun up) for ``--seeds`` seeds at ``--firms`` model firms and prints a
Markdown table: model firms at policy year 0, real enterprises per model firm (mean over model
firms, and its range over seeds), the persons one model person stands for over its firm's weight
(``employment_scale``: the calibration on published persons employed; 1 would mean the model's
firm sizes within each size class are the real ones) and the published persons employed::

    .venv/bin/python scripts/measure_representation.py --seeds 5
"""

from __future__ import annotations

import argparse

import numpy as np

from cluster_abm.model.cluster_model import ClusterModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--firms", type=int, default=2000, help="sim.n_firms of the built world")
    args = ap.parse_args()
    rows = []
    for seed in range(1, args.seeds + 1):
        m = ClusterModel("baseline", seed=seed, params={"sim.n_firms": args.firms})
        reg = m.firms.region[m.firms.idx]
        rows.append((np.bincount(reg, minlength=m.world.n_regions), m.region_weight, m.employment_scale))
    firms, weight, scale = (np.array(x) for x in zip(*rows, strict=True))
    published = m.world.region_field("persons_employed")
    print("| region | model firms at year 0 | real enterprises per model firm (range over seeds) "
          "| real persons per model person, over its firm's weight (range) | persons employed (data) |")
    print("|---|---:|---:|---:|---:|")
    for r, region in enumerate(m.world.regions):
        print(f"| {region.name} | {firms[:, r].mean():,.0f} | {weight[:, r].mean():,.0f} "
              f"({weight[:, r].min():,.0f}-{weight[:, r].max():,.0f}) | {scale[:, r].mean():.2f} "
              f"({scale[:, r].min():.2f}-{scale[:, r].max():.2f}) | {published[r]:,.0f} |")
    print(f"\n(baseline, {args.firms:,} built model firms, seeds 1-{args.seeds}, policy year 0)")


if __name__ == "__main__":
    main()
