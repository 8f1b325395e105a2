"""Foundation benchmarks: `python -m pytest tests/bench -s -q` (never in the default run)."""
