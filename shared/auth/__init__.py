"""Access control: scoped API keys (stored hashed), their cache, per-key rate limits."""
