"""Calibration by the simulated method of moments: the calibration file, the evaluation of parameter
vectors, the fit and its report."""
