"""The manifest language: YAML with positions, matchers, loading and checking."""
