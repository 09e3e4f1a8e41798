"""Contracts of the sensitivity pipeline: validation, seeding, design layout, convergence, series."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from SALib.sample import sobol as salib_sobol

from cluster_abm.analysis.sensitivity import (
    SAProblem,
    analyze,
    analyze_series,
    convergence,
    evaluate,
    n_runs,
    replicate_rng,
    replicate_seed_sequence,
    run_function,
    run_vectorized,
    sample,
)


def linear(X, rng=None):
    """y = 1*x1 + 2*x2 + 0*x3 on U(0, 1): additive, analytic S1 = ST = (1, 4, 0) / 5."""
    return X[:, 0] + 2 * X[:, 1]


@pytest.fixture
def problem():
    return SAProblem(["a", "b", "c"], [(0, 1), (0, 1), (0, 1)])


def _message(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg, msg  # one line
    return msg


# --- bad input ---------------------------------------------------------------------------


def test_sobol_n_not_power_of_two(problem):
    with pytest.raises(ValueError) as e:
        sample(problem, "sobol", 300, seed=0)
    assert _message(e) == "Sobol N must be a power of two, got 300 (try 256 or 512)"


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(names=["a", "b"], bounds=[(0, 1), (2, 2)]), "'b'"),
        (dict(names=["a", "b"], bounds=[(0, 1), (3, 2)]), "low < high"),
        (dict(names=["a", "a"], bounds=[(0, 1), (0, 1)]), "duplicated parameter names: a"),
        (dict(names=["a", "b"], bounds=[(0, 1)]), "got 1 bounds for 2 names"),
        (dict(names=["a", "b"], bounds=[(0, 1)] * 2, groups=["g"]), "got 1 groups for 2 names"),
        (dict(names=["a"], bounds=[(0, 1)], dists=["uniform"]), "unknown distribution"),
        (dict(names=["a"], bounds=[(1, 0)], dists=["norm"]), "standard deviation > 0"),
        (dict(names=["a"], bounds=[(0, 1, 2)]), "need 2 numbers"),
        (dict(names=["a"], bounds=[(0, math.inf)]), "finite"),
    ],
)
def test_problem_validation(kwargs, needle):
    with pytest.raises(ValueError) as e:
        SAProblem(**kwargs)
    assert needle in _message(e)


def test_normal_bounds_are_mean_and_sd_not_low_high():
    # (5, 1) is a valid N(5, 1) although "low" > "high"
    p = SAProblem(["a", "b"], [(5, 1), (0, 1)], dists=["norm", "unif"])
    X = sample(p, "pawn", 2000, seed=0)
    assert abs(X[:, 0].mean() - 5) < 0.1 and abs(X[:, 0].std() - 1) < 0.1


@pytest.mark.parametrize("bad", ["sobolev", "fast", None])
def test_unknown_method(problem, bad):
    for call in (
        lambda: sample(problem, bad, 8, seed=0),
        lambda: analyze(problem, bad, np.zeros((8, 3)), np.zeros(8), 0),
        lambda: run_vectorized(linear, problem, bad, 8),
    ):
        with pytest.raises(ValueError) as e:
            call()
        assert "unknown method" in _message(e) and "sobol" in str(e.value)


def test_analyze_rejects_mismatched_inputs(problem):
    X = sample(problem, "sobol", 16, seed=0)
    y = linear(X)
    with pytest.raises(ValueError) as e:
        analyze(problem, "sobol", X, y[:-1], 0)
    assert "rows" in _message(e)
    with pytest.raises(ValueError) as e:
        analyze(problem, "sobol", X, np.where(np.arange(len(y)) == 3, np.nan, y), 0)
    assert "non-finite" in _message(e)
    with pytest.raises(ValueError) as e:  # sampled with second order, analysed without
        analyze(problem, "sobol", X, y, 0, calc_second_order=False)
    assert "Saltelli" in _message(e) or "block size" in str(e.value)
    with pytest.raises(ValueError) as e:  # rows shuffled: SALib would silently accept this
        perm = np.random.default_rng(0).permutation(len(y))
        analyze(problem, "sobol", X[perm], y[perm], 0)
    assert "Saltelli" in _message(e)
    with pytest.raises(ValueError) as e:
        analyze(problem, "sobol", X, y, 0, conf_level=95)
    assert "conf_level" in _message(e)
    Xm = sample(problem, "morris", 10, seed=0)
    with pytest.raises(ValueError) as e:  # trajectories misaligned by one row
        analyze(problem, "morris", np.roll(Xm, 1, axis=0), np.roll(linear(Xm), 1), 0)
    assert "Morris design" in _message(e)


# --- seeding and determinism ---------------------------------------------------------------


@pytest.mark.parametrize("method,n", [("sobol", 64), ("morris", 20), ("pawn", 200)])
def test_same_seed_identical_different_seed_different(problem, method, n):
    def noisy(X, rng):
        return linear(X) + 0.1 * rng.standard_normal(len(X))

    r1 = run_vectorized(noisy, problem, method, n, replicates=2, seed=7, num_resamples=20)["y"]
    r2 = run_vectorized(noisy, problem, method, n, replicates=2, seed=7, num_resamples=20)["y"]
    pd.testing.assert_frame_equal(r1.indices, r2.indices)
    assert not np.array_equal(sample(problem, method, n, 7), sample(problem, method, n, 8))
    r3 = run_vectorized(noisy, problem, method, n, replicates=2, seed=8, num_resamples=20)["y"]
    assert not r1.indices.equals(r3.indices)


def test_seed_zero_is_deterministic(problem):
    # SALib's analysers treat seed=0 as "unseeded"; the wrapper must not
    X = sample(problem, "sobol", 32, seed=0)
    y = linear(X)
    a = analyze(problem, "sobol", X, y, 0).indices
    b = analyze(problem, "sobol", X, y, 0).indices
    pd.testing.assert_frame_equal(a, b)


def test_replicate_streams_follow_spawn_tree():
    root = np.random.SeedSequence(11)
    via_spawn = root.spawn(4)[3].spawn(3)[2]
    direct = replicate_seed_sequence(11, 3, 2)
    assert np.array_equal(via_spawn.generate_state(4), direct.generate_state(4))
    assert replicate_rng(11, 3, 2).random() == replicate_rng(11, 3, 2).random()
    assert replicate_rng(11, 3, 2).random() != replicate_rng(11, 2, 3).random()


def test_run_function_reproducible_per_run_and_multi_output(problem):
    calls = []

    def model(params, rng):
        calls.append(rng.random())
        return {"sum": params["a"] + 2 * params["b"] + rng.normal(0, 0.1), "b": params["b"]}

    res = run_function(model, problem, "sobol", 128, replicates=3, seed=5, num_resamples=20)
    assert set(res) == {"sum", "b"}
    assert len(calls) == n_runs(problem, "sobol", 128) * 3
    # run 2 at point 7 drew exactly what its own keyed generator draws
    X = sample(problem, "sobol", 128, seed=5)
    assert calls[7 * 3 + 2] == replicate_rng(5, 7, 2).random()
    # output "b" is x2 itself: all of its variance is b's
    b = res["b"].indices.set_index("param")
    assert b.loc["b", "S1"] == pytest.approx(1.0, abs=0.1)
    assert b.loc["b", "ST"] == pytest.approx(1.0, abs=0.1)
    # re-evaluating gives identical outputs
    out = evaluate(model, problem, X, replicates=3, seed=5)
    again = evaluate(model, problem, X, replicates=3, seed=5)
    np.testing.assert_array_equal(out["sum"], again["sum"])


def test_inconsistent_outputs_rejected(problem):
    def model(params, rng):
        return {"y": 1.0} if params["a"] < 0.5 else {"z": 1.0}

    with pytest.raises(ValueError) as e:
        run_function(model, problem, "sobol", 8)
    assert "expected" in _message(e)


def test_analysis_leaves_global_state_alone(problem):
    X = sample(problem, "delta", 200, seed=0)
    y = linear(X)
    before = np.random.get_state()[1].copy()
    fmt = warnings.formatwarning
    filters = list(warnings.filters)
    for method in ("pawn", "delta"):
        analyze(problem, method, X, y, 3, num_resamples=5)
    assert np.array_equal(np.random.get_state()[1], before)
    assert warnings.formatwarning is fmt
    assert warnings.filters == filters


# --- design layout, convergence and time series ---------------------------------------------


def test_sobol_truncation_is_the_smaller_salib_design(problem):
    big = sample(problem, "sobol", 64, seed=3)
    block = 2 * problem.num_vars + 2
    for k in (8, 16, 32):
        small = salib_sobol.sample(problem.to_salib(), k, calc_second_order=True, seed=3)
        np.testing.assert_array_equal(big[: k * block], small)


def test_morris_truncation_keeps_whole_trajectories(problem):
    big = sample(problem, "morris", 12, seed=3)
    np.testing.assert_array_equal(big[: 6 * 4], sample(problem, "morris", 6, seed=3))


@pytest.mark.parametrize("method,n", [("sobol", 512), ("morris", 64), ("pawn", 800)])
def test_convergence_table(problem, method, n):
    X = sample(problem, method, n, seed=1)
    df = convergence(problem, method, X, linear(X), seed=1, num_resamples=20)
    assert list(df.columns) == ["n", "n_runs", "param", "index", "value", "conf"]
    ns = sorted(df["n"].unique())
    assert ns == [n // 8, n // 4, n // 2, n]
    full = analyze(problem, method, X, linear(X), 1, num_resamples=20).long()
    last = df[df["n"] == n].drop(columns=["n", "n_runs"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(last, full)
    if method == "sobol":
        st = df[(df["index"] == "ST") & (df["param"] == "b")].set_index("n")
        assert st.loc[n, "conf"] < st.loc[n // 8, "conf"]  # CIs shrink with N
        assert st.loc[n, "value"] == pytest.approx(0.8, abs=0.05)  # analytic 4/5


def test_convergence_rejects_too_small_fraction(problem):
    X = sample(problem, "sobol", 8, seed=0)
    with pytest.raises(ValueError) as e:
        convergence(problem, "sobol", X, linear(X), 0, fractions=(1 / 8, 1))
    assert "needs >= 2" in _message(e)


def test_analyze_series_tracks_shifting_importance(problem):
    X = sample(problem, "sobol", 256, seed=2)
    weights = np.linspace(0, 1, 5)  # importance moves from a to b over time
    Yt = np.stack([(1 - w) * X[:, 0] + w * X[:, 1] for w in weights], axis=1)[:, None, :]
    Yt = np.concatenate([np.zeros((len(X), 1, 1)), Yt], axis=2)  # t0: nothing has happened
    df = analyze_series(problem, "sobol", X, Yt, 2, times=[0, 1, 2, 3, 4, 5], num_resamples=20)
    assert {"time", "param", "index", "value", "conf", "noise_share"} <= set(df.columns)
    s1 = df[df["index"] == "S1"].pivot(index="time", columns="param", values="value")
    assert s1.loc[0].isna().all()  # constant output: undefined, not an error
    for t, w in zip(range(1, 6), weights, strict=True):
        # uniform inputs: S1_a = (1 - w)^2 / ((1 - w)^2 + w^2)
        assert s1.loc[t, "a"] == pytest.approx((1 - w) ** 2 / ((1 - w) ** 2 + w**2), abs=0.05)
        assert s1.loc[t, "c"] == pytest.approx(0.0, abs=0.05)


def test_groups_report_one_row_per_group():
    p = SAProblem(["a", "b", "c"], [(0, 1)] * 3, groups=["ab", "ab", "c"])
    X = sample(p, "sobol", 256, seed=0)
    assert X.shape == (256 * (2 * 2 + 2), 3)
    res = analyze(p, "sobol", X, linear(X), 0)
    df = res.indices.set_index("param")
    assert list(df.index) == ["ab", "c"]
    assert df.loc["ab", "ST"] == pytest.approx(1.0, abs=0.05)
    assert df.loc["c", "ST"] == pytest.approx(0.0, abs=0.01)


def test_morris_rejects_unbounded_distributions():
    p = SAProblem(["a", "b"], [(0, 1), (5, 1)], dists=["unif", "norm"])
    with pytest.raises(ValueError) as e:
        sample(p, "morris", 4, seed=0)
    assert "infinite for b" in _message(e)
    assert sample(p, "sobol", 8, seed=0).shape == (8 * 6, 2)  # fine for the other methods


def test_problem_round_trips_through_salib_dict():
    p = SAProblem(["a", "b"], [(0, 1), (0, 2, 0.5)], dists=["unif", "triang"], groups=["g", "h"])
    d = p.to_salib()
    assert d == {
        "num_vars": 2,
        "names": ["a", "b"],
        "bounds": [[0.0, 1.0], [0.0, 2.0, 0.5]],
        "dists": ["unif", "triang"],
        "groups": ["g", "h"],
    }
    assert SAProblem.from_salib(d) == p
    d["bounds"][0][1] = 99.0  # a fresh dict each time: SALib mutates what it is given
    assert p.to_salib()["bounds"][0] == [0.0, 1.0]
