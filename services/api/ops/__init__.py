"""Operators' views: queues, dead-lettered (failed) articles and their retry, the per-source ledger."""
