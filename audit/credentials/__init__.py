"""Credentials: the official chain's sources in order, STS, and renewal of temporary keys while a run goes on."""
