"""Flattened text (no line structure): sentence segmentation, menu runs, and the cleaning fallback."""

from __future__ import annotations

from services.ingest.cleaning import clean_text
from services.ingest.cleaning.models import REASONS
from services.ingest.cleaning.text import (
    clean_plain_text,
    is_flattened,
    split_menu_runs,
    split_sentences,
)

BODY = [
    "The city council voted on Tuesday to expand the bus network across the northern districts.",
    "Mr. Alvarez, who chairs the transport committee, said the plan would cost about $40 million.",
    "Residents had complained for years that the last bus left the centre before most shifts ended.",
    "The new routes will run every fifteen minutes from early morning until after midnight.",
    "Opponents argued that the money would be better spent on repairing the roads in the area.",
    "A final vote on the budget is expected next month, when the council returns from its recess.",
    "Officials said the first new buses could be on the streets by the start of the summer.",
    "The transport authority will hold public meetings in each district before then.",
]
MENU = "Home News Sport Weather Business Culture Travel Video Podcasts Newsletters"
FOOTER = "Share this article Facebook Twitter Email Sign up for our newsletter Privacy Policy Terms of Use"


def test_split_sentences_keeps_abbreviations_and_initials() -> None:
    text = "Mr. Smith met Dr. Jones in the U.S. capital. It was J. Doe who called. They left at noon!"
    assert split_sentences(text) == [
        "Mr. Smith met Dr. Jones in the U.S. capital.",
        "It was J. Doe who called.",
        "They left at noon!",
    ]


def test_split_sentences_joins_tiny_fragments_to_the_next() -> None:
    assert split_sentences("Breaking. The storm reached the coast on Monday.") == [
        "Breaking. The storm reached the coast on Monday."
    ]


def test_menu_runs_are_cut_out_of_a_sentence() -> None:
    pieces = split_menu_runs(f"{MENU} The council voted on Tuesday to expand the network.")
    assert pieces[0] == MENU
    assert pieces[1].startswith("The council voted")


def test_a_proper_name_is_not_a_menu_run() -> None:
    sentence = "Officials in New York City said on Monday that the plan would go ahead."
    assert split_menu_runs(sentence) == [sentence]


def test_is_flattened() -> None:
    long_line = " ".join(BODY * 3)
    assert is_flattened([long_line])
    assert is_flattened(["Title", long_line])
    assert not is_flattened(BODY)  # one sentence a line: structure present
    assert not is_flattened(["A short text on one line."])


def test_flattened_article_keeps_its_body_and_drops_menus_and_footer() -> None:
    flat = " ".join([MENU, *BODY, FOOTER])
    result = clean_plain_text(flat)
    assert result.flattened
    assert not result.fallback
    for sentence in BODY:
        assert sentence in result.text
    assert "Podcasts Newsletters" not in result.text
    assert "Privacy Policy" not in result.text
    # every path reports what it removed and why
    assert [piece.text for piece in result.removed] == [MENU, FOOTER]
    assert all(piece.reason in REASONS for piece in result.removed)


def test_flattened_and_lined_input_give_the_same_body_words() -> None:
    lined = clean_text("\n\n".join([MENU, *BODY, FOOTER]))
    flat = clean_text(" ".join([MENU, *BODY, FOOTER]))
    assert lined.text.split() == flat.text.replace("\n\n", " ").split()


def test_near_empty_cleaning_keeps_the_input_with_a_flag() -> None:
    # a list of short, unpunctuated, title-case items: the cleaner would keep next to nothing
    items = [f"Product Item Number {n} Blue Cotton Shirt Large" for n in range(40)]
    text = "\n".join(items)
    article = clean_text(text)
    assert "cleaning_fallback" in article.flags
    assert article.confidence < 1.0
    assert len(article.text.split()) == len(text.split())


def test_a_clean_article_is_not_a_fallback() -> None:
    article = clean_text("\n\n".join(BODY))
    assert "cleaning_fallback" not in article.flags
    assert article.text == "\n\n".join(BODY)


def test_recall_retry_signal() -> None:
    from services.ingest.cleaning.html import needs_recall_retry, takes_recall_retry

    assert needs_recall_retry(40, 1000)  # 4% of the visible words: a fragment
    assert not needs_recall_retry(300, 1000)
    assert not needs_recall_retry(0, 0)
    assert takes_recall_retry(40, 400)
    assert not takes_recall_retry(40, 90)  # not enough more to be worth its extra junk
    assert takes_recall_retry(0, 5)
