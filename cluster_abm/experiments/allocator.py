"""Keep the model's step-sized numpy buffers in the heap (glibc ``malloc`` tuning), in the
runner's worker processes.

Why: every step allocates and frees the same arrays of a few hundred kB (ties x knowledge fields,
firms x fields). glibc serves blocks above its mmap threshold (128 kB at start) with fresh pages
from ``mmap`` and unmaps them on ``free``, so every step pays page faults for the same buffers
again. Raising the mmap threshold (32 MB, glibc's maximum), the trim threshold (256 MB) and the
top pad (16 MB) lets freed buffers be reused from the heap. Only where memory comes from changes,
never a number (figures: ``benchmarks/PERFORMANCE.md``).

It is a setting of the whole process, so building a model never applies it. The worker processes
of the ``processes`` and ``dask`` executors apply it once when they start work
(``make_executor(..., malloc_tuning=True)``, the default; ``run_experiment(...,
malloc_tuning=False)`` turns it off); serial runs leave the caller's process as it is. Anyone
else who runs many models in a process of their own may call :func:`tune_allocator` once.
Linux with glibc only; elsewhere, or with ``CLUSTER_ABM_MALLOC_TUNING=0`` in the environment,
nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt parameters (glibc malloc.h)
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
SETTINGS = {_M_MMAP_THRESHOLD: 32 << 20, _M_TRIM_THRESHOLD: 256 << 20, _M_TOP_PAD: 16 << 20}

_done: bool | None = None  # None: not asked for in this process yet


def tune_allocator() -> bool:
    """Apply :data:`SETTINGS` once per process; returns whether they are in force."""
    global _done
    if _done is None:
        _done = False
        if sys.platform.startswith("linux") and os.environ.get("CLUSTER_ABM_MALLOC_TUNING", "1") != "0":
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _done = all(libc.mallopt(param, value) == 1 for param, value in SETTINGS.items())
            except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
                _done = False
    return _done


def allocator_tuned() -> bool | None:
    """Whether :func:`tune_allocator` has run in this process: None if never asked for, else
    whether the settings are in force."""
    return _done
