"""Prometheus metrics of a run: what operations already watch (the textfile collector, the Pushgateway)."""
