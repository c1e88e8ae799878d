"""Operator overrides applied to canonical entities, on small hand-made texts (pure functions, no model)."""

from __future__ import annotations

from services.enrich.entities import ExtractedEntity, canonicalise
from services.enrich.entities.overrides import Override, OverrideSet, apply_overrides, normalise_surface
from tests.unit.test_canonical import at, names

TEXT = (
    "Officials in Washington said on Monday that Washington would not change course. "
    "Acme Corp and Acme Corporation both denied it. The U.S. economy grew, the U.S. Treasury said."
)


def _entities() -> tuple[ExtractedEntity, ...]:
    spans = [
        at(TEXT, "Washington", "GPE", nth=0),
        at(TEXT, "Washington", "GPE", nth=1),
        at(TEXT, "Monday", "PERSON"),
        at(TEXT, "Acme Corp", "ORG"),
        at(TEXT, "Acme Corporation", "ORG"),
        at(TEXT, "U.S.", "GPE", nth=0),
        at(TEXT, "U.S. Treasury", "ORG"),
    ]
    return canonicalise(title=None, text=TEXT, spans=sorted(spans, key=lambda s: s.start))


def _apply(*overrides: Override) -> dict[str, tuple[str, list[str]]]:
    result = apply_overrides(entities=_entities(), overrides=OverrideSet(overrides), text=TEXT)
    for e in result:
        for m in e.mentions:
            assert TEXT[m.start : m.end] == m.surface
    assert all(0 <= e.salience.score <= 1 for e in result)
    return names(result)


def test_baseline() -> None:
    got = names(_entities())
    assert got["Washington"] == ("GPE", ["Washington", "Washington"])
    assert "Monday" in got
    assert "Acme Corp" in got
    assert "Acme Corporation" in got


def test_no_overrides_is_the_identity() -> None:
    entities = _entities()
    assert apply_overrides(entities=entities, overrides=OverrideSet(), text=TEXT) == entities
    unrelated = OverrideSet((Override("ignore", "Nowhere"),))
    assert apply_overrides(entities=entities, overrides=unrelated, text=TEXT) == entities


def test_alias_renames_and_retypes() -> None:
    got = _apply(Override("alias", "washington", target_name="United States government", target_type="ORG"))
    assert "Washington" not in got
    assert got["United States government"] == ("ORG", ["Washington", "Washington"])


def test_alias_keeps_the_type_when_none_is_given() -> None:
    got = _apply(Override("alias", "Washington", target_name="Washington, D.C."))
    assert got["Washington, D.C."] == ("GPE", ["Washington", "Washington"])


def test_alias_joins_an_existing_entity() -> None:
    got = _apply(Override("alias", "Acme Corp", target_name="Acme Corporation"))
    assert got["Acme Corporation"] == ("ORG", ["Acme Corp", "Acme Corporation"])
    assert "Acme Corp" not in got


def test_merge_moves_all_mentions_and_recomputes_salience() -> None:
    before = {e.name: e for e in _entities()}
    after = {
        e.name: e
        for e in apply_overrides(
            entities=_entities(),
            overrides=OverrideSet((Override("merge", "Acme Corporation", "ORG", "Acme Corp"),)),
            text=TEXT,
        )
    }
    assert "Acme Corporation" not in after
    assert [m.surface for m in after["Acme Corp"].mentions] == ["Acme Corp", "Acme Corporation"]
    assert after["Acme Corp"].salience.mention_count == 2
    assert after["Acme Corp"].salience.score > before["Acme Corp"].salience.score


def test_merge_of_another_type_does_not_apply() -> None:
    got = _apply(Override("merge", "Acme Corporation", "PERSON", "Acme Corp"))
    assert "Acme Corporation" in got


def test_merges_chain_and_stop_on_a_cycle() -> None:
    got = _apply(
        Override("merge", "Acme Corp", target_name="Acme Corporation"),
        Override("merge", "Acme Corporation", target_name="Acme Inc"),
        Override("merge", "Acme Inc", target_name="Acme Corp"),
    )
    assert [n for n in got if n.startswith("Acme")] == ["Acme Corp"]  # the cycle's least member
    assert got["Acme Corp"] == ("ORG", ["Acme Corp", "Acme Corporation"])
    chain = _apply(
        Override("merge", "Acme Corp", target_name="Acme Corporation"),
        Override("merge", "Acme Corporation", target_name="Acme Inc"),
    )
    assert chain["Acme Inc"] == ("ORG", ["Acme Corp", "Acme Corporation"])


def test_ignore_drops_an_entity() -> None:
    got = _apply(Override("ignore", "Monday"))
    assert "Monday" not in got
    assert "Washington" in got


def test_type_specific_ignore() -> None:
    assert "Monday" in _apply(Override("ignore", "Monday", "DATE"))
    assert "Monday" not in _apply(Override("ignore", "Monday", "PERSON"))


def test_ignore_drops_a_mention_of_a_larger_entity() -> None:
    got = _apply(
        Override("alias", "U.S. Treasury", target_name="United States"),
        Override("ignore", "U.S. Treasury"),
    )
    assert "U.S. Treasury" not in got  # ignore wins over alias
    assert got["United States"][1] == ["U.S."]


def test_precedence_type_specific_over_any_type() -> None:
    got = _apply(
        Override("alias", "Washington", target_name="George Washington", target_type="PERSON"),
        Override("alias", "Washington", "GPE", target_name="United States government", target_type="ORG"),
    )
    assert got["United States government"] == ("ORG", ["Washington", "Washington"])
    assert "George Washington" not in got


def test_alias_then_merge() -> None:
    got = _apply(
        Override("alias", "Washington", target_name="US government", target_type="ORG"),
        Override("merge", "us government", "ORG", "United States government"),
    )
    assert got["United States government"] == ("ORG", ["Washington", "Washington"])


def test_version_names_the_set() -> None:
    a = OverrideSet((Override("ignore", "Monday"), Override("alias", "UK", target_name="Britain")))
    b = OverrideSet((Override("alias", "uk", target_name="Britain"), Override("ignore", "monday")))
    assert OverrideSet().version == "0"
    assert a.version == b.version
    assert a.version.startswith("2-")
    assert (
        OverrideSet((Override("ignore", "Monday", "PERSON"),)).version
        != OverrideSet((Override("ignore", "Monday"),)).version
    )
    assert normalise_surface("  The   U.S.\n") == "the u.s."
