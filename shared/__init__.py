"""Plumbing shared by every Newswire service: settings, database, models, errors, logging."""

__version__ = "0.1.0"
