"""Mechanisms: functions over the firm table, one module per family, each citing its seed section.

Every function takes the model and acts on all firms at once (numpy masks and gathers). They read
parameters from ``model.p`` (per-step values, see :mod:`cluster_abm.params.registry`), draw randomness
only from the model — keyed per-firm draws (``model.uniform``/``model.normal``) or the
per-family generators ``model.rngs`` (see :mod:`cluster_abm.numerics.keyed_random`) — and record flows in
``model.ledger``.
"""
