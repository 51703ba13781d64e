"""The audit's memory behind one `Store` interface: stored answers and judgements, runs, findings, accounts."""
