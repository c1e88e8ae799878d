"""The topic classifier (real packaged embedding model, stored weights) and keyphrases, on hand-made texts."""

from __future__ import annotations

import numpy as np
import pytest

from services.enrich.nlp.embedder import length_buckets
from services.enrich.nlp.keyphrases import extract_keyphrases
from services.enrich.nlp.topics import (
    EXAMPLES_PATH,
    IPTC_TOPICS,
    TOPICS_VERSION,
    TopicClassifier,
    TopicModel,
    article_input,
    expected_calibration_error,
    fit_logistic,
    fit_temperature,
    load_examples,
    select_topics,
    softmax,
)

SPORT = (
    "Real Madrid beat Barcelona 3-1 on Saturday",
    "The striker scored twice in the second half and the goalkeeper saved a penalty as the champions moved "
    "four points clear at the top of the league. The coach praised his players after the match.",
)
ECONOMY = (
    "Shares slide as central bank signals more rate rises",
    "Stock markets fell on Wednesday after the central bank said interest rates would keep rising to curb "
    "inflation. Bond yields climbed and the dollar strengthened; bank shares led the losses.",
)
WEATHER = (
    "Storm to bring heavy rain and gales",
    "Forecasters issued a weather warning for heavy rain and winds of up to 100 km/h on Friday, with snow "
    "on high ground and temperatures falling below freezing overnight.",
)
BOTH = (
    "Football club shares soar after takeover bid",
    "Shares in the football club jumped 30 percent on the stock exchange after an investment fund offered "
    "to buy the company for 2 billion dollars; the players and the coach learned of the bid before training.",
)


@pytest.fixture(scope="module")
def classifier() -> TopicClassifier:
    return TopicClassifier()


def _label(classifier: TopicClassifier, item: tuple[str, str]) -> str:
    return classifier.score(*item)[0].label


def test_clear_texts_get_their_subject_first(classifier: TopicClassifier) -> None:
    assert _label(classifier, SPORT) == "sport"
    assert _label(classifier, ECONOMY) == "economy, business and finance"
    assert _label(classifier, WEATHER) == "weather"


def test_probabilities_are_a_distribution(classifier: TopicClassifier) -> None:
    probabilities = classifier.probabilities([SPORT, ECONOMY, (None, ""), ("", "x")])
    assert probabilities.shape == (4, 17)
    assert np.all(probabilities >= 0.0)
    assert np.all(probabilities <= 1.0)
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_multi_label_keeps_every_subject_over_the_threshold(classifier: TopicClassifier) -> None:
    row = classifier.probabilities([BOTH])[0]
    low = select_topics(list(row), threshold=0.0, max_topics=17)
    assert len(low) == 17
    assert [t.score for t in low] == sorted((t.score for t in low), reverse=True)
    # the club's takeover is business first, sport second; a threshold at the runner-up keeps both
    assert [t.label for t in low[:2]] == ["economy, business and finance", "sport"]
    runner_up = float(np.sort(row)[-2])
    kept = select_topics(list(row), threshold=runner_up)
    assert [t.label for t in kept] == ["economy, business and finance", "sport"]
    assert len(select_topics(list(row), threshold=runner_up + 1e-9)) == 1
    assert len(select_topics(list(row), threshold=1.0)) == 1  # at least the best one, always


def test_select_topics_caps_and_orders() -> None:
    uniform = [1 / 17] * 17
    picked = select_topics(uniform, threshold=0.01, max_topics=5)
    assert len(picked) == 5
    assert [t.code for t in picked] == [code for code, _ in IPTC_TOPICS[:5]]  # ties: IPTC order


def test_calibration_is_monotonic_in_the_logit() -> None:
    model = TopicModel.load()
    assert model.temperature > 0
    direction = model.weights[:, 14]  # the sport column: moving along it raises the sport logit
    points = np.stack([t * direction / np.linalg.norm(direction) for t in np.linspace(-1, 1, 21)])
    sport = model.probabilities(points)[:, 14]
    assert np.all(np.diff(sport) > 0)


def test_temperature_scaling_fits_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=600)
    logits = rng.normal(size=(600, 3))
    logits[np.arange(600), y] += 1.0
    sharp = logits * 5.0  # the same ranking, far too confident
    temperature = fit_temperature(sharp, y)
    assert 3.0 < temperature < 8.0
    before = expected_calibration_error(softmax(sharp), y)
    after = expected_calibration_error(softmax(sharp / temperature), y)
    assert after < before / 2


def test_fit_logistic_separates_training_data() -> None:
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    y = np.array([0, 0, 1, 1])
    w, b = fit_logistic(x, y, c=10.0, classes=2)
    assert list((x @ w + b).argmax(axis=1)) == [0, 0, 1, 1]


