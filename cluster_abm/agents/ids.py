"""Agents' unique ids without keeping models alive.

Mesa 3.3 (the release Python 3.11 gets) numbers each model's agents from a class-level
``defaultdict`` keyed by the model (``mesa.Agent._ids``). That dict holds every model ever built,
so none is ever freed: a process that runs replications one after another (the serial executor,
a pool or Dask worker, the dashboard's resets) grows by a whole model per run, several MB (one
worker reached 8 GB over the 1,230 runs it did in the Morris screening; mesa issue #3179, fixed
from Mesa 3.4 by PR #3180, which drops ``_ids``). :class:`ModelScopedIds` gives our agents
the same per-model counters, held weakly: the ids are identical, the model is freed with its last
reference. Newer Mesa never reads ``_ids``, so the mixin is then inert.
"""

from __future__ import annotations

import itertools
import weakref


class _CountersPerModel(weakref.WeakKeyDictionary):
    """``defaultdict(functools.partial(itertools.count, 1))`` with weakly held model keys."""

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = self[model] = itertools.count(1)
            return counter


class ModelScopedIds:
    """Mixin, listed before the Mesa agent base: one id counter per model, shared by all the
    model's agent types (as Mesa's own), that does not keep the model alive."""

    _ids = _CountersPerModel()
