"""The plan as a value: what a run will ask and reuse, per provider, and what it costs at each limit."""
