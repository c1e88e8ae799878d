"""Shrink an oversized HTML page cheaply, keeping everything a reader sees.

A page past the extractor's size cap is often mostly markup nobody reads: megabytes of inline scripts,
style sheets, SVG icons, JSON state blobs and base64 images (a CNN article page is 2.5 MB of which 2.2 MB
is ``<script>`` and ``<style>``).  :func:`shrink_html` drops those in one linear pass, without building a
tree, so what is left can go to the extractor; :func:`bounded_prefix` cuts a page that is still too long at
a tag boundary.  Neither changes the visible text.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["LD_JSON_MAX_CHARS", "bounded_prefix", "shrink_html"]

#: A JSON-LD block (publication dates, authors) up to this size is kept: it is metadata, not a state blob.
LD_JSON_MAX_CHARS: Final = 100_000
#: An attribute value holding JSON (``data-props='{...}'``) longer than this is emptied.
JSON_ATTR_MIN_CHARS: Final = 200
#: A ``data:`` URI longer than this is replaced by an empty one.
DATA_URI_MIN_CHARS: Final = 64

_DROPPED: Final = ("script", "style", "svg", "noscript", "template")
#: Unclosed, these run to the end of the page (as in a browser).
_RAW_TEXT: Final = frozenset({"script", "style"})
_OPEN_RE: Final = re.compile(r"<!--|<(" + "|".join(_DROPPED) + r")(?=[\s/>])", re.IGNORECASE)
_CLOSE_RE: Final = {tag: re.compile(rf"</{tag}\s*>", re.IGNORECASE) for tag in _DROPPED}
_LD_JSON_RE: Final = re.compile(r"""\btype\s*=\s*["']?application/ld\+json""", re.IGNORECASE)
_DATA_URI_RE: Final = re.compile(
    r"data:[\w.+-]+/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*(?:;base64)?,[^\"'()\s<>]{"
    + str(DATA_URI_MIN_CHARS)
    + ",}",
    re.IGNORECASE,
)
_JSON_ATTR_RE: Final = re.compile(
    r"""(=\s*)(?:"[{\[][^"]{N,}"|'[{\[][^']{N,}')""".replace("N", str(JSON_ATTR_MIN_CHARS))
)


def shrink_html(html: str) -> str:
    """``html`` without comments, ``<script>`` (JSON-LD up to LD_JSON_MAX_CHARS kept), ``<style>``,
    ``<svg>``, ``<noscript>``, ``<template>``, long JSON attribute values and long ``data:`` URIs.

    Linear in the page's length, whatever the markup: each element is found by a forward search and a
    closing tag once missing is never searched for again."""
    out: list[str] = []
    pos = 0
    unclosed: set[str] = set()
    n = len(html)
    while (m := _OPEN_RE.search(html, pos)) is not None:
        start = m.start()
        out.append(html[pos:start])
        tag = (m.group(1) or "").lower()
        if not tag:  # a comment
            end = html.find("-->", m.end())
            pos = n if end < 0 else end + 3
            continue
        gt = html.find(">", m.end())
        if gt < 0:  # an unterminated tag: leave the rest as it is
            pos = start
            break
        close = None if tag in unclosed else _CLOSE_RE[tag].search(html, gt + 1)
        if close is None:
            unclosed.add(tag)
            if tag not in _RAW_TEXT:  # an unclosed <svg>: drop the tag, keep what follows
                pos = gt + 1
                continue
        stop = n if close is None else close.end()
        if tag == "script" and stop - start <= LD_JSON_MAX_CHARS and _LD_JSON_RE.search(html, start, gt):
            out.append(html[start:stop])
        pos = stop
    out.append(html[pos:])
    shrunk = "".join(out)
    shrunk = _DATA_URI_RE.sub("data:,", shrunk)
    return _JSON_ATTR_RE.sub(r'\1""', shrunk)


def bounded_prefix(html: str, max_chars: int) -> str:
    """The first ``max_chars`` characters of ``html`` or fewer, cut before a tag (never inside one)."""
    if len(html) <= max_chars:
        return html
    cut = html.rfind("<", 0, max_chars + 1)
    return html[: cut if cut > 0 else max_chars]
