"""For operators: liveness and readiness, Prometheus metrics, diagnostics."""
