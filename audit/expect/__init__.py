"""Comparing a job's response with its expectation: outcomes and findings."""
