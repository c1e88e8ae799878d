"""Flattened text (no line structure): sentence segmentation, menu runs, and the cleaning fallback."""

from __future__ import annotations

import pytest

from services.ingest.cleaning import clean_text
from services.ingest.cleaning.models import REASONS
from services.ingest.cleaning.text import (
    clean_plain_text,
    is_flattened,
    line_hash,
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


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        pytest.param(
            "Mr. Smith met Dr. Jones in the U.S. capital. It was J. Doe who called. They left at noon!",
            [
                "Mr. Smith met Dr. Jones in the U.S. capital.",
                "It was J. Doe who called.",
                "They left at noon!",
            ],
            id="abbreviations and initials",
        ),
        pytest.param(
            'He said "we will build it." Then he left (as planned.) Work starts soon.',
            ['He said "we will build it."', "Then he left (as planned.)", "Work starts soon."],
            id="closing quotes and brackets kept",
        ),
        pytest.param(
            "Совет одобрил план во вторник. Работы начнутся весной.",
            ["Совет одобрил план во вторник.", "Работы начнутся весной."],
            id="Cyrillic capitals",
        ),
        pytest.param(
            "시의회가 화요일에 계획을 승인했다. 공사는 봄에 시작된다.",
            ["시의회가 화요일에 계획을 승인했다.", "공사는 봄에 시작된다."],
            id="a script without case",
        ),
        pytest.param(
            "市議会は火曜日に計画を承認した。工事は春に始まる予定だ。",
            ["市議会は火曜日に計画を承認した。", "工事は春に始まる予定だ。"],
            id="CJK full stop, no space",
        ),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


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


# -------------------------------------------------------------------------------------------------
# Sentence-level signals of flattened text
# -------------------------------------------------------------------------------------------------

TEASERS = [
    ("Mayor Unveils Plan For Riverside Park", "The park would add two miles of trails along the water."),
    ("Local Bakery Wins National Award", "Judges praised its sourdough, which has a loyal following."),
    ("School Board Delays Vote On Start Times", "Parents packed the meeting to argue for a later bell."),
    ("Storm Knocks Out Power To Thousands", "Crews expect to restore service by the end of the day."),
    ("Hospital Opens New Cancer Wing", "The wing doubles the number of treatment rooms available."),
]


def test_readers_comments_after_the_article_go() -> None:
    comments = (
        "Alex Rivera says: November 19, 2019 at 7:06 am I have waited years for this, the bus is useless."
        " Maria says: November 19, 2019 at 8:15 am Great news for the night shift workers in our district."
        " Sam on November 20, 2019 at 9:01 pm said: Who will pay for all of it in the end?"
    )
    result = clean_plain_text(" ".join([*BODY, comments]))
    for sentence in BODY:
        assert sentence in result.text
    assert "waited years" not in result.text
    assert "Who will pay" not in result.text
    assert {p.reason for p in result.removed if "says:" in p.text or "said:" in p.text} == {"reader_comments"}


def test_a_quote_is_not_a_comment_signature() -> None:
    body = [*BODY[:4], 'The mayor said: "We will find the money, and the buses will run." ', *BODY[4:]]
    result = clean_plain_text(" ".join(body))
    assert "We will find the money" in result.text
    assert not any(p.reason == "reader_comments" for p in result.removed)


def test_teasers_of_other_stories_outside_the_article_go() -> None:
    teasers = " ".join(f"{headline} {summary}" for headline, summary in TEASERS)
    result = clean_plain_text(" ".join([MENU, *BODY, "More Stories", teasers, FOOTER]))
    for sentence in BODY:
        assert sentence in result.text
    for _, summary in TEASERS:
        assert summary not in result.text
    reasons = {p.reason for p in result.removed if any(s in p.text for _, s in TEASERS)}
    assert reasons == {"outside_main_text"}


def test_a_caption_repeated_between_paragraphs_does_not_make_the_article_a_teaser_list() -> None:
    caption = "Council Chamber Photo Gallery Image Credit City Hall"
    body = [s for s in BODY if not s.startswith("Mr.")]
    parts = [body[0]]
    for sentence in body[1:-1]:
        parts += [caption, sentence]
    parts.append(body[-1])
    teasers = " ".join(f"{headline} {summary}" for headline, summary in TEASERS[:2])
    result = clean_plain_text(" ".join([*parts, "More Stories", teasers]))
    for sentence in body:
        assert sentence in result.text
    assert TEASERS[1][1] not in result.text


def test_an_article_shown_twice_keeps_one_copy_of_its_prose() -> None:
    result = clean_plain_text(" ".join([*BODY, "Advertisement", *BODY]))
    for sentence in BODY:
        assert result.text.count(sentence) == 1


def test_cookie_banners_go_with_their_reason() -> None:
    banner = (
        "We use cookies to improve your experience. By continuing to browse, you agree to our use of cookies."
    )
    result = clean_plain_text(" ".join([banner, *BODY]))
    assert "cookies" not in result.text
    assert {p.reason for p in result.removed if "cookies" in p.text} == {"cookie_notice"}
    assert BODY[0] in result.text


def test_a_sentence_the_source_repeats_goes_in_flattened_text_too() -> None:
    promo = "Support independent local journalism by becoming a member of the Gazette today."
    flat = " ".join([*BODY[:4], promo, *BODY[4:]])
    assert promo in clean_plain_text(flat).text, "reads like prose: only the source's history catches it"
    learned = clean_plain_text(flat, known_boilerplate={line_hash(promo)})
    assert promo not in learned.text
    assert [p.reason for p in learned.removed if p.text == promo] == ["repeated_for_source"]


def test_near_empty_flattened_cleaning_keeps_the_input_with_a_flag() -> None:
    items = " ".join(f"Product Item Number {n} Blue Cotton Shirt Large" for n in range(40))
    article = clean_text(items)
    assert "cleaning_fallback" in article.flags
    assert len(article.text.split()) == len(items.split())
