"""The curated alias table: very common variants of countries and organisations (data only).

Each row is ``(canonical name, type, variants, labels)``.  A variant written in capitals (an acronym, dots
ignored: "U.S." is "US") matches only in capitals, so "us" or "Us" never becomes the United States; other
variants match case-insensitively, with a leading "the" ignored.  ``labels``, when not empty, are the
spaCy labels a mention must carry to match ("America" is the United States only as a GPE; "Bank of
America" is a different span anyway).  Anything not in this table is handled by the general rules
(acronym = initials of a longer name in the same article; surname = full name in the same article).
"""

from __future__ import annotations

ALIAS_TABLE: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("United States", "GPE", ("US", "USA", "United States", "United States of America", "the States"), ()),
    ("United States", "GPE", ("America",), ("GPE",)),
    ("United Kingdom", "GPE", ("UK", "United Kingdom", "Britain", "Great Britain"), ()),
    ("United Nations", "ORG", ("UN", "United Nations", "United Nations Organization"), ()),
    ("European Union", "ORG", ("EU", "European Union"), ()),
    ("NATO", "ORG", ("NATO", "North Atlantic Treaty Organization", "North Atlantic Treaty Organisation"), ()),
    ("Soviet Union", "GPE", ("USSR", "Soviet Union"), ()),
    ("United Arab Emirates", "GPE", ("UAE", "United Arab Emirates"), ()),
    ("European Central Bank", "ORG", ("ECB", "European Central Bank"), ()),
    ("International Monetary Fund", "ORG", ("IMF", "International Monetary Fund"), ()),
    ("World Health Organization", "ORG", ("WHO", "World Health Organization"), ()),
)
