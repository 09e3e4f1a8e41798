"""The model: :class:`~cluster_abm.model.cluster_model.ClusterModel` builds the world from a scenario and runs the
step schedule; :mod:`~cluster_abm.model.simulate` runs one scenario with one seed into tidy results."""
