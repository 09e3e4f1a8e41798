"""Experiments: experiment files, seeds (common random numbers), the runner and its executors
(serial, processes, Dask), the result store and the results API."""
