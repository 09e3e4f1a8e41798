"""Mechanisms: functions over the firm table, one module per family, each citing its seed section.

Every function takes the model and acts on all firms at once (numpy masks and gathers). A
function that uses what an earlier phase of the same step computed, or computes something for a
later one, also takes the step state (``step``, a :class:`cluster_abm.model.step_state.StepState`)
and says in its docstring which fields it reads and writes. They read parameters from ``model.p``
(per-step values, see :mod:`cluster_abm.params.registry`) and levers from ``model.policy``
(``level`` for who a lever reaches, ``grant`` to pay for it within its budget), draw randomness
only from the model — keyed per-firm draws (``model.uniform``/``model.normal``) or the
per-family generators ``model.rngs`` (see :mod:`cluster_abm.numerics.keyed_random`) — and record
flows in ``model.ledger``.
"""
