"""Operator overrides of entity canonicalisation: the admin API's domain (also used by the CLI)."""
