"""Entry points of the cleaning domain: HTML page or scraped text in, :class:`CleanedArticle` out."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from .html import HtmlExtraction, extract_html
from .isolation import ExtractorPool, default_pool, quick_visible_text
from .models import CleanedArticle, RemovedPiece
from .quality import assess, confidence_of
from .shrink import bounded_prefix, shrink_html
from .text import clean_plain_text, line_hash, line_hashes

__all__ = ["clean", "clean_html", "clean_text", "drop_known_lines", "with_feed_date"]

#: Characters of a page (once shrunk: no scripts, styles, SVG...) read by the cheap fallback when the
#: extractor cannot be used; the plain-text cleaner's cost grows faster than linearly with the text.
FALLBACK_CHARS = 200_000
#: A headline's body that cleaning empties entirely, of at most this many words and lines once page
#: chrome is left out, is an alert's stock body ("More to follow.", "Details to follow.", "BREAKING
#: NEWS"): kept as sent (flag ``stock_body``).
STOCK_BODY_MAX_WORDS = 25
STOCK_BODY_MAX_LINES = 3
#: Why cleaning drops a stock line: a short label-like line, the headline repeated, the source's
#: recurring line.  Share buttons, newsletter prompts, footers, ads... are page chrome, never a body.
_STOCK_REASONS = frozenset({"navigation", "other", "repeated_for_source"})


def stock_body(removed: list[RemovedPiece], *, title: str | None) -> str | None:
    """A headline-only alert's short body: what cleaning dropped as label-like lines (not page chrome),
    spacing collapsed; None without a headline, or when nothing is left or it is past
    STOCK_BODY_MAX_WORDS words or STOCK_BODY_MAX_LINES lines."""
    if not title:
        return None
    kept = [" ".join(p.text.split()) for p in removed if p.reason in _STOCK_REASONS]
    kept = [line for line in kept if any(c.isalnum() for c in line)]
    body = "\n\n".join(kept)
    if not kept or len(kept) > STOCK_BODY_MAX_LINES or len(body.split()) > STOCK_BODY_MAX_WORDS:
        return None
    return body


def _caller_title(title: str | None) -> str | None:
    if title is None:
        return None
    title = " ".join(title.split())
    return title or None


def _fallback(html: str, *, title: str | None) -> HtmlExtraction:
    """The page's visible text (first FALLBACK_CHARS characters of the shrunk page, no tree built) through
    clean_text: megabytes of inline scripts before the body no longer leave it empty."""
    text, page_title = quick_visible_text(shrink_html(html), max_chars=FALLBACK_CHARS)
    result = clean_plain_text(text, title=title or page_title)
    return HtmlExtraction(
        text=result.text,
        title=title or page_title or result.title,
        published_at=result.published_at,
        modified_at=result.modified_at,
        authors=list(result.authors),
        removed=list(result.removed),
        flags=["fallback_extractor"],
    )


def clean_html(
    html: str,
    *,
    url: str | None = None,
    title: str | None = None,
    known_boilerplate: Collection[str] = (),
    isolate: bool = True,
    pool: ExtractorPool | None = None,
) -> CleanedArticle:
    """Clean an HTML page.  The caller's ``title`` (the feed's headline) wins over the page's.

    The extractor runs in a worker process with a time and size limit (``isolate=False``: in this
    process, no limits).  A page past the size limit is first shrunk (scripts, styles, SVG, comments, JSON
    blobs, ``data:`` URIs dropped: the visible text is unchanged) and extracted unflagged if it then fits;
    one still too large is extracted from its first ``max_html_chars`` (flag ``too_large``).  A page the
    extractor cannot handle is cleaned by a cheap fallback and flagged.
    ``known_boilerplate``: see :func:`clean_text`."""
    given = _caller_title(title)
    flags: list[str] = []
    page: HtmlExtraction | None
    if isolate:
        pool = pool or default_pool()
        cap = pool.limits.max_html_chars
        if len(html) > cap:
            html = shrink_html(html)
        if len(html) > cap:
            flags.append("too_large")
            html = bounded_prefix(html, cap)
        outcome = pool.extract(html, url=url)
        page = outcome.extraction
        if outcome.flag and outcome.flag not in flags:
            flags.append(outcome.flag)
    else:
        page = extract_html(html, url=url)
    if page is None:
        page = _fallback(html, title=given)
    flags.extend(page.flags)

    paragraphs = [p for p in page.text.strip().split("\n\n") if p.strip()]
    if not paragraphs:  # a headline-only alert: its short stock body as sent
        visible = quick_visible_text(shrink_html(html), max_chars=FALLBACK_CHARS)[0]
        stock = stock_body(clean_plain_text(visible, title=given).removed, title=given)
        if stock is not None:
            paragraphs = stock.split("\n\n")
            flags.append("stock_body")
    text = "\n\n".join(paragraphs)
    has_date = page.published_at is not None
    confidence, flags = assess(text=text, removed=page.removed, has_date=has_date, flags=flags)
    cleaned = CleanedArticle(
        text=text,
        title=given or page.title,
        published_at=page.published_at,
        modified_at=page.modified_at,
        authors=list(page.authors),
        site_name=page.site_name,
        language=page.language,
        canonical_url=page.canonical_url,
        removed=list(page.removed),
        confidence=confidence,
        flags=flags,
        line_hashes=line_hashes(paragraphs),
    )
    return drop_known_lines(cleaned, known_boilerplate)


def drop_known_lines(cleaned: CleanedArticle, known_boilerplate: Collection[str]) -> CleanedArticle:
    """The body without its paragraphs whose :func:`~services.ingest.cleaning.text.line_hash` is known
    boilerplate of the source (reason ``repeated_for_source``); cheap, no re-extraction."""
    if not known_boilerplate:
        return cleaned
    kept: list[str] = []
    removed = list(cleaned.removed)
    for p in cleaned.text.split("\n\n"):
        if line_hash(p) in known_boilerplate:
            removed.append(RemovedPiece(p, "repeated_for_source"))
        else:
            kept.append(p)
    if len(removed) == len(cleaned.removed) or not kept:  # the stock body of an alert is kept
        return cleaned
    text = "\n\n".join(kept)
    base = [f for f in cleaned.flags if f in _CARRIED_FLAGS]
    has_date = cleaned.published_at is not None
    confidence, flags = assess(text=text, removed=removed, has_date=has_date, flags=base)
    return replace(cleaned, text=text, removed=removed, confidence=confidence, flags=flags)


#: Flags that come from how the page was extracted (not from the body), kept when the body changes.
_CARRIED_FLAGS = frozenset(
    {"timeout", "too_large", "extractor_error", "extractor_busy", "fallback_extractor", "stock_body"}
)


def clean_text(
    text: str, *, title: str | None = None, known_boilerplate: Collection[str] = ()
) -> CleanedArticle:
    """Clean text scraped from a news page (junk lines dropped, metadata lines lifted into fields).

    ``known_boilerplate``: :func:`~services.ingest.cleaning.text.line_hash` values of lines that recur
    across the source's stored articles; they are dropped with reason ``repeated_for_source``."""
    given = _caller_title(title)
    result = clean_plain_text(text, title=given, known_boilerplate=known_boilerplate)
    body = result.text.strip()
    known: list[str] = ["cleaning_fallback"] if result.fallback else []
    if not body:  # a headline-only alert: its short stock body as sent
        stock = stock_body(result.removed, title=given)
        if stock is not None:
            body, known = stock, ["stock_body"]
    confidence, flags = assess(
        text=body, removed=result.removed, has_date=result.published_at is not None, flags=known
    )
    return CleanedArticle(
        text=body,
        title=given or result.title,
        published_at=result.published_at,
        modified_at=result.modified_at,
        authors=list(result.authors),
        site_name=None,
        language=None,
        canonical_url=None,
        removed=list(result.removed),
        confidence=confidence,
        flags=flags,
        line_hashes=result.line_hashes,
    )


def with_feed_date(cleaned: CleanedArticle, feed_published_at: datetime | None) -> CleanedArticle:
    """The article as stored when the feed gave a date: ``no_date`` becomes ``date_from_feed``."""
    if feed_published_at is None or "no_date" not in cleaned.flags:
        return cleaned
    flags = ["date_from_feed" if f == "no_date" else f for f in cleaned.flags]
    return replace(cleaned, flags=flags, confidence=confidence_of(flags))


def clean(
    *,
    html: str | None = None,
    text: str | None = None,
    url: str | None = None,
    title: str | None = None,
    known_boilerplate: Collection[str] = (),
) -> CleanedArticle:
    """Clean either an HTML page or scraped text: exactly one of ``html`` / ``text`` must be given."""
    if (html is None) == (text is None):
        raise ValueError("clean() takes exactly one of html= or text=")
    if html is not None:
        return clean_html(html, url=url, title=title, known_boilerplate=known_boilerplate)
    assert text is not None
    return clean_text(text, title=title, known_boilerplate=known_boilerplate)
