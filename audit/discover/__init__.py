"""Job discovery: the service asked which media and jobs exist (SearchMedia, ListJobInfo) before a run."""
