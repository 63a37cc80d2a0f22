"""Observability: per-environment log streams, Lambda's platform log lines, and reading logs back."""
