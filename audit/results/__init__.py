"""The record of a run: its results and parts, results.json read back, runs merged, the jobs needing action."""
