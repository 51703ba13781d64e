"""Shared by every stage: exit statuses and user errors, job types, findings, files, JSON, time, the schema files."""
