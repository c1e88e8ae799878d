"""The HTML extractor runs in worker processes with hard limits: real pathological pages, real processes.

Assertions are on the flags the cleaner reports (never on wall time)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.ingest.cleaning import clean_html
from services.ingest.cleaning.isolation import ExtractionLimits, ExtractorPool, quick_visible_text

SENTENCE = "The minister said on Tuesday that the talks would continue next week in Brussels, aides added."
ARTICLE = (
    "<html><head><title>Talks continue</title>"
    '<meta property="article:published_time" content="2024-05-14T09:30:00Z"></head><body>'
    "<nav><a href='/'>Home</a><a href='/world'>World</a></nav><article><h1>Talks continue</h1>"
    + "".join(f"<p>{SENTENCE} Paragraph {i} adds a detail about the agenda.</p>" for i in range(8))
    + "</article><footer>Copyright 2024 Example News. All rights reserved.</footer></body></html>"
)


def _wide_page(paragraphs: int) -> str:
    """Megabytes of flat markup: trafilatura needs many seconds on it."""
    return (
        "<html><head><title>Wide</title></head><body>"
        + "".join(
            f"<div><p>Paragraph {i} has a few words in it, the mayor said.</p><a href='/{i}'>{i}</a></div>"
            for i in range(paragraphs)
        )
        + "</body></html>"
    )


def _deep_page(depth: int) -> str:
    return (
        "<html><head><title>Deep</title></head><body>"
        + "<div><span>x</span>" * depth
        + f"<p>{SENTENCE}</p>"
        + "</div>" * depth
        + "</body></html>"
    )


@pytest.fixture
def make_pool() -> Iterator[object]:
    pools: list[ExtractorPool] = []

    def make(**limits: object) -> ExtractorPool:
        pool = ExtractorPool(ExtractionLimits(**limits))  # type: ignore[arg-type]
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def test_normal_page_goes_through_a_worker_unflagged(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(workers=1)
    article = clean_html(ARTICLE, pool=pool)
    assert SENTENCE in article.text
    assert "All rights reserved" not in article.text
    assert article.flags == []
    assert article.confidence == 1.0
    assert article.published_at is not None


def test_page_past_the_time_limit_is_flagged_and_the_worker_replaced(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(workers=1, timeout=0.5, max_html_chars=10_000_000)
    page = _wide_page(15_000)  # ~1.5 MB
    article = clean_html(page, pool=pool)
    assert "timeout" in article.flags
    assert "fallback_extractor" in article.flags
    assert article.confidence < 0.5
    assert "Paragraph 0 has a few words in it" in article.text, "the cheap fallback still gives the body"
    assert pool.replaced == 1, "the stuck worker was killed"
    # the pool keeps serving
    again = clean_html(ARTICLE, pool=pool)
    assert again.flags == []
    assert SENTENCE in again.text


def _scripted(page: str, script_chars: int) -> str:
    """``page`` with ``script_chars`` of inline script, style and SVG before its body (a modern news page)."""
    blob = "<script>window.__STATE__ = " + '{"k": "' + "v" * (script_chars // 2) + '"};</script>'
    junk = blob + "<style>" + "p{margin:0}" * (script_chars // 22) + "</style><svg><path d='M0'/></svg>"
    return page.replace("<body>", "<body>" + junk, 1)


def test_page_past_the_size_limit_is_shrunk_then_extracted_unflagged(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(workers=1, max_html_chars=len(ARTICLE) + 1000)
    page = _scripted(ARTICLE, 50_000)
    assert len(page) > 50_000
    article = clean_html(page, pool=pool)
    assert SENTENCE in article.text
    assert "__STATE__" not in article.text
    assert article.flags == [], "the whole visible page was extracted"
    assert article.published_at is not None
    assert article.title == "Talks continue"


def test_page_too_large_even_shrunk_is_extracted_from_its_prefix_flagged(make_pool) -> None:  # type: ignore[no-untyped-def]
    cut = ARTICLE.index("Paragraph 5")
    pool = make_pool(workers=1, max_html_chars=cut)
    article = clean_html(_scripted(ARTICLE, 10_000), pool=pool)
    assert article.flags[0] == "too_large"
    assert "fallback_extractor" not in article.flags, "the extractor read the page's first max_html_chars"
    assert "Paragraph 0 adds a detail" in article.text
    assert "Paragraph 6 adds a detail" not in article.text, "nothing past the bound is read"
    assert article.confidence <= 0.5
    assert pool.replaced == 0


def test_fallback_reads_past_megabytes_of_scripts() -> None:
    pool = ExtractorPool(ExtractionLimits(workers=1))
    pool.close()  # no extractor: the cheap fallback
    page = _scripted(ARTICLE, 400_000)  # the body starts past the fallback's first 200,000 characters
    assert page.index(SENTENCE) > 400_000
    article = clean_html(page, pool=pool)
    assert article.flags[:2] == ["extractor_busy", "fallback_extractor"]
    assert SENTENCE in article.text
    assert "__STATE__" not in article.text


def test_deeply_nested_page_returns_flagged(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(workers=1)
    article = clean_html(_deep_page(50_000), pool=pool)  # the parser gives up below some depth
    assert "fallback_extractor" in article.flags
    assert article.confidence < 1.0


def test_workers_are_recycled_after_n_pages_and_when_memory_grows(make_pool) -> None:  # type: ignore[no-untyped-def]
    by_tasks = make_pool(workers=1, max_tasks=2)
    for _ in range(4):
        assert clean_html(ARTICLE, pool=by_tasks).flags == []
    assert by_tasks.replaced == 2
    by_memory = make_pool(workers=1, max_rss_mb=1)  # every worker is over 1 MB
    for _ in range(3):
        assert clean_html(ARTICLE, pool=by_memory).flags == []
    assert by_memory.replaced == 3


def test_a_worker_over_its_memory_cap_is_flagged_not_raised(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool = make_pool(workers=1, memory_limit_mb=1, max_html_chars=10_000_000)
    article = clean_html(_wide_page(3_000), pool=pool)
    assert {"too_large", "extractor_error"} & set(article.flags)
    assert "Paragraph 0 has a few words in it" in article.text


def test_closed_pool_flags_busy() -> None:
    pool = ExtractorPool(ExtractionLimits(workers=1))
    pool.close()
    article = clean_html(ARTICLE, pool=pool)
    assert "extractor_busy" in article.flags
    assert SENTENCE in article.text


def test_quick_visible_text_survives_broken_markup() -> None:
    text, title = quick_visible_text(
        "<title>T &amp; U</title><script>var a = '<p>no</p>';</script><p>One &amp; two<div>three"
        "<style>p{}</style><p>four<script>unclosed",
        max_chars=10_000,
    )
    assert title == "T & U"
    assert text.split("\n") == ["One & two", "three", "four"]
    cut, _ = quick_visible_text("<p>" + "a" * 100 + "</p><p>tail</p>", max_chars=50)
    assert "tail" not in cut
