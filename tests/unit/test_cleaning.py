"""Unit tests of the cleaning domain module (pure functions, no mocks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.ingest.cleaning import CleanedArticle, RemovedPiece, clean, clean_html, clean_text
from services.ingest.cleaning.models import REASONS
from services.ingest.cleaning.text import explain_text, parse_byline, parse_date, split_authors

_TZ = lambda hours: timezone(timedelta(hours=hours))  # noqa: E731
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _sample(name: str) -> str:
    matches = sorted(SAMPLES.glob(f"{name}_*.txt"))
    assert matches, f"sample {name} missing from {SAMPLES}"
    return matches[0].read_text(encoding="utf-8")


def _reason_of(article: CleanedArticle, fragment: str) -> str | None:
    for piece in article.removed:
        if fragment in piece.text:
            return piece.reason
    return None


def _assert_removed(article: CleanedArticle, fragment: str, reasons: set[str]) -> None:
    assert fragment not in article.text, f"junk kept: {fragment!r}"
    reason = _reason_of(article, fragment)
    assert reason in reasons, f"{fragment!r} removed as {reason!r}, expected one of {reasons}"


def _assert_kept(article: CleanedArticle, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in article.text, f"body lost: {fragment!r}"


def _assert_well_formed(article: CleanedArticle) -> None:
    assert article.text == article.text.strip()
    assert "\n\n\n" not in article.text
    assert all(piece.reason in REASONS for piece in article.removed)
    for dt in (article.published_at, article.modified_at):
        assert dt is None or dt.tzinfo is not None


# -------------------------------------------------------------------------------------------------
# The five seed samples
# -------------------------------------------------------------------------------------------------


def test_sample_000_newsletter_and_comment_widgets_go() -> None:
    article = clean_text(_sample("000"))
    _assert_well_formed(article)
    headline = "NATO, Pakistan and Afghan military officials in border talks, Pakistani army says"
    assert article.title == headline
    assert not article.text.startswith("NATO, Pakistan and Afghan military officials in border talks")
    _assert_kept(
        article,
        "In a sign that a months-long estrangement between the United States and Pakistan might be easing",
        "Pakistan retaliated by shutting down NATO supply routes into Afghanistan",
        "A Pakistani parliamentary committee is conducting a review",
    )
    _assert_removed(article, "Please enter a valid email address", {"newsletter_prompt"})
    _assert_removed(article, "See all newsletters", {"newsletter_prompt"})
    _assert_removed(article, "Show Comments", {"comment_widget"})
    _assert_removed(article, "Thank you for signing up", {"newsletter_prompt"})
    _assert_removed(article, "Most Read World", {"related_links", "teaser_list"})
    _assert_removed(article, "Success! Check your inbox for details.", {"newsletter_prompt"})
    _assert_removed(article, 'Sign up for email updates from the "Confronting', {"newsletter_prompt"})


def test_sample_001_navigation_title_and_caption() -> None:
    article = clean_text(_sample("001"))
    _assert_well_formed(article)
    assert article.title == "No US-Pakistan Breakthrough at NATO Summit"
    _assert_removed(article, "Accessibility links", {"navigation"})
    _assert_removed(article, "Breaking News", {"navigation"})
    _assert_removed(article, "(center R) shakes hands with Pakistan's President", {"caption"})
    assert article.text.startswith("CHICAGO - Despite the participation of Pakistani President")
    _assert_kept(
        article,
        "President Obama also met briefly with the President Zardari.",
        "the lack of progress at the NATO summit seems to indicate the two sides remain far apart.",
    )


def test_sample_002_repeated_caption_subheads_and_org_footer() -> None:
    article = clean_text(_sample("002"), title="Clinton Looks For Improved U.S.-Pakistan Relations")
    _assert_well_formed(article)
    assert article.title == "Clinton Looks For Improved U.S.-Pakistan Relations"
    caption = "U.S. Secretary of State Hillary Clinton speaks during a surprise visit to Kabul on July 7."
    assert caption not in article.text
    assert [p.reason for p in article.removed if p.text == caption] == ["caption", "caption"]
    # subheads inside the body stay, in place
    assert "\n\nRocky Relations\n\nHowever, Clinton acknowledged" in article.text
    assert "\n\nProtest March\n\nNot everybody in Pakistan is happy" in article.text
    _assert_kept(article, "The convoy is scheduled to reach Islamabad by the evening of July 9.")
    _assert_removed(article, "16x9 Image", {"caption", "empty", "other"})
    _assert_removed(article, "journalists report the news in 27 languages", {"footer", "other"})
    _assert_removed(article, "To find out more, click here.", {"footer", "other"})
    _assert_removed(article, "you could face fines or imprisonment for sharing", {"footer", "other"})


def test_sample_003_date_prefix_lifted() -> None:
    article = clean_text(_sample("003"))
    _assert_well_formed(article)
    assert article.published_at == datetime(2023, 2, 12, tzinfo=UTC)
    assert article.text.startswith("Pakistan and the United States will hold talks on issues of bilateral")
    assert "2023-02-12" not in article.text
    assert _reason_of(article, "2023-02-12") == "date_line"
    _assert_kept(article, "which have once again increased their activities in the region.")


def test_sample_004_last_modified_caption_and_teasers() -> None:
    article = clean_text(_sample("004"))
    _assert_well_formed(article)
    assert article.title == "Clinton says US officials met with Haqqanis"
    assert article.modified_at == datetime(2011, 10, 21, 15, 24, tzinfo=UTC)
    assert article.published_at == article.modified_at
    _assert_removed(article, "Last Modified: 21 Oct 2011 15:24", {"date_line"})
    _assert_removed(article, "Clinton, pictured left, met Yousuf Raza Gilani", {"caption"})
    _assert_removed(article, "Central & South Asia", {"navigation"})
    _assert_removed(article, "Topics in this article", {"related_links", "teaser_list"})
    _assert_removed(article, "Featured on Al Jazeera", {"related_links", "teaser_list"})
    _assert_removed(article, "Organisation", {"teaser_list", "related_links"})
    _assert_removed(
        article, "Astronomers have captured images of primordial", {"teaser_list", "related_links"}
    )
    _assert_removed(article, "NGOs say women without formal documentation", {"teaser_list", "related_links"})
    assert "'Double game'\n\nThey said the meeting had been organised" in article.text
    assert "'Give and take'" in article.text
    _assert_kept(article, "No negotiations are under way, she said.", "get them into a peace process")
    assert "Clinton, who met Yousuf Raza Gilani, the Pakistani prime minister, on Thursday, also" in (
        article.text
    )


@pytest.mark.parametrize("name", ["000", "001", "002", "003", "004"])
def test_samples_keep_most_of_the_body(name: str) -> None:
    raw = _sample(name)
    article = clean_text(raw)
    assert 0.5 * len(raw) < len(article.text) < len(raw)
    decisions = explain_text(raw)
    assert [d.line for d in decisions if d.kept] == article.text.split("\n\n")
    assert sum(1 for d in decisions if not d.kept) == len(article.removed)


# -------------------------------------------------------------------------------------------------
# A synthetic article
# -------------------------------------------------------------------------------------------------

SYNTHETIC = """Home
World
Politics
Harbour city approves new flood barrier after decade of delays
By Jane Doe and John Roe, Reuters
Last Modified: 3 Mar 2024 09:15

