"""Reprocessing: re-enqueue articles whose enrichment is older than the current version; completeness."""
