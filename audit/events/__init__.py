"""Events as they happen: VOD's callbacks and queue messages, kept where `jobs_from: events` reads."""