The city council voted on Tuesday to build a flood barrier across the harbour mouth, ending a
decade of arguments over the cost of protecting the old town from storm surges.

Officials said construction would begin next spring and take about four years, with most of the
money coming from a regional infrastructure fund that was set up after the floods of 2014.

Image: The harbour at high tide / Getty

Funding questions

Shareholders in the port operator will share part of the cost, the mayor said, because the barrier
also protects the container terminal and its warehouses from flooding.

Critics of the plan say the council has underestimated the maintenance bill and that the barrier
could change the way sediment moves along the coast.

Share this article

More from World
Storm Season Outlook
Coastal Towns Brace
River Levels Rising

Copyright 2024 Example News Ltd. All rights reserved.
Privacy Policy | Terms of Use | Contact Us
"""


def test_synthetic_article() -> None:
    article = clean_text(SYNTHETIC)
    _assert_well_formed(article)
    assert article.title == "Harbour city approves new flood barrier after decade of delays"
    assert article.authors == ["Jane Doe", "John Roe"]
    assert article.modified_at == datetime(2024, 3, 3, 9, 15, tzinfo=UTC)
    assert article.published_at == article.modified_at
    # hard-wrapped paragraphs are re-joined
    assert (
        "The city council voted on Tuesday to build a flood barrier across the harbour mouth, ending a "
        "decade of arguments" in article.text
    )
    subhead_and_share = (
        "\n\nFunding questions\n\nShareholders in the port operator will share part of the cost"
    )
    assert subhead_and_share in article.text
    assert "could change the way sediment moves along the coast." in article.text
    assert article.text.count("\n\n") == 4  # four paragraphs and the subhead
    _assert_removed(article, "By Jane Doe and John Roe, Reuters", {"byline"})
    _assert_removed(article, "Last Modified: 3 Mar 2024 09:15", {"date_line"})
    _assert_removed(article, "The harbour at high tide / Getty", {"caption"})
    _assert_removed(article, "Share this article", {"share_widget"})
    _assert_removed(article, "Storm Season Outlook", {"teaser_list", "related_links"})
    _assert_removed(article, "River Levels Rising", {"teaser_list", "related_links"})
    _assert_removed(article, "More from World", {"related_links", "teaser_list"})
    _assert_removed(article, "All rights reserved", {"footer"})
    _assert_removed(article, "Privacy Policy", {"footer"})
    _assert_removed(article, "Politics", {"navigation"})


def test_given_title_is_lifted_and_wins() -> None:
    text = "Flood Barrier Approved\n\n" + SYNTHETIC.split("Last Modified: 3 Mar 2024 09:15\n\n", 1)[1]
    article = clean_text(text, title="Flood Barrier Approved")
    assert article.title == "Flood Barrier Approved"
    assert not article.text.startswith("Flood Barrier Approved")
    assert article.text.startswith("The city council voted on Tuesday")


def test_one_line_paragraphs_are_not_joined() -> None:
    text = (
        "The minister resigned on Friday after a week of pressure from her own party.\n"
        "Her deputy will take over until a successor is chosen by the prime minister.\n"
        "The opposition called for an early election and said the government had lost its way."
    )
    article = clean_text(text)
    assert article.text.split("\n\n") == text.split("\n")
    assert article.title is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("21 October 2011", datetime(2011, 10, 21, tzinfo=UTC)),
        ("Oct 21, 2011", datetime(2011, 10, 21, tzinfo=UTC)),
        ("2011-10-21", datetime(2011, 10, 21, tzinfo=UTC)),
        ("Published: 21 Oct 2011", datetime(2011, 10, 21, tzinfo=UTC)),
        ("Monday 21 October 2011 10.30 BST", datetime(2011, 10, 21, 10, 30, tzinfo=_TZ(1))),
        ("Updated October 21, 2011 at 3:45 p.m. EDT", datetime(2011, 10, 21, 15, 45, tzinfo=_TZ(-4))),
    ],
)
def test_date_lines(line: str, expected: datetime) -> None:
    body = "The talks were held in the capital and lasted for most of the afternoon, officials said."
    article = clean_text(f"{line}\n\n{body}")
    stamp = article.modified_at if line.startswith("Updated") else article.published_at
    assert stamp == expected
    assert article.published_at is not None
    assert article.text == body
    assert RemovedPiece(line, "date_line") in article.removed


def test_parsers() -> None:
    assert parse_date("not a date") is None
    assert parse_date("2024-05-01T10:00:00+02:00") == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert split_authors("Jane Doe; John Roe") == ["Jane Doe", "John Roe"]
    assert split_authors("Jane Doe, John Roe and Max Muster") == ["Jane Doe", "John Roe", "Max Muster"]
    assert parse_byline("By JANE DOE | 21 Oct 2011") == (["Jane Doe"], datetime(2011, 10, 21, tzinfo=UTC))
    assert parse_byline("By the end of the year, prices had doubled.") is None


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "   \n\n \u200b ",
        "Share this\nTweet\nComments\n\nSubscribe to our newsletter\n© 2024 Example Media",
    ],
)
def test_empty_or_junk_only_text(junk: str) -> None:
    article = clean_text(junk)
    assert article.text == ""
    assert clean(text=junk).text == ""


def test_unicode_normalised() -> None:
    article = clean_text(
        "The cafe\u0301 reopened on Monday after\u00a0a long\u200b renovation, the owners said on Friday."
    )
    assert article.text == "The café reopened on Monday after a long renovation, the owners said on Friday."


def test_to_dict_is_json_ready() -> None:
    data = clean_text(SYNTHETIC).to_dict()
    assert data["modified_at"] == "2024-03-03T09:15:00+00:00"
    assert data["authors"] == ["Jane Doe", "John Roe"]
    assert {"text": "Share this article", "reason": "share_widget"} in data["removed"]


# -------------------------------------------------------------------------------------------------
# HTML
# -------------------------------------------------------------------------------------------------

HTML_PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>Harbour city approves flood barrier | Example News</title>
  <meta property="og:title" content="Harbour city approves flood barrier">
  <meta property="og:site_name" content="Example News">
  <meta name="author" content="Jane Doe, John Roe">
  <meta property="article:published_time" content="2024-03-03T09:15:00+01:00">
  <meta property="article:modified_time" content="2024-03-04T10:00:00Z">
  <link rel="canonical" href="/world/harbour-barrier">
  <style>.secret-style { color: red } body::after { content: "STYLE_LEAK" }</style>
  <script>var tracking = "SCRIPT_LEAK"; window.ads = true;</script>
</head>
<body>
  <nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
    <li><a href="/sport">Sport</a></li></ul></nav>
  <article>
    <h1>Harbour city approves flood barrier</h1>
    <p class="byline">By Jane Doe and John Roe</p>
    <p>The city council voted on Tuesday to build a flood barrier across the harbour mouth, ending a decade
       of arguments over the cost of protecting the old town from storm surges.</p>
    <script>document.write("INLINE_SCRIPT_LEAK")</script>
    <p>Officials said construction would begin next spring and take about four years, with most of the
       money coming from a regional infrastructure fund that was set up after the floods of 2014.</p>
    <p>Critics of the plan say the council has underestimated the maintenance bill and that the barrier
       could change the way sediment moves along the coast, which would affect the beaches to the north.</p>
    <p>The mayor said the council would publish the full engineering study next month so that residents
       could judge the plan for themselves before the first contracts are signed.</p>
  </article>
  <footer><p>Copyright 2024 Example News Ltd. All rights reserved.</p>
    <a href="/privacy">Privacy Policy</a></footer>
</body>
</html>
"""


