"""Numeric helpers the rules share, in plain numpy: keyed random draws (common random numbers per
firm, :mod:`.keyed_random`), unbiased rounding to whole numbers (:mod:`.rounding`) and ranks and
top items within groups (:mod:`.grouping`). Each is pinned by ``tests/test_numerics.py`` against
its textbook or plain form.

Speed tricks that re-implement numpy to the bit are kept only where they save more than about 5 %
of a run (DESIGN 2.4b); none does at present (measurements: ``benchmarks/PERFORMANCE.md``). One
that earns its place goes here, in a module of its own, with a docstring naming the plain numpy
expression it stands in for and a test pinning it to that expression."""
