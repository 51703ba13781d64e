"""Evidence beyond the seal: who produced a report set (SSH signatures) and how complete a night's chain is."""