def test_html_page() -> None:
    article = clean_html(HTML_PAGE, url="https://news.example.com/world/harbour-barrier?utm_source=feed")
    _assert_well_formed(article)
    for leak in ("SCRIPT_LEAK", "STYLE_LEAK", "INLINE_SCRIPT_LEAK", "secret-style", "tracking"):
        assert leak not in article.text
        assert all(leak not in piece.text for piece in article.removed)
    _assert_kept(
        article,
        "The city council voted on Tuesday to build a flood barrier across the harbour mouth",
        "could judge the plan for themselves before the first contracts are signed.",
    )
    assert "All rights reserved" not in article.text
    assert "Privacy Policy" not in article.text
    assert article.title == "Harbour city approves flood barrier"
    assert article.authors == ["Jane Doe", "John Roe"]
    assert article.published_at == datetime(2024, 3, 3, 9, 15, tzinfo=timezone(timedelta(hours=1)))
    assert article.modified_at == datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
    assert article.canonical_url == "https://news.example.com/world/harbour-barrier"
    assert article.language == "en"
    assert article.site_name == "Example News"
    assert any(p.reason == "html_boilerplate" and "All rights reserved" in p.text for p in article.removed)


def test_html_caller_title_wins() -> None:
    article = clean(html=HTML_PAGE, title="Feed headline", url="https://news.example.com/x")
    assert article.title == "Feed headline"


def test_html_without_article_falls_back() -> None:
    html = (
        "<html><body><div>"
        + "".join(
            f"<div>Paragraph {i}: the committee heard residents who said the road was unsafe.</div>"
            for i in range(4)
        )
        + "<script>SCRIPT_LEAK()</script></div></body></html>"
    )
    article = clean_html(html)
    assert "the committee heard residents" in article.text
    assert "SCRIPT_LEAK" not in article.text


@pytest.mark.parametrize("html", ["", "   ", "<html></html>", "<html><body><nav>Home</nav></body></html>"])
def test_empty_html(html: str) -> None:
    article = clean_html(html)
    assert article.text == ""


def test_clean_needs_exactly_one_input() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        clean()
    with pytest.raises(ValueError, match="exactly one"):
        clean(html="<p>x</p>", text="x")
