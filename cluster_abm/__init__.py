"""cluster_abm: an agent-based simulator of industrial-cluster evolution under policy.

The model follows the ClusterPoliSEE "Strategy and sustainability plan" for South-East Europe
(the *seed*); every rule cites the seed section it models. Start with :class:`ClusterModel`
or :func:`run_scenario`.
"""

import os

# OpenBLAS's worker threads busy-wait for a while after each threaded call before they sleep
# (OPENBLAS_THREAD_TIMEOUT, 2^28 cycles by default), taking the cores from the model itself and
# from any other run beside it: above 10,000 living firms a threaded dot product in
# agglomeration.sharing_gain doubled a step's time under load (benchmarks/PERFORMANCE.md, perf28;
# it is now numpy's own sum, but other large array products may still call a threaded BLAS).
# The shortest timeout lets idle threads sleep at once; the threads split the same work, so every
# number stays the same. OpenBLAS reads it when numpy loads it, so it applies where
# this package is imported before numpy (the CLI, the benchmarks' runs) and in processes started
# from one that imported it (the runner's workers inherit the environment); a value set by the
# user is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

__version__ = "0.1.0"

__all__ = ["__version__", "ClusterModel", "run_scenario", "load_scenario", "save_snapshot", "load_snapshot"]


def __getattr__(name):
    # Lazy imports keep `import cluster_abm` cheap for worker processes and the CLI's --help.
    if name == "ClusterModel":
        from cluster_abm.model.cluster_model import ClusterModel

        return ClusterModel
    if name == "run_scenario":
        from cluster_abm.model.simulate import run_scenario

        return run_scenario
    if name == "load_scenario":
        from cluster_abm.specs.scenario import load_scenario

        return load_scenario
    if name == "save_snapshot":
        from cluster_abm.model.snapshot import save_snapshot

        return save_snapshot
    if name == "load_snapshot":
        from cluster_abm.model.simulate import load_snapshot

        return load_snapshot
    raise AttributeError(name)
