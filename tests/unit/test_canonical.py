"""Within-article canonicalisation and salience on small hand-made texts (pure functions, no model).

The NER spans are given by hand (as a model would give them), so each rule is tested on its own."""

from __future__ import annotations

import re

import pytest

from services.enrich.entities import ExtractedEntity, RawSpan, canonicalise, clean_span, lead_end
from services.enrich.entities.canonical import alias_of, initials, same_person_names, strip_honorific


def spans(text: str, field: str = "text", **labelled: str) -> list[RawSpan]:
    """Every occurrence of each ``surface=label`` pair (keys use "_" for spaces)."""
    out = []
    for key, label in labelled.items():
        surface = key.replace("__", ".").replace("_", " ")
        for m in re.finditer(re.escape(surface), text):
            out.append(RawSpan(field, m.start(), m.end(), label))  # type: ignore[arg-type]
    return sorted(out, key=lambda s: s.start)


def at(text: str, surface: str, label: str, field: str = "text", nth: int = 0) -> RawSpan:
    starts = [m.start() for m in re.finditer(re.escape(surface), text)]
    return RawSpan(field, starts[nth], starts[nth] + len(surface), label)  # type: ignore[arg-type]


def names(entities: tuple[ExtractedEntity, ...]) -> dict[str, tuple[str, list[str]]]:
    return {e.name: (e.type, [m.surface for m in e.mentions]) for e in entities}


def offsets_ok(entities: tuple[ExtractedEntity, ...], title: str | None, text: str) -> None:
    for e in entities:
        for m in e.mentions:
            assert (title if m.field == "title" else text)[m.start : m.end] == m.surface  # type: ignore[index]


CLINTON = (
    "Hillary Clinton arrived in Islamabad on Thursday. Clinton said the talks went well. "
    "Later Mrs. Clinton met the prime minister, and Clinton's aides briefed reporters."
)


def test_surname_honorific_and_possessive_join_full_name() -> None:
    found = canonicalise(
        title=None,
        text=CLINTON,
        spans=[
            at(CLINTON, "Hillary Clinton", "PERSON"),
            at(CLINTON, "Islamabad", "GPE"),
            at(CLINTON, "Clinton", "PERSON", nth=1),
            at(CLINTON, "Mrs. Clinton", "PERSON"),
            at(CLINTON, "Clinton's", "ORG"),  # a small model's typical label error, possessive included
        ],
    )
    by_name = names(found)
    assert set(by_name) == {"Hillary Clinton", "Islamabad"}
    assert by_name["Hillary Clinton"] == ("PERSON", ["Hillary Clinton", "Clinton", "Mrs. Clinton", "Clinton"])
    offsets_ok(found, None, CLINTON)


def test_ambiguous_surname_is_not_merged() -> None:
    text = (
        "Bill Clinton and Hillary Clinton arrived together. Clinton said the visit was private. "
        "Hillary Clinton later met the minister."
    )
    short = canonicalise(
        title=None,
        text=text,
        spans=[
            *spans(text, Bill_Clinton="PERSON", Hillary_Clinton="PERSON"),
            at(text, "Clinton", "PERSON", nth=2),
        ],
    )
    by_name = names(short)
    assert by_name["Clinton"] == ("PERSON", ["Clinton"])
    assert by_name["Bill Clinton"][1] == ["Bill Clinton"]
    assert by_name["Hillary Clinton"][1] == ["Hillary Clinton", "Hillary Clinton"]


def test_full_name_variants_join() -> None:
    text = (
        "Asif Ali Zardari spoke first. Asif Zardari then left. Hilary Clinton and Hillary Clinton. Zardari."
    )
    found = names(
        canonicalise(
            title=None,
            text=text,
            spans=spans(
                text,
                Asif_Ali_Zardari="PERSON",
                Asif_Zardari="PERSON",
                Hilary_Clinton="PERSON",
                Hillary_Clinton="PERSON",
            )
            + [at(text, "Zardari", "PERSON", nth=2)],
        )
    )
    assert found["Asif Ali Zardari"] == ("PERSON", ["Asif Ali Zardari", "Asif Zardari", "Zardari"])
    assert len([n for n in found if "Clinton" in n]) == 1
    assert same_person_names(["Asif", "Zardari"], ["Asif", "Ali", "Zardari"])
    assert not same_person_names(["Bill", "Clinton"], ["Hillary", "Clinton"])
    assert not same_person_names(["Mark", "Smith"], ["Mary", "Smith"])