def test_examples_cover_every_subject_and_weights_match_them() -> None:
    examples = load_examples()
    assert {code for code, _ in examples} == {code for code, _ in IPTC_TOPICS}
    assert EXAMPLES_PATH.is_file()
    model = TopicModel.load()
    assert model.weights.shape == (384, 17)
    assert TOPICS_VERSION.startswith("iptc-minilm-logreg-1+")


def test_article_input_reads_the_title_then_the_lead() -> None:
    assert article_input("Title", "Body") == "Title. Body"
    assert article_input("Title?", "Body") == "Title? Body"
    assert article_input(None, "Body") == "Body"
    assert len(article_input("T", "x" * 10_000)) < 2000


def test_keyphrases_sensible() -> None:
    phrases = extract_keyphrases(*ECONOMY)
    texts = [k.phrase.lower() for k in phrases]
    assert 1 <= len(phrases) <= 5
    assert "central bank" in texts
    assert phrases[0].score == 1.0
    assert all(0.0 < k.score <= 1.0 for k in phrases)
    assert [k.score for k in phrases] == sorted((k.score for k in phrases), reverse=True)
    for word in ("the", "after", "said", "would"):
        assert all(word not in k.lower().split() for k in texts)
    assert len({frozenset(t.split()) for t in texts}) == len(texts)  # no duplicates


def test_keyphrases_repeated_phrase_wins_and_abbreviations_keep_dots() -> None:
    text = (
        "The U.S. trade deficit widened in March. Economists said the trade deficit reflects strong imports. "
        "A weather front crossed the plains."
    )
    phrases = [k.phrase for k in extract_keyphrases("Trade deficit widens", text)]
    assert phrases[0].lower() == "trade deficit"
    assert "U.S." in " ".join(phrases)


def test_keyphrases_of_nothing() -> None:
    assert extract_keyphrases(None, "") == ()
    assert extract_keyphrases("", "the and of 2024 !!") == ()


def test_batched_embedding_matches_one_at_a_time(classifier: TopicClassifier) -> None:
    """Texts of very different lengths, embedded together (sorted into length buckets, padded) and one at
    a time, give the same probabilities in the order given."""
    items = [SPORT, (None, ""), ECONOMY, ("Storm warning", ""), WEATHER, (BOTH[0], BOTH[1] * 8), BOTH]
    alone = np.vstack([classifier.probabilities([item], batch_size=1) for item in items])
    for batch_size in (2, 3, 16):
        together = classifier.probabilities(items, batch_size=batch_size)
        assert together.shape == alone.shape
        assert np.allclose(together, alone, atol=1e-5), batch_size
    assert classifier.score_many(items, batch_size=16) == [classifier.score(*item) for item in items]
    assert classifier.embedder.embed([]).shape == (0, 384)


def test_length_buckets() -> None:
    lengths = [50, 10, 11, 200, 12, 48, 10]
    buckets = length_buckets(lengths, batch_size=3)
    assert sorted(i for bucket in buckets for i in bucket) == list(range(len(lengths)))
    assert buckets == [[1, 6, 2], [4], [5, 0], [3]]  # ascending; at most 3; padding within 10 %
    assert length_buckets([], batch_size=16) == []
    assert length_buckets([7, 7, 7], batch_size=1) == [[0], [1], [2]]


def test_balanced_weights_give_every_subject_the_same_total() -> None:
    from services.enrich.nlp.topics import balanced_weights

    codes = ["a"] * 8 + ["b"] * 2
    weights = balanced_weights(codes)
    assert weights[:8].sum() == pytest.approx(weights[8:].sum())
    assert weights.mean() == pytest.approx(1.0)


def test_sample_weights_equal_repeated_items() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 5))
    y = np.array([0, 1, 2] * 4, dtype=np.int64)
    weight = np.array([2.0 if i == 0 else 1.0 for i in range(12)])
    repeated_x, repeated_y = np.vstack([x, x[:1]]), np.concatenate([y, y[:1]])
    # weights are scaled to mean 1 (sum 12 against 13 repeated items): the same objective needs C·13/12
    w1, b1 = fit_logistic(x, y, c=13 / 12, classes=3, sample_weight=weight)
    w2, b2 = fit_logistic(repeated_x, repeated_y, c=1.0, classes=3)
    probabilities = softmax(x @ w1 + b1)
    expected = softmax(x @ w2 + b2)
    assert np.allclose(probabilities, expected, atol=2e-3)


def test_balanced_accuracy_is_the_mean_of_per_subject_accuracy() -> None:
    from services.enrich.nlp.topics import balanced_accuracy

    logits = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.array([0, 0, 0, 0 + 1], dtype=np.int64)
    assert balanced_accuracy(logits, y) == pytest.approx(1.0)
    y = np.array([0, 0, 1, 1], dtype=np.int64)
    assert balanced_accuracy(logits, y) == pytest.approx((1.0 + 0.5) / 2)
