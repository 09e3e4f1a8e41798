"""Shared fixtures: cached baseline runs so several tests can read one simulation."""

from __future__ import annotations

import functools

import pytest

from cluster_abm.model.cluster_model import ClusterModel


@functools.lru_cache(maxsize=32)
def _baseline_run(seed: int, years: float) -> ClusterModel:
    return ClusterModel("baseline", seed=seed).run(years)


@pytest.fixture(scope="session")
def baseline_run():
    """``baseline_run(seed, years)`` -> a finished baseline ClusterModel (cached, do not mutate)."""
    return _baseline_run
