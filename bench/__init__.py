"""Benchmarks of vod-audit: speed against the API limit, local cost, scale (`make bench`)."""
