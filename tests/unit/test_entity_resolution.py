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


def test_acronym_joins_its_unique_expansion() -> None:
    merges = _merges(
        ("Federal Bureau of Investigation", "ORG", 30),
        ("FBI", "ORG", 200),
        ("CIA", "ORG", 40),
        ("Central Intelligence Agency", "ORG", 10),
        ("Central Investment Authority", "ORG", 1),
    )
    assert merges["FBI"] == ("Federal Bureau of Investigation", "acronym")
    assert "CIA" not in merges  # two expansions: ambiguous


def test_company_suffix_is_a_short_form() -> None:
    assert _merges(("Microsoft", "ORG", 50), ("Microsoft Corp.", "ORG", 3)) == {
        "Microsoft Corp.": ("Microsoft", "short_form")
    }


def test_types_and_short_words_are_respected() -> None:
    assert _merges(("Iran", "GPE", 100), ("Iraq", "GPE", 10)) == {}
    assert _merges(("Hillary Clinton", "PERSON", 100), ("Hilary Clinton", "ORG", 1)) == {}


def test_every_proposal_has_a_reason_and_pairs_are_symmetric() -> None:
    proposals = propose_merges(
        [EntityRow("Hillary Clinton", "PERSON", 100), EntityRow("Hilary Clinton", "PERSON", 2)]
    )
    assert proposals[0].reason
    assert merge_pairs(proposals) == {("PERSON", "hilary clinton", "hillary clinton")}
