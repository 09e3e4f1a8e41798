"""Policies: the lever catalogue (one lever per seed 3.7 action, :mod:`~cluster_abm.policy.levers`) and
the levers' state at run time: targeting, intensities and budgets (:mod:`~cluster_abm.policy.lever_state`)."""