@pytest.mark.parametrize(
    ("surface", "label", "expected"),
    [
        ("U.S.", "GPE", ("United States", "GPE")),
        ("US", "ORG", ("United States", "GPE")),
        ("United States", "GPE", ("United States", "GPE")),
        ("the United States", "GPE", ("United States", "GPE")),
        ("America", "GPE", ("United States", "GPE")),
        ("America", "ORG", None),  # only in GPE context
        ("us", "GPE", None),  # acronyms match in capitals only
        ("U.N.", "ORG", ("United Nations", "ORG")),
        ("UK", "GPE", ("United Kingdom", "GPE")),
        ("Britain", "GPE", ("United Kingdom", "GPE")),
        ("Pakistan", "GPE", None),
    ],
)
def test_alias_table(surface: str, label: str, expected: tuple[str, str] | None) -> None:
    assert alias_of(surface, label) == expected


def test_country_variants_join_with_table_type() -> None:
    text = "The U.S. economy grew. US officials said the United States and America would trade with Britain."
    found = names(
        canonicalise(
            title=None,
            text=text,
            spans=[
                at(text, "U.S.", "GPE"),
                at(text, "US", "ORG"),
                at(text, "the United States", "GPE"),
                at(text, "America", "GPE"),
                at(text, "Britain", "GPE"),
            ],
        )
    )
    assert found == {
        "United States": ("GPE", ["U.S.", "US", "United States", "America"]),
        "United Kingdom": ("GPE", ["Britain"]),
    }


def test_acronym_rule() -> None:
    text = (
        "The Pakistan Muslim League said on Monday it would join the coalition. A PML spokesman confirmed "
        "it. The Inter-Services Intelligence agency declined to comment; the ISI rarely does. The ABC "
        "network reported it."
    )
    found = names(
        canonicalise(
            title=None,
            text=text,
            spans=spans(
                text,
                Pakistan_Muslim_League="ORG",
                PML="ORG",
                **{"Inter-Services Intelligence": "ORG"},
                ISI="ORG",
                ABC="ORG",
            ),
        )
    )
    assert found["Pakistan Muslim League"][1] == ["Pakistan Muslim League", "PML"]
    assert found["Inter-Services Intelligence"][1] == ["Inter-Services Intelligence", "ISI"]
    assert found["ABC"][1] == ["ABC"]  # no long form in the article: stays itself
    assert "PML" in initials("Pakistan Muslim League")
    explicit = "Officials of the Tehrik-i-Taliban Pakistan (TTP) spoke. TTP fighters left."
    by_paren = names(canonicalise(title=None, text=explicit, spans=spans(explicit, TTP="ORG")))
    assert by_paren["TTP"][1] == ["TTP", "TTP"]


def test_acronym_does_not_join_a_person() -> None:
    text = "John Kerry met JK Rowling. JK said little."
    found = names(canonicalise(title=None, text=text, spans=spans(text, John_Kerry="PERSON", JK="ORG")))
    assert found["John Kerry"][1] == ["John Kerry"]


def test_headline_title_case_spans_are_trimmed_or_dropped() -> None:
    title = "Clinton Looks For Improved Ties As Envoy Meets Karzai"
    text = (
        "U.S. Secretary of State Hillary Clinton said on Monday that relations had improved. Clinton spoke "
        "in Tokyo, where she met Afghan President Hamid Karzai."
    )
    found = canonicalise(
        title=title,
        text=text,
        spans=[
            at(title, "Clinton Looks", "PERSON", field="title"),
            at(title, "Improved Ties As Envoy", "ORG", field="title"),  # title-only words: dropped
            at(title, "Karzai", "PERSON", field="title"),
            *spans(text, Hillary_Clinton="PERSON", Tokyo="GPE", Hamid_Karzai="PERSON"),
            at(text, "Clinton", "PERSON", nth=1),
        ],
    )
    by_name = names(found)
    assert by_name["Hillary Clinton"][1] == ["Clinton", "Hillary Clinton", "Clinton"]
    assert by_name["Hamid Karzai"][1] == ["Karzai", "Hamid Karzai"]
    assert set(by_name) == {"Hillary Clinton", "Hamid Karzai", "Tokyo"}
    offsets_ok(found, title, text)
    title_mention = next(m for m in found[0].mentions if m.field == "title")
    assert (title_mention.start, title_mention.end) == (0, len("Clinton"))


