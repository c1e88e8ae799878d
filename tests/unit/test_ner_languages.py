"""NER in French, Spanish, Dutch and German: each language's pipeline (real models, shipped weights) and the
routing of the enricher by detected language.  Sentences written for these tests (not evaluation data)."""

from __future__ import annotations

import pytest

from services.enrich.nlp import Enricher, Enrichment
from services.enrich.nlp.keyphrases import extract_keyphrases, stop_words
from services.enrich.nlp.ner_registry import version_name

# (language, text, person, organisation, place)
SENTENCES = [
    (
        "fr",
        "Le ministre Bruno Le Maire a rencontré mardi à Marseille les dirigeants de la société Airbus pour "
        "parler des nouvelles usines.",
        "Bruno Le Maire",
        "Airbus",
        "Marseille",
    ),
    (
        "es",
        "La ministra Yolanda Díaz se reunió el lunes en Sevilla con los directivos de Iberdrola para hablar "
        "del empleo en Andalucía.",
        "Yolanda Díaz",
        "Iberdrola",
        "Sevilla",
    ),
    (
        "nl",
        "Minister Hugo de Jonge sprak dinsdag in Rotterdam met de directie van de Rabobank over nieuwe banen "
        "in de regio.",
        "Hugo de Jonge",
        "Rabobank",
        "Rotterdam",
    ),
    (
        "de",
        "Die Ministerin Annalena Baerbock traf am Montag in Hamburg Vertreter von Siemens, um über neue "
        "Arbeitsplätze zu sprechen.",
        "Annalena Baerbock",
        "Siemens",
        "Hamburg",
    ),
]
GERMAN = (
    "Bundeskanzler Olaf Scholz hat am Mittwoch in Berlin mit Vertretern der Gewerkschaften über die "
    "Zukunft der Industrie gesprochen. Die Regierung will die Energiepreise für Unternehmen senken, "
    "sagte der Kanzler nach dem Treffen im Kanzleramt."
)
ITALIAN = (
    "Il presidente del Consiglio ha incontrato ieri a Roma i rappresentanti dei sindacati per discutere "
    "della riforma delle pensioni e del futuro dell'industria italiana nei prossimi anni."
)


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def _types(result: Enrichment) -> dict[str, str]:
    return {e.name: e.type for e in result.entities}


@pytest.mark.parametrize(
    ("language", "text", "person", "org", "place"), SENTENCES, ids=[s[0] for s in SENTENCES]
)
def test_each_language_finds_a_person_an_organisation_and_a_place(
    enricher: Enricher, language: str, text: str, person: str, org: str, place: str
) -> None:
    result = enricher.enrich(title=None, text=text)
    assert result.language.code == language
    types = _types(result)
    assert types.get(person) == "PERSON", types
    assert types.get(org) == "ORG", types
    assert types.get(place) == "GPE", types
    assert result.ner_model == enricher.versions[version_name(language)]
    for entity in result.entities:
        for m in entity.mentions:
            assert text[m.start : m.end] == m.surface


def test_german_text_runs_the_german_model_named_in_versions(enricher: Enricher) -> None:
    result = enricher.enrich(title="Scholz trifft Gewerkschaften", text=GERMAN)
    assert result.language.code == "de"
    assert result.ner_model is not None
    assert result.ner_model.startswith("newswire_ner_de-")
    assert result.versions["ner_model_de"] == result.ner_model
    assert result.versions["ner_model"].startswith("en_core_web_sm-")  # English unchanged, still recorded
    # (a rank such as "Bundeskanzler" may stay in the name: German honorifics are the canonicaliser's)
    assert any("Olaf Scholz" in name and kind == "PERSON" for name, kind in _types(result).items())
    assert "Berlin" in _types(result)


def test_unsupported_language_gets_no_entities_and_no_crash(enricher: Enricher) -> None:
    result = enricher.enrich(title="Riforma delle pensioni", text=ITALIAN)
    assert result.language.code == "it"
    assert result.entities == ()
    assert result.ner_model is None
    assert result.keyphrases == ()
    assert "ner_model_it" not in result.versions


def test_enrich_many_batches_per_language_with_the_same_results(enricher: Enricher) -> None:
    items = [(None, text) for _, text, *_ in SENTENCES] + [("Scholz", GERMAN), (None, ITALIAN)]
    many = enricher.enrich_many(list(reversed(items)), batch_size=2)
    one_by_one = [enricher.enrich(title=title, text=text) for title, text in reversed(items)]
    assert [(r.language.code, r.ner_model, r.entities) for r in many] == [
        (r.language.code, r.ner_model, r.entities) for r in one_by_one
    ]
    assert {r.ner_model for r in many} >= {enricher.ner_model(lang) for lang in ("fr", "es", "nl", "de")}


def test_languages_can_be_limited() -> None:
    only_french = Enricher(ner_languages=["fr"])
    assert set(only_french.ner_pipelines) == {"en", "fr"}
    assert "ner_model_de" not in only_french.versions
    result = only_french.enrich(title=None, text=GERMAN)
    assert result.language.code == "de"
    assert result.entities == ()
    assert result.ner_model is None


def test_other_pipelines_load_only_when_their_language_comes() -> None:
    fresh = Enricher()
    assert not fresh.ner_pipelines["de"].loaded
    fresh.enrich(title=None, text=ITALIAN)
    assert not any(p.loaded for lang, p in fresh.ner_pipelines.items() if lang != "en")
    fresh.enrich(title=None, text=GERMAN)
    assert fresh.ner_pipelines["de"].loaded
    assert not fresh.ner_pipelines["fr"].loaded


def test_keyphrases_use_the_stop_words_of_the_language() -> None:
    phrases = [k.phrase for k in extract_keyphrases(None, GERMAN, language="de")]
    assert phrases
    german_stops = stop_words("de")
    assert german_stops is not None
    assert "die" in german_stops
    for phrase in phrases:
        assert not {w.lower() for w in phrase.split()} & german_stops, phrase
    assert extract_keyphrases(None, ITALIAN, language="it") == ()
