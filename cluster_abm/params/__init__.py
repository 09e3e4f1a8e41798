"""The parameter registry: every constant of a rule declared once, with default, bounds, unit and
per-year conversion (:mod:`cluster_abm.params.registry`)."""
