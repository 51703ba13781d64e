"""Everything that talks to the VOD endpoint: signing, credentials, client, rate limiting."""
