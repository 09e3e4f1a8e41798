"""Model-agnostic global sensitivity analysis (GSA) for cluster_abm, built on SALib.

Pipeline: describe the inputs (:class:`SAProblem`) → draw a design (:func:`sample`) → run the
model, R replicates per design point (:func:`evaluate`, or the experiment runner) → compute
indices on replicate means with a noise diagnosis (:func:`analyze`) → check stability
(:func:`convergence`, :func:`analyze_series`) → figures and an HTML report
(:mod:`.plots`, :func:`write_report`). :func:`run_function` / :func:`run_vectorized` do the
whole loop for a Python function ``func(params, rng)`` / ``func(X, rng)``.

Methods (estimators are SALib's, not re-implemented here):

* ``sobol``: variance-based first, total and second-order indices from a scrambled Sobol'
  design in Saltelli's scheme (Saltelli et al. 2010).
* ``morris``: elementary-effects screening, mu* and sigma (Morris 1991; Campolongo et al. 2007).
* ``pawn``: CDF-based, moment-independent index (Pianosi & Wagener 2015) on a Latin hypercube;
  its CI comes from a seeded bootstrap over rows done here.
* ``delta``: moment-independent delta index with bias reduction (Plischke et al. 2013).

References
----------
Herman, J., Usher, W. (2017). SALib: An open-source Python library for sensitivity analysis.
    Journal of Open Source Software 2(9), 97. doi:10.21105/joss.00097
Iwanaga, T., Usher, W., Herman, J. (2022). Toward SALib 2.0: Advancing the accessibility and
    interpretability of global sensitivity analyses. Socio-Environmental Systems Modelling 4,
    18155. doi:10.18174/sesmo.18155
Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S. (2010).
    Variance based sensitivity analysis of model output. Design and estimator for the total
    sensitivity index. Computer Physics Communications 181(2), 259-270.
Morris, M. D. (1991). Factorial sampling plans for preliminary computational experiments.
    Technometrics 33(2), 161-174.
Campolongo, F., Cariboni, J., Saltelli, A. (2007). An effective screening design for
    sensitivity analysis of large models. Environmental Modelling & Software 22, 1509-1518.
Pianosi, F., Wagener, T. (2015). A simple and efficient method for global sensitivity analysis
    based on cumulative distribution functions. Environmental Modelling & Software 67, 1-11.
Plischke, E., Borgonovo, E., Smith, C. L. (2013). Global sensitivity measures from given data.
    European Journal of Operational Research 226(3), 536-550.

Randomness: one integer ``seed`` reproduces design, replicates and bootstraps; the global numpy
RNG is never used, and SALib's own use of it is isolated (see :mod:`.seeding`).
"""

from cluster_abm.analysis.sensitivity.convergence import analyze_series, convergence
from cluster_abm.analysis.sensitivity.evaluate import (
    evaluate,
    evaluate_vectorized,
    run_function,
    run_vectorized,
)
from cluster_abm.analysis.sensitivity.methods import analyze
from cluster_abm.analysis.sensitivity.noise import noise_summary
from cluster_abm.analysis.sensitivity.problem import DISTRIBUTIONS, SAProblem
from cluster_abm.analysis.sensitivity.sa_plots import (
    plot_convergence,
    plot_indices,
    plot_morris,
    plot_second_order,
    plot_series,
    standard_figures,
)
from cluster_abm.analysis.sensitivity.sa_report import indices_table, write_report
from cluster_abm.analysis.sensitivity.sa_results import DEFAULT_THRESHOLDS, SAResult, Thresholds
from cluster_abm.analysis.sensitivity.sampling import METHODS, n_runs, sample
from cluster_abm.analysis.sensitivity.seeding import (
    replicate_rng,
    replicate_seed,
    replicate_seed_sequence,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "DISTRIBUTIONS",
    "METHODS",
    "SAProblem",
    "SAResult",
    "Thresholds",
    "analyze",
    "analyze_series",
    "convergence",
    "evaluate",
    "evaluate_vectorized",
    "indices_table",
    "n_runs",
    "noise_summary",
    "plot_convergence",
    "plot_indices",
    "plot_morris",
    "plot_second_order",
    "plot_series",
    "replicate_rng",
    "replicate_seed",
    "replicate_seed_sequence",
    "run_function",
    "run_vectorized",
    "sample",
    "standard_figures",
    "write_report",
]
