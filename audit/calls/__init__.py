"""Call throughput: connections per provider, rate limiters per account and operation, retries, reach, the pool, lanes."""
