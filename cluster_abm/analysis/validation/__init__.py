"""Validation: target statistics measured on runs, and the stylized facts checked over many seeds."""
