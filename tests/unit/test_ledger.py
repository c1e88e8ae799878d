"""An article's contribution to the global entity table and the difference between two enrichments."""

from __future__ import annotations

from services.enrich.entities.ledger import Contribution, contribution, difference

CLINTON = ("PERSON", "Hillary Clinton")
US = ("GPE", "United States")


def test_contribution_counts_one_article_per_entity_and_mentions_per_alias() -> None:
    got = contribution([(CLINTON, ["Hillary Clinton", "Clinton", "Clinton"]), (US, ["U.S."])])
    assert got.entities == {CLINTON: (1, 3), US: (1, 1)}
    assert got.aliases == {
        (CLINTON, "Hillary Clinton"): (1, 1),
        (CLINTON, "Clinton"): (2, 1),
        (US, "U.S."): (1, 1),
    }
    assert contribution([]) == Contribution()


def test_difference_of_equal_enrichments_is_all_zero_and_keeps_keys() -> None:
    same = contribution([(CLINTON, ["Clinton"]), (US, ["US", "U.S."])])
    delta = difference(same, same)
    assert set(delta.entities) == {CLINTON, US}
    assert all(d == (0, 0) for d in delta.entities.values())
    assert all(d == (0, 0) for d in delta.aliases.values())


def test_difference_moves_counts_by_what_changed() -> None:
    old = contribution([(CLINTON, ["Hillary Clinton", "Clinton"]), (US, ["U.S."])])
    new = contribution([(CLINTON, ["Mrs. Clinton"])])
    delta = difference(new, old)
    assert delta.entities == {CLINTON: (0, -1), US: (-1, -1)}
    assert delta.aliases == {
        (CLINTON, "Clinton"): (-1, -1),
        (CLINTON, "Hillary Clinton"): (-1, -1),
        (CLINTON, "Mrs. Clinton"): (1, 1),
        (US, "U.S."): (-1, -1),
    }
    assert list(delta.entities) == sorted(delta.entities), "sorted: one lock order for every worker"
