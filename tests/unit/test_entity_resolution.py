"""Entity resolution across articles: each rule on small hand-made tables, and what must never merge."""

from __future__ import annotations

from services.enrich.entities.resolution import EntityRow, edit_distance, merge_pairs, propose_merges


def _merges(*rows: tuple[str, str, int]) -> dict[str, tuple[str, str]]:
    return {p.source: (p.target, p.rule) for p in propose_merges(EntityRow(*r) for r in rows)}


def test_edit_distance() -> None:
    assert edit_distance("Hilary", "Hillary") == 1
    assert edit_distance("Clinotn", "Clinton") == 1  # a swap is one edit
    assert edit_distance("Bill", "Hillary") > 2


def test_rare_misspelling_joins_the_common_spelling() -> None:
    merges = _merges(("Hillary Clinton", "PERSON", 120), ("Hilary Clinton", "PERSON", 3))
    assert merges == {"Hilary Clinton": ("Hillary Clinton", "spelling")}


def test_two_spellings_of_similar_frequency_stay_apart() -> None:
    assert _merges(("Hillary Clinton", "PERSON", 10), ("Hilary Clinton", "PERSON", 6)) == {}


def test_distinct_people_sharing_a_surname_never_merge() -> None:
    table = [
        ("Hillary Clinton", "PERSON", 300),
        ("Bill Clinton", "PERSON", 40),
        ("Chelsea Clinton", "PERSON", 2),
        ("President Clinton", "PERSON", 5),
        ("Mrs. Clinton", "PERSON", 5),
    ]
    assert _merges(*table) == {}


def test_two_real_first_names_are_not_a_misspelling() -> None:
    table = [
        ("John Smith", "PERSON", 50),
        ("Jon Smith", "PERSON", 2),
        ("John Doe", "PERSON", 5),
        ("Jon Stewart", "PERSON", 9),
    ]
    assert "Jon Smith" not in _merges(*table)


def test_title_forms_join_the_bare_name() -> None:
    merges = _merges(
        ("Elizabeth Warren", "PERSON", 80),
        ("Sen. Elizabeth Warren", "PERSON", 4),
        ("Donald Trump", "PERSON", 900),
        ("President Trump", "PERSON", 300),
    )
    assert merges["Sen. Elizabeth Warren"] == ("Elizabeth Warren", "title")
    assert merges["President Trump"] == ("Donald Trump", "title")


def test_initial_and_surname_need_a_unique_candidate() -> None:
    merges = _merges(
        ("Hillary Clinton", "PERSON", 100), ("Bill Clinton", "PERSON", 50), ("H. Clinton", "PERSON", 2)
    )
    assert merges == {"H. Clinton": ("Hillary Clinton", "initial")}
    ambiguous = _merges(
        ("Hillary Clinton", "PERSON", 100), ("Hugh Clinton", "PERSON", 5), ("H. Clinton", "PERSON", 2)
    )
    assert ambiguous == {}


def test_acronym_joins_its_unique_expansion_written_with_it() -> None:
    rows = [
        EntityRow("Federal Bureau of Investigation", "ORG", 30, frozenset({"FBI", "Federal Bureau"})),
        EntityRow("FBI", "ORG", 200),
        EntityRow("CIA", "ORG", 40),
        EntityRow("Central Intelligence Agency", "ORG", 10, frozenset({"CIA"})),
        EntityRow("Central Investment Authority", "ORG", 1),
        EntityRow("ABC", "ORG", 15),
        EntityRow("American Benefits Council", "ORG", 1),
    ]
    merges = {p.source: (p.target, p.rule) for p in propose_merges(rows)}
    assert merges["FBI"] == ("Federal Bureau of Investigation", "acronym")
    assert "CIA" not in merges  # two expansions: ambiguous
    assert "ABC" not in merges  # initials alone: never written together


def test_two_letter_acronyms_are_left_to_the_alias_table() -> None:
    rows = [EntityRow("AP", "ORG", 8), EntityRow("Akasaka Palace", "ORG", 1, frozenset({"AP"}))]
    assert propose_merges(rows) == []


def test_plurals_and_one_word_names_are_not_misspellings() -> None:
    assert _merges(("Syrian", "NORP", 20), ("Syrians", "NORP", 2)) == {}
    assert _merges(("AP Photo", "ORG", 20), ("AP Photos", "ORG", 1)) == {}
    assert _merges(("Kelly", "PERSON", 30), ("Kelley", "PERSON", 1)) == {}
    assert _merges(("CBS News", "ORG", 30), ("CBN News", "ORG", 1)) == {}  # a short word: another name


def test_accents_alone_merge_even_one_word() -> None:
    assert _merges(("Erdogan", "PERSON", 20), ("Erdoğan", "PERSON", 2)) == {
        "Erdoğan": ("Erdogan", "spelling")
    }


def test_company_suffix_is_a_short_form() -> None:
    assert _merges(("Microsoft", "ORG", 50), ("Microsoft Corp.", "ORG", 3)) == {
        "Microsoft Corp.": ("Microsoft", "short_form")
    }


def test_types_and_short_words_are_respected() -> None:
    assert _merges(("Iran", "GPE", 100), ("Iraq", "GPE", 10)) == {}
    assert _merges(("Iranian", "NORP", 100), ("Italian", "NORP", 2)) == {}
    assert _merges(("Hillary Clinton", "PERSON", 100), ("Hilary Clinton", "ORG", 1)) == {}


def test_every_proposal_has_a_reason_and_pairs_are_symmetric() -> None:
    proposals = propose_merges(
        [EntityRow("Hillary Clinton", "PERSON", 100), EntityRow("Hilary Clinton", "PERSON", 2)]
    )
    assert proposals[0].reason
    assert merge_pairs(proposals) == {("PERSON", "hilary clinton", "hillary clinton")}
