"""Input files: scenario files (world tables, parameters and levers) and their validation."""
