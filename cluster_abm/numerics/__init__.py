"""Numeric helpers the rules share: keyed random draws (common random numbers per firm) and
grouped orderings, ranks and medians over numpy arrays."""
