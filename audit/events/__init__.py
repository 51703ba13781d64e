"""Events as they happen: VOD's signed HTTP callbacks received and kept where `jobs_from: events` reads."""
