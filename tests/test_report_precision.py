"""`compare --precision OUTCOME=HALFWIDTH`: replicates are added, with the same seed sequence
(common random numbers kept, stored runs reused), until the outcomes' paired intervals are narrow
enough or `--max-replicates` is reached; progress is shown and a stopped search resumes."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cluster_abm.cli.main import main
from cluster_abm.errors import InputError
from cluster_abm.experiments import precision, seeds
from cluster_abm.experiments.results import load_results
from cluster_abm.outputs.metrics import KPIS

EXPERIMENT = """
name = "prec"
scenarios = ["baseline", "sme_networks"]
replicates = 2
seed = 11
years = 2
[params]
"sim.n_firms" = 150
"sim.spinup_years" = 1
[outputs]
series_every = 4
[execution]
executor = "serial"
"""


def test_targets_are_checked_in_one_line():
    assert precision.parse_targets(["employment_final_real=500", "survival_3y=0.02"], KPIS) == {
        "employment_final_real": 500.0, "survival_3y": 0.02}
    for bad, words in (("employment_final_real", "OUTCOME=HALFWIDTH"),
                       ("employment_final_rael=5", "did you mean 'employment_final_real'"),
                       ("employment_final_real=many", "must be a number"),
                       ("employment_final_real=-1", "above 0")):
        with pytest.raises(InputError, match=words) as info:
            precision.parse_targets([bad], KPIS)
        assert str(info.value).startswith("--precision: ")


def test_the_next_number_of_replicates_follows_the_square_root_law():
    w = precision.Width
    assert precision.next_replicates(8, [w("a", 10.0, 9.0, "x", 8)], 100) == 8  # met
    assert precision.next_replicates(8, [w("a", 10.0, 15.0, "x", 8)], 100) == 16  # 8 * 2.25 -> at most double
    assert precision.next_replicates(8, [w("a", 10.0, 11.0, "x", 8)], 100) == 10  # ceil(8 * 1.21)
    assert precision.next_replicates(8, [w("a", 10.0, 30.0, "x", 8)], 12) == 12  # capped
    assert precision.next_replicates(2, [w("a", 10.0, math.nan, "", 1)], 100) == 4


def test_replicates_grow_with_the_same_seeds_until_the_maximum(tmp_path, capsys):
    exp = tmp_path / "prec.toml"
    exp.write_text(EXPERIMENT)
    res = tmp_path / "res"
    assert main(["compare", str(exp), "--results", str(res), "--quiet"]) == 0
    before = load_results(res / "prec").kpi_table()
    capsys.readouterr()
    # a target no experiment of this size meets: replicates grow to the maximum, then stop
    code = main(["compare", str(exp), "--results", str(res), "--quiet",
                 "--precision", "ties_total_final=0.001", "--max-replicates", "5"])
    assert code == 0
    err = capsys.readouterr().err
    assert "precision after 2 replicates: ties_total_final ±" in err
    assert "precision after 4 replicates" in err and "precision after 5 replicates" in err
    after = load_results(res / "prec").kpi_table()
    assert sorted(after["replicate"].unique()) == [0, 1, 2, 3, 4]
    # common random numbers: replicate r of every package has the seed of the sequence's r
    for r, group in after.groupby("replicate"):
        assert set(group["seed"]) == {seeds.run_seed(11, seeds.CRN_KEY, r)}
    # the stored runs were reused, not re-run: their KPIs are the same to the bit
    old = after[after["replicate"] < 2].reset_index(drop=True)
    pd.testing.assert_frame_equal(before.drop(columns=["run_id"]).reset_index(drop=True),
                                  old.drop(columns=["run_id"])[before.drop(columns=["run_id"]).columns])
    html = (res / "prec" / "report" / "report.html").read_text(encoding="utf-8")
    assert "up to the maximum of 5; not every target was met" in html
    # resumable: the same command without --precision uses the grown store
    assert main(["compare", str(exp), "--results", str(res)]) == 0
    captured = capsys.readouterr()
    assert "holds 5 replicates" in captured.err and "10 already stored" in captured.out


def test_max_replicates_needs_precision(tmp_path, capsys):
    exp = tmp_path / "prec.toml"
    exp.write_text(EXPERIMENT)
    assert main(["compare", str(exp), "--results", str(tmp_path), "--max-replicates", "4"]) == 2
    assert "--max-replicates: only with --precision" in capsys.readouterr().err
