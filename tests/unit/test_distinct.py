"""services.ingest.articles.distinct: near-duplicate pairs told apart by what differs (hand-made cases)."""

from __future__ import annotations

import random

import pytest

from scripts.templated_events import TEMPLATES, events
from services.ingest.articles.dedup import content_hash
from services.ingest.articles.distinct import compare, conflicts, is_distinct, tokens

QUAKE = (
    "A magnitude {m} earthquake struck {km} kilometres {d} of {place}, California, on {day} at {t} local "
    "time, according to the United States Geological Survey. The quake occurred at a depth of {depth} "
    "kilometres. There were no immediate reports of damage or injuries, local officials said."
)
STORY = (
    "Officials in Springfield said on Tuesday that the new bridge over the river would open next spring, "
    "two years later than planned. The mayor, Jane Okafor, blamed rising costs and a shortage of steel. "
    "Residents have complained for months about traffic on the old crossing, which carries 40,000 cars a "
    "day. The council will vote on extra funding at its meeting in March."
)


def quake(**fill: str) -> str:
    base = {"m": "5.2", "km": "10", "d": "south-west", "place": "Ridgecrest", "day": "Tuesday", "t": "10:42"}
    return QUAKE.format(**{**base, "depth": "8.1", **fill})


def distinct_bodies(a: str, b: str) -> bool:
    return is_distinct(title_a=None, text_a=a, title_b=None, text_b=b)


@pytest.mark.parametrize(
    ("fill", "differs"),
    [
        ({"m": "4.7"}, ("5.2", "4.7")),  # a number
        ({"place": "Anza"}, ("Ridgecrest", "Anza")),  # a place
        ({"day": "Wednesday"}, ("Tuesday", "Wednesday")),  # a date
        ({"t": "03:15"}, ("10:42", "03:15")),  # a time
        ({"km": "23", "d": "north"}, ("10 kilometres south west", "23 kilometres north")),
    ],
)
def test_one_changed_fact_makes_two_events(fill: dict[str, str], differs: tuple[str, str]) -> None:
    found = conflicts(title_a=None, text_a=quake(), title_b=None, text_b=quake(**fill))
    assert found, "a substituted number, name, date or time is another event"
    assert any(differs[0] in c.a and differs[1] in c.b for c in found), found


def test_a_syndicated_copy_is_not_distinct() -> None:
    copy = (
        "Copyright 2024 The Associated Press. All rights reserved.\n\n"
        + STORY.replace("Tuesday that", "Tuesday that")
        + "\n\nReporting by staff writers; editing by the news desk. Follow us on Twitter."
    )
    assert not distinct_bodies(STORY, copy), "added boilerplate is an insertion, never a conflict"
    cut = STORY.rsplit(" The council", 1)[0]
    assert not distinct_bodies(STORY, cut), "a cut tail is a deletion"
    year = "The project was first announced in 2015 by the state. Residents have"
    added = STORY.replace("Residents have", year)
    assert not distinct_bodies(STORY, added), "an added sentence (with a year) is an insertion"


def test_spelling_fixes_and_spacing_are_not_conflicts() -> None:
    assert not distinct_bodies(STORY, STORY.replace("Okafor", "Okafro")), "a swapped pair of letters"
    assert not distinct_bodies(STORY, STORY.replace("Springfield", "Springfeld")), "a near spelling"
    assert not distinct_bodies(STORY, STORY.replace("40,000", "40000")), "thousands separator"
    assert not distinct_bodies(STORY, STORY.replace("said on", "announced on")), "a verb is not a fact"
    assert not distinct_bodies(STORY, STORY.replace("Officials in", "Authorities in")), "sentence start"


def test_numbers_are_never_read_as_typos() -> None:
    assert distinct_bodies(STORY, STORY.replace("40,000", "40,500"))
    assert distinct_bodies(STORY, STORY.replace("40,000", "4,000"))
    assert distinct_bodies(STORY, STORY.replace("two years", "three years")), "number words count"
    assert distinct_bodies(STORY, STORY.replace("Jane Okafor", "John Brennan")), "another person"


def test_titles_are_compared_too() -> None:
    body = quake()
    found = conflicts(
        title_a="M 5.2 - 10 km SW of Ridgecrest, CA",
        text_a=body,
        title_b="M 4.7 - 10 km SW of Ridgecrest, CA",
        text_b=body,
    )
    assert [(c.field, c.a, c.b) for c in found] == [("title", "5.2", "4.7")]
    # another outlet's headline for the same story is a rewrite, not a substituted fact
    assert not is_distinct(
        title_a="Bridge opening delayed by two years",
        text_a=STORY,
        title_b="Springfield's new river crossing will open late, mayor says",
        text_b=STORY,
    )


def test_title_case_headline_words_are_not_names() -> None:
    assert not is_distinct(
        title_a="Council Approves Budget For New Bridge",
        text_a=STORY,
        title_b="Council Backs Budget For New Bridge",
        text_b=STORY,
    )


def test_tokens_kinds() -> None:
    kinds = {t.text: t.kind for t in tokens("The quake hit Hilo at 10:42. Hilo said 1,200 people left.")}
    assert kinds["10:42"] == kinds["1,200"] == "number"
    assert kinds["Hilo"] == "name"
    assert kinds["The"] == kinds["quake"] == "word"
    assert [t.key for t in tokens("1,200")] == ["1200"]


def test_compare_records_what_differs() -> None:
    result = compare(title_a=None, text_a=STORY, title_b=None, text_b=STORY + " More to follow soon.")
    assert not result.distinct
    assert result.as_json() == {
        "conflicts": [],
        "words_only_in_original": 0,
        "words_only_in_article": 4,
        "words_replaced": 0,
    }


def test_every_generated_templated_pair_is_distinct() -> None:
    made = events(random.Random(3), per_template=6)
    assert {e.template for e in made} == set(TEMPLATES)
    assert len(TEMPLATES) >= 6
    for index, a in enumerate(made):
        for b in made[index + 1 :]:
            if a.template == b.template:
                assert is_distinct(title_a=a.title, text_a=a.text, title_b=b.title, text_b=b.text), (a, b)
    assert all(len(e.text.split()) >= 80 for e in made)


def test_the_exact_key_includes_the_title() -> None:
    assert content_hash("More to follow.", title="Quake hits Tokyo") != content_hash(
        "More to follow.", title="Markets close higher"
    )
    assert content_hash("More to follow.", title="Quake hits Tokyo") == content_hash(
        "more to follow", title="QUAKE hits  Tokyo!"
    )
    assert content_hash("x") != content_hash("x", title="")
