"""Outputs: the per-step series by region and the scalar KPIs computed from them, each documented in
``docs/outputs.md``."""
