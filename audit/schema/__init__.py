"""JSON Schemas of GetJobDetail: loading the data files and validating responses."""
