"""Entry points of the cleaning domain: HTML page or scraped text in, :class:`CleanedArticle` out."""

from __future__ import annotations

from .html import extract_html
from .models import CleanedArticle
from .text import clean_plain_text

__all__ = ["clean", "clean_html", "clean_text"]


def _caller_title(title: str | None) -> str | None:
    if title is None:
        return None
    title = " ".join(title.split())
    return title or None


def clean_html(html: str, *, url: str | None = None, title: str | None = None) -> CleanedArticle:
    """Clean an HTML page.  The caller's ``title`` (the feed's headline) wins over the page's."""
    page = extract_html(html, url=url)
    return CleanedArticle(
        text=page.text.strip(),
        title=_caller_title(title) or page.title,
        published_at=page.published_at,
        modified_at=page.modified_at,
        authors=list(page.authors),
        site_name=page.site_name,
        language=page.language,
        canonical_url=page.canonical_url,
        removed=list(page.removed),
    )


def clean_text(text: str, *, title: str | None = None) -> CleanedArticle:
    """Clean text scraped from a news page (junk lines dropped, metadata lines lifted into fields)."""
    given = _caller_title(title)
    result = clean_plain_text(text, title=given)
    return CleanedArticle(
        text=result.text.strip(),
        title=given or result.title,
        published_at=result.published_at,
        modified_at=result.modified_at,
        authors=list(result.authors),
        site_name=None,
        language=None,
        canonical_url=None,
        removed=list(result.removed),
    )


def clean(
    *, html: str | None = None, text: str | None = None, url: str | None = None, title: str | None = None
) -> CleanedArticle:
    """Clean either an HTML page or scraped text: exactly one of ``html`` / ``text`` must be given."""
    if (html is None) == (text is None):
        raise ValueError("clean() takes exactly one of html= or text=")
    if html is not None:
        return clean_html(html, url=url, title=title)
    assert text is not None
    return clean_text(text, title=title)
