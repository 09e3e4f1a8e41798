"""Analyses over many runs: sensitivity (SALib), calibration (Optuna), validation against stylized
facts, and replay of stored runs."""