def test_headline_leftover_common_word_is_dropped_and_unrepeated_name_kept() -> None:
    title = "Clinton Seeks Better U.S.-Pakistan Relations With Larry Fine"
    text = (
        "Rocky Relations\n\nThe secretary said relations with Islamabad were improving, U.S. officials said."
    )
    found = canonicalise(
        title=title,
        text=text,
        spans=[
            at(
                title, "U.S.-Pakistan Relations", "ORG", field="title"
            ),  # trimmed to "Relations": a common word
            at(title, "Larry Fine", "PERSON", field="title"),  # not in the body, no common word: kept
            *spans(text, Rocky_Relations="ORG", Islamabad="GPE", **{"U.S.": "GPE"}),
        ],
    )
    by_name = names(found)
    assert by_name["Larry Fine"] == ("PERSON", ["Larry Fine"])
    assert by_name["Rocky Relations"] == ("ORG", ["Rocky Relations"])
    assert "Relations" not in by_name
    assert "U.S.-Pakistan Relations" not in by_name


def test_title_only_entity_kept_when_there_is_no_body() -> None:
    title = "Obama Wins Nobel Prize"
    found = canonicalise(title=title, text="", spans=[at(title, "Obama", "PERSON", field="title")])
    assert names(found) == {"Obama": ("PERSON", ["Obama"])}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("the NATO's, ", "NATO"),
        ("“United Nations”", "United Nations"),
        ("Rocky Relations\n\nHowever", "Rocky Relations"),
        ("U.S.", "U.S."),
        ("Pakistan.", "Pakistan"),
        ("(Reuters)", "(Reuters)"),
        ("Clinton’s", "Clinton"),
    ],
)
def test_clean_span(raw: str, expected: str) -> None:
    start, end = clean_span(raw, 0, len(raw))
    assert raw[start:end] == expected


def test_junk_names_are_dropped_and_honorifics_only_for_people() -> None:
    text = "said 2024 . General Motors and President Obama"
    found = names(
        canonicalise(
            title=None,
            text=text,
            spans=spans(text, said="ORG", **{"2024": "GPE", ".": "ORG"}, General_Motors="ORG")
            + [at(text, "President Obama", "PERSON"), at(text, "2024", "DATE")],
        )
    )
    assert set(found) == {"General Motors", "Obama"}
    assert strip_honorific("General Motors", person=False) == "General Motors"
    assert strip_honorific("Sen. Jane Doe") == "Jane Doe"
    assert strip_honorific("Mr.") == "Mr."


def test_salience_orders_title_lead_and_frequency() -> None:
    title = "Merkel meets Macron in Berlin"
    text = (
        "German Chancellor Angela Merkel met French President Emmanuel Macron on Monday in Berlin, where "
        "the two leaders discussed the budget.\n\nMerkel said the talks were good. Merkel added that more "
        "would follow.\n\nLater, a spokesman in Brussels said Macron would return in May."
    )
    found = canonicalise(
        title=title,
        text=text,
        spans=[
            at(title, "Merkel", "PERSON", field="title"),
            at(title, "Macron", "PERSON", field="title"),
            at(title, "Berlin", "GPE", field="title"),
            *spans(text, Angela_Merkel="PERSON", Emmanuel_Macron="PERSON", Berlin="GPE", Brussels="GPE"),
            at(text, "Merkel", "PERSON", nth=1),
            at(text, "Merkel", "PERSON", nth=2),
            at(text, "Macron", "PERSON", nth=1),
        ],
    )
    order = [e.name for e in found]
    assert order == ["Angela Merkel", "Emmanuel Macron", "Berlin", "Brussels"]
    merkel, brussels = found[0].salience, found[-1].salience
    assert merkel.mention_count == 4
    assert merkel.in_title
    assert merkel.in_lead
    assert merkel.first_offset == text.index("Angela Merkel")
    assert merkel.score == pytest.approx(1.0 - 0.15 * merkel.first_offset / len(text), abs=1e-4)
    assert not brussels.in_title
    assert not brussels.in_lead
    assert 0.0 < brussels.score < found[-2].salience.score
    assert all(0.0 <= e.salience.score <= 1.0 for e in found)


def test_lead_is_first_substantial_paragraph() -> None:
    assert lead_end("BRUSSELS -\n" + "x" * 120 + "\nmore") == len("BRUSSELS -\n") + 120
    assert lead_end("one line only") == len("one line only")


def test_empty_and_deterministic() -> None:
    assert canonicalise(title=None, text="", spans=[]) == ()
    args = {
        "title": None,
        "text": CLINTON,
        "spans": spans(CLINTON, Hillary_Clinton="PERSON", Clinton="PERSON"),
    }
    assert canonicalise(**args) == canonicalise(**args)  # type: ignore[arg-type]
