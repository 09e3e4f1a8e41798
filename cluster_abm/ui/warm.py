"""Warm starts for the workshop app: the spun-up worlds of its runs, ready in the model's cache.

Every model first runs through a 50-year spin-up (``sim.spinup_years``) before policy year 0;
the model keeps each spun-up world in its cache of snapshots (``ClusterModel(...,
spinup_cache=...)``, default ``$CLUSTER_ABM_SPINUP_CACHE`` or ``~/.cache/cluster_abm/spinup``)
and later models of the same world and seed restore it, identical to the bit (DESIGN 2.1). The
app's default set-up needs 8 worlds (seeds 1-8 of the baseline; policy and baseline share them,
since they differ only in levers): spinning them up costs several times what restoring the 16
models does (figures in ``benchmarks/PERFORMANCE.md``).

``python -m cluster_abm.ui.warm`` (run by ``make ui-assets``) spins up the worlds of the app's
default set-up that are missing from the cache ahead of time, in worker processes (one per CPU,
:func:`prepare`), so the first page renders from a warm cache. ``cluster-abm ui`` says so when
they are missing (:func:`cold_note`). The app does not spin up in parallel itself: on a busy
machine parallel workers gained nothing (``benchmarks/PERFORMANCE.md``), and a workshop machine
that is idle is the one that ran ``make ui-assets``.

Snapshots are keyed by the model's code (:func:`cluster_abm.model.snapshot.spinup_key`), so one
shipped with the package would be stale after any change of the model (and the 8 weigh tens of
MB): they are built on the machine instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from cluster_abm.specs.scenario import Scenario

log = logging.getLogger(__name__)

WORKER_TIMEOUT_S = 600.0  # a worker spinning up a few worlds; beyond this something is wrong


DEFAULT = object()  # the model's own cache (``ClusterModel``'s default): read when used


def _folder(cache) -> Path | None:
    """The cache folder ``ClusterModel(..., spinup_cache=cache)`` uses (None: no cache)."""
    from cluster_abm.model.cluster_model import DEFAULT_CACHE, spinup_cache_folder

    return spinup_cache_folder(DEFAULT_CACHE if cache is DEFAULT else cache)


def missing(scenario: Scenario, seeds, cache: str | Path | None | object = DEFAULT) -> list[int]:
    """The seeds whose spun-up world of ``scenario`` is not in the cache (default: the model's;
    none without a cache or without a spin-up)."""
    from cluster_abm.model import snapshot

    folder = _folder(cache)
    if folder is None or int(scenario.param("sim.spinup_years")) == 0:
        return []
    return [int(s) for s in seeds
            if not snapshot.snapshot_paths(folder / snapshot.spinup_key(scenario, int(s)))[0].is_file()]


def _package_root() -> str:
    import cluster_abm

    return str(Path(cluster_abm.__file__).resolve().parents[1])


def prepare(scenario: Scenario, seeds, cache: str | Path | None | object = DEFAULT,
            jobs: int | None = None) -> list[int]:
    """Spin up the worlds of ``seeds`` missing from the cache, in up to ``jobs`` worker
    processes at once (default: the machine's CPUs); returns the seeds spun up.

    With fewer than two worlds missing, or one job, it does nothing: the models spin up
    themselves when built (the same work, in this process). A worker that fails costs only
    time: its models spin up themselves too.
    """
    todo = missing(scenario, seeds, cache)
    jobs = (os.cpu_count() or 1) if jobs is None else int(jobs)
    jobs = min(jobs, len(todo))
    if jobs < 2:
        return []
    folder = _folder(cache)
    data = pickle.dumps(scenario)
    env = dict(os.environ)
    # the workers import this very package (the cache key includes its code)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH", "")) if p)
    workers = []
    for k in range(jobs):
        part = todo[k::jobs]
        cmd = [sys.executable, "-m", "cluster_abm.ui.warm", "--worker", "--cache", str(folder),
               "--seed-list", ",".join(map(str, part))]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env)
        workers.append(proc)
    for proc in workers:
        try:
            _, err = proc.communicate(data, timeout=WORKER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if proc.returncode != 0:
            log.warning("warm start: a worker failed (%s); its worlds spin up when built: %s",
                        proc.returncode, (err or b"").decode(errors="replace")[-500:])
    left = set(missing(scenario, todo, cache))
    return [s for s in todo if s not in left]


def _worker(folder: str, seeds: list[int]) -> int:
    from cluster_abm.model.cluster_model import ClusterModel

    scenario = pickle.loads(sys.stdin.buffer.read())
    for seed in seeds:
        ClusterModel(scenario, seed=seed, spinup_cache=folder)  # spins up and saves the snapshot
    return 0


def cold_note() -> str | None:
    """A line for ``cluster-abm ui`` when the app's default worlds are not in the cache (the
    first page then spins them up), else None."""
    try:
        scenario, seeds = default_setup()
        todo = missing(scenario, seeds)
    except Exception:  # noqa: BLE001 - a hint only: never in the way of serving
        return None
    if not todo:
        return None
    return (f"note: {len(todo)} of the app's {len(seeds)} default worlds are not spun up yet, so "
            "the first page takes longer; `python -m cluster_abm.ui.warm` (or `make ui-assets`) "
            "once prepares them")


def note_when_serving(host: str, port: int, timeout: float = 60.0) -> threading.Thread:
    """Print :func:`cold_note` (if any) once the server at ``host:port`` accepts connections:
    in a daemon thread, so that reading the model's code never delays the server's start (a
    restart must serve within seconds)."""

    def run() -> None:
        deadline = time.monotonic() + timeout
        target = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((target, port), timeout=1.0):
                    break
            except OSError:
                time.sleep(0.25)
        else:
            return
        note = cold_note()
        if note is not None:
            print(note, file=sys.stderr, flush=True)

    thread = threading.Thread(target=run, name="cluster-abm-warm-note", daemon=True)
    thread.start()
    return thread


def default_setup() -> tuple[Scenario, list[int]]:
    """The scenario and seeds the app starts with (its default settings)."""
    from cluster_abm.ui.controls import Settings, build_run_scenarios

    settings = Settings()
    policy, _ = build_run_scenarios(settings)
    return policy, settings.seed_list()


def main(argv: list[str] | None = None) -> int:
    """``python -m cluster_abm.ui.warm``: spin up the app's default worlds into the cache."""
    ap = argparse.ArgumentParser(prog="python -m cluster_abm.ui.warm",
                                 description="Spin up the workshop app's default worlds into the "
                                             "model's spin-up cache, so the app starts warm.")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPUs)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cache", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--seed-list", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return _worker(args.cache, [int(s) for s in args.seed_list.split(",") if s])
    from cluster_abm.model.cluster_model import ClusterModel

    folder = _folder(DEFAULT)
    if folder is None:
        print("the spin-up cache is off (CLUSTER_ABM_SPINUP_CACHE): nothing to prepare")
        return 0
    scenario, seeds = default_setup()
    todo = missing(scenario, seeds)
    if not todo:
        print(f"the app's {len(seeds)} worlds are spun up already ({folder})")
        return 0
    t0 = time.perf_counter()
    done = prepare(scenario, seeds, jobs=args.jobs)
    for seed in missing(scenario, seeds):  # what a worker left (or a single job): here
        ClusterModel(scenario, seed=seed)
    print(f"spun up {len(todo)} of the app's {len(seeds)} worlds in "
          f"{time.perf_counter() - t0:.1f} s ({len(done)} in worker processes) into {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
