"""Shared fixtures: cached baseline runs so several tests can read one simulation."""

from __future__ import annotations

import functools
import os
import tempfile

import pytest

# Spun-up worlds are cached per (world, seed, code) for the whole session (subprocesses inherit
# the variable), in a folder of its own so a test run never reads or fills the user's cache.
os.environ.setdefault("CLUSTER_ABM_SPINUP_CACHE", tempfile.mkdtemp(prefix="cluster_abm_spinup_"))

from cluster_abm.model.cluster_model import ClusterModel


@functools.lru_cache(maxsize=32)
def _baseline_run(seed: int, years: float) -> ClusterModel:
    return ClusterModel("baseline", seed=seed).run(years)


@pytest.fixture(scope="session")
def baseline_run():
    """``baseline_run(seed, years)`` -> a finished baseline ClusterModel (cached, do not mutate)."""
    return _baseline_run
