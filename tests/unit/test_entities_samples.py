"""Entity goals on every sample article (samples/ and, when present, ../shared/seeds/), with the real
cleaner and the real model: what reaches the model is the cleaned body and the title only, every person
mentioned by surname alone is merged into the full name the article gives, and no entity comes from the
junk the cleaner dropped.  The checks are generic: no sample's names are written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswire_cli.files import fallback_title
from services.enrich.nlp import Enricher, Enrichment
from services.ingest.cleaning.service import clean_text

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_FILES = sorted(
    {
        p.name: p for d in (ROOT / "samples", ROOT.parent / "shared" / "seeds") for p in d.glob("*.txt")
    }.values()
)


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def _enrich(enricher: Enricher, path: Path) -> tuple[str, str, Enrichment, list[str]]:
    cleaned = clean_text(path.read_text(encoding="utf-8"))
    title = cleaned.title or fallback_title(cleaned.text) or path.stem
    return (
        title,
        cleaned.text,
        enricher.enrich(title=title, text=cleaned.text),
        [r.text for r in cleaned.removed],
    )


def test_there_are_samples() -> None:
    assert len(SAMPLE_FILES) >= 5


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_surnames_join_full_names(enricher: Enricher, path: Path) -> None:
    _, _, result, _ = _enrich(enricher, path)
    persons = [e for e in result.entities if e.type == "PERSON"]
    assert persons
    full = [e.name.split() for e in persons if len(e.name.split()) >= 2]
    for entity in persons:
        words = entity.name.split()
        if len(words) != 1:
            continue
        owners = [f for f in full if f[-1].casefold() == words[0].casefold()]
        # a surname left alone only when the article gives no full name, or two people share it
        assert len(owners) != 1, f"{entity.name!r} not merged into {' '.join(owners[0])!r}"


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_no_entity_from_junk(enricher: Enricher, path: Path) -> None:
    title, text, result, removed = _enrich(enricher, path)
    assert removed, "the samples carry web junk the cleaner drops"
    for entity in result.entities:
        for m in entity.mentions:
            assert (title if m.field == "title" else text)[m.start : m.end] == m.surface
    junk_only = set()
    for doc in enricher.nlp.pipe(removed):
        for ent in doc.ents:
            if ent.text not in text and ent.text not in title:
                junk_only.add(ent.text)
    surfaces = {m.surface for e in result.entities for m in e.mentions} | {e.name for e in result.entities}
    assert not (junk_only & surfaces)
