"""Helpers several test modules share (not fixtures: plain functions and context managers)."""
