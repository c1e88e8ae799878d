"""The topic classifier onto the 17 top-level IPTC Media Topics: sentence embeddings + logistic regression.

An article (title and the start of its body) is embedded with all-MiniLM-L6-v2 (:mod:`.embedder`); a
multinomial logistic regression over the 17 subjects turns the embedding into logits, and a temperature
(``softmax(logits / T)``) turns those into calibrated probabilities.  The regression is trained by
``scripts/train_topics.py`` on the hand-written example items in ``data/topic_examples.tsv`` (no evaluation
data): the L2 strength is chosen by 5-fold cross-validated log-loss on those examples, ``T`` is fitted on
the same cross-validated logits (temperature scaling), and the weights are kept in ``data/topic_model.npz``.

Articles in other languages: :class:`EmbeddingTopicClassifier`, the same regression over the multilingual
embedding every article already has (weights ``data/topic_model_e5.npz``, ``train_topics.py --embedder e5``).

The topics of an article are all subjects whose probability reaches the threshold (a setting), best first,
at most :data:`MAX_TOPICS`, and always at least the best one.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .embedder import DATA_DIR, embedder_version
from .models import TopicScore

if TYPE_CHECKING:
    from .embedder import SentenceEmbedder

Matrix = npt.NDArray[np.float64]

#: The 17 top-level IPTC Media Topics (https://cv.iptc.org/newscodes/mediatopic/), as (code, label).
IPTC_TOPICS: tuple[tuple[str, str], ...] = (
    ("medtop:01000000", "arts, culture, entertainment and media"),
    ("medtop:02000000", "crime, law and justice"),
    ("medtop:03000000", "disaster, accident and emergency incident"),
    ("medtop:04000000", "economy, business and finance"),
    ("medtop:05000000", "education"),
    ("medtop:06000000", "environment"),
    ("medtop:07000000", "health"),
    ("medtop:08000000", "human interest"),
    ("medtop:09000000", "labour"),
    ("medtop:10000000", "lifestyle and leisure"),
    ("medtop:11000000", "politics"),
    ("medtop:12000000", "religion"),
    ("medtop:13000000", "science and technology"),
    ("medtop:14000000", "society"),
    ("medtop:15000000", "sport"),
    ("medtop:16000000", "conflict, war and peace"),
    ("medtop:17000000", "weather"),
)

EXAMPLES_PATH = DATA_DIR / "topic_examples.tsv"
WEIGHTS_PATH = DATA_DIR / "topic_model.npz"
#: The classifier over the multilingual (e5) embedding every article gets (``train_topics.py --embedder e5``).
MULTILINGUAL_WEIGHTS_PATH = DATA_DIR / "topic_model_e5.npz"
DEFAULT_THRESHOLD = 0.25  #: the default of NEWSWIRE_TOPIC_THRESHOLD
MAX_TOPICS = 5
#: Characters of the body read after the title: the subject of a news item is stated in its first lines,
#: and the model reads at most 256 tokens anyway.
BODY_CHARS = 1500
#: L2 strength (``C`` as in scikit-learn: larger is weaker).  Stronger regularisation leans on the prior of
#: the subjects with the most examples (AG News's four), weaker fits the 17 subjects better: on the 511
#: examples C=0.75 / 1 / 1.5 / 2 give AG News 0.800 / 0.794 / 0.784 / 0.778 and 5-fold cross-validated
#: accuracy 0.869 / 0.888 / 0.908 / 0.924.  C=1 keeps the AG figure of the previous 385 examples at C=2
#: (0.795) and raises the held-out accuracy on those 385 from 0.842 to 0.883 (docs/enrichment.md,
#: "Topics: method and why").
DEFAULT_C = 1.0
FOLDS = 5

_CODES = tuple(code for code, _ in IPTC_TOPICS)
_LABELS = dict(IPTC_TOPICS)


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8] if path.is_file() else "missing"


#: The topic model's version: the weights file's digest (retraining or new examples change it).
TOPICS_VERSION: str = f"iptc-minilm-logreg-1+{_file_digest(WEIGHTS_PATH)}"
#: The embedding model's version, recorded next to ``TOPICS_VERSION``.
TOPIC_EMBEDDER_VERSION: str = embedder_version()
#: The version of the classifier over the multilingual embedding (its weights file's digest).
MULTILINGUAL_TOPICS_VERSION: str = f"iptc-e5-logreg-1+{_file_digest(MULTILINGUAL_WEIGHTS_PATH)}"


def article_input(title: str | None, text: str) -> str:
    """What the model reads of an article: the title, then the start of the body."""
    body = text[:BODY_CHARS]
    if title and title.strip():
        title = title.strip()
        return f"{title}. {body}" if title[-1] not in ".!?:" else f"{title} {body}"
    return body


def load_examples(path: Path = EXAMPLES_PATH) -> list[tuple[str, str]]:
    """``(code, text)`` of every example line (``#`` comments and blank lines skipped)."""
    examples: list[tuple[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        code, sep, text = line.partition("\t")
        if not sep or code not in _LABELS or not text.strip():
            raise ValueError(f"{path}:{number}: expected '<IPTC code>\\t<text>'")
        examples.append((code, text.strip()))
    return examples


# --- training (pure numpy, deterministic) -------------------------------------------------------------
def softmax(logits: Matrix) -> Matrix:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: Matrix = exp / exp.sum(axis=1, keepdims=True)
    return result


def fit_logistic(
    x: Matrix,
    y: npt.NDArray[np.int64],
    *,
    c: float,
    classes: int,
    iterations: int = 1500,
    sample_weight: Matrix | None = None,
) -> tuple[Matrix, Matrix]:
    """Multinomial logistic regression minimising ``C·Σ wᵢ·cross-entropyᵢ + ½‖W‖²`` (scikit-learn's
    objective, bias not penalised; weights ``wᵢ`` scaled to mean 1), by accelerated gradient descent from
    zero.  Returns ``(W, b)``."""
    n, d = x.shape
    onehot = np.eye(classes)[y]
    if sample_weight is not None:
        onehot = onehot * (sample_weight / sample_weight.mean())[:, None]
    row_weight = onehot.sum(axis=1, keepdims=True)  # wᵢ on the row's gradient (1 without weights)
    l2 = 1.0 / (c * n)  # the same objective divided by C·n
    lipschitz = 0.5 * float(row_weight.max()) * (float(np.max(np.sum(x * x, axis=1))) + 1.0) + l2
    step = 1.0 / lipschitz
    w = np.zeros((d, classes))
    b = np.zeros(classes)
    w_prev, b_prev = w, b
    for k in range(1, iterations + 1):
        momentum = (k - 1) / (k + 2)
        wy = w + momentum * (w - w_prev)
        by = b + momentum * (b - b_prev)
        error = (softmax(x @ wy + by) * row_weight - onehot) / n
        w_prev, b_prev = w, b
        w = wy - step * (x.T @ error + l2 * wy)
        b = by - step * error.sum(axis=0)
    return w, b


def log_loss(
    logits: Matrix, y: npt.NDArray[np.int64], temperature: float = 1.0, weights: Matrix | None = None
) -> float:
    probabilities = softmax(logits / temperature)
    losses = -np.log(np.maximum(probabilities[np.arange(len(y)), y], 1e-12))
    return float(np.average(losses, weights=weights))


def fit_temperature(logits: Matrix, y: npt.NDArray[np.int64], weights: Matrix | None = None) -> float:
    """The ``T`` minimising the log-loss of ``softmax(logits / T)`` (golden-section search on log T)."""
    low, high = math.log(0.05), math.log(20.0)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        a = high - ratio * (high - low)
        b = low + ratio * (high - low)
        if log_loss(logits, y, math.exp(a), weights) <= log_loss(logits, y, math.exp(b), weights):
            high = b
        else:
            low = a
    return math.exp((low + high) / 2)


def cross_validated_logits(
    x: Matrix,
    y: npt.NDArray[np.int64],
    *,
    c: float,
    classes: int,
    folds: int = FOLDS,
    sample_weight: Matrix | None = None,
    iterations: int = 1500,
) -> Matrix:
    """Logits of every example from a model trained without its fold (folds stratified by class)."""
    fold_of = np.zeros(len(y), dtype=np.int64)
    for label in range(classes):
        members = np.flatnonzero(y == label)
        fold_of[members] = np.arange(len(members)) % folds
    logits = np.zeros((len(y), classes))
    for fold in range(folds):
        held = fold_of == fold
        weight = sample_weight[~held] if sample_weight is not None else None
        w, b = fit_logistic(
            x[~held], y[~held], c=c, classes=classes, sample_weight=weight, iterations=iterations
        )
        logits[held] = x[held] @ w + b
    return logits


@dataclass(frozen=True, slots=True)
class TopicModel:
    """Trained weights: ``probabilities = softmax((X·weights + bias) / temperature)``."""

    weights: Matrix
    bias: Matrix
    temperature: float
    c: float

    def probabilities(self, embeddings: npt.NDArray[np.floating]) -> Matrix:
        logits = embeddings.astype(np.float64) @ self.weights + self.bias
        return softmax(logits / self.temperature)

    def save(self, path: Path) -> None:
        with path.open("wb") as fh:
            np.savez(
                fh,
                weights=self.weights.astype(np.float32),
                bias=self.bias.astype(np.float32),
                temperature=np.float64(self.temperature),
                c=np.float64(self.c),
                codes=np.array(_CODES),
            )

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> TopicModel:
        with np.load(path) as data:
            if tuple(str(code) for code in data["codes"]) != _CODES:
                raise ValueError(f"{path} was trained for other topics")
            return cls(
                weights=data["weights"].astype(np.float64),
                bias=data["bias"].astype(np.float64),
                temperature=float(data["temperature"]),
                c=float(data["c"]),
            )


def standardisation(x: npt.NDArray[np.floating]) -> tuple[Matrix, Matrix]:
    """``(mean, scale)`` per dimension of the training embeddings.  e5 embeddings all point the same way
    (cosine ~0.8 between unrelated texts): the subject lives in small deviations from their mean, which a
    regression from zero reaches in few steps only once they are centred and scaled."""
    x = x.astype(np.float64)
    mean: Matrix = x.mean(axis=0)
    scale: Matrix = np.maximum(x.std(axis=0), 1e-6)
    return mean, scale


def unstandardised(model: TopicModel, mean: Matrix, scale: Matrix) -> TopicModel:
    """The model trained on ``(x - mean) / scale``, as one that reads ``x`` itself (the same probabilities:
    ``((x - m) / s)·W + b = x·(W / s) + (b - (m / s)·W)``), so the stored format stays one linear layer."""
    weights = model.weights / scale[:, None]
    return TopicModel(
        weights=weights,
        bias=model.bias - mean @ weights,
        temperature=model.temperature,
        c=model.c,
    )


@dataclass(frozen=True, slots=True)
class TrainingReport:
    model: TopicModel
    cv_accuracy: float
    cv_log_loss: float  #: at T = 1
    cv_log_loss_calibrated: float  #: at the fitted T
    cv_expected_calibration_error: float  #: of the top probability, 10 bins, at the fitted T
    cv_balanced_accuracy: float = 0.0  #: mean per-subject accuracy of the cross-validated logits


def expected_calibration_error(probabilities: Matrix, y: npt.NDArray[np.int64], bins: int = 10) -> float:
    """Mean |accuracy − confidence| of the top class over equal-width confidence bins, weighted by size."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y
    total = 0.0
    for low in np.linspace(0.0, 1.0, bins, endpoint=False):
        members = (confidence > low) & (confidence <= low + 1.0 / bins)
        if members.any():
            total += members.sum() * abs(float(correct[members].mean()) - float(confidence[members].mean()))
    return total / len(y)


def balanced_weights(codes: Sequence[str], *, power: float = 1.0) -> Matrix:
    """Per-item weights that give every subject the same total weight (``power`` 1; 0.5: the square root
    of that correction), so that a corpus dominated by politics does not make every article politics."""
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    weights = np.array([(len(codes) / (len(counts) * counts[code])) ** power for code in codes])
    result: Matrix = weights / weights.mean()
    return result


def balanced_accuracy(logits: Matrix, y: npt.NDArray[np.int64]) -> float:
    """Mean over the subjects present of the share of their items whose top subject is right."""
    predicted = logits.argmax(axis=1)
    return float(np.mean([np.mean(predicted[y == k] == k) for k in np.unique(y)]))


def train(
    embeddings: npt.NDArray[np.floating],
    codes: Sequence[str],
    *,
    c: float = DEFAULT_C,
    sample_weight: Matrix | None = None,
    folds: int = FOLDS,
    iterations: int = 1500,
) -> TrainingReport:
    """Fit the temperature on ``folds``-fold cross-validated logits of the items (held out from the model
    that scores them), then train on every item.  ``sample_weight``: see :func:`balanced_weights`; the
    temperature and the reported figures use the same weights."""
    x = embeddings.astype(np.float64)
    y = np.array([_CODES.index(code) for code in codes], dtype=np.int64)
    classes = len(_CODES)
    cv = cross_validated_logits(
        x, y, c=c, classes=classes, folds=folds, sample_weight=sample_weight, iterations=iterations
    )
    temperature = fit_temperature(cv, y, sample_weight)
    weights, bias = fit_logistic(
        x, y, c=c, classes=classes, sample_weight=sample_weight, iterations=iterations
    )
    return TrainingReport(
        model=TopicModel(weights=weights, bias=bias, temperature=temperature, c=c),
        cv_accuracy=float(np.mean(cv.argmax(axis=1) == y)),
        cv_log_loss=log_loss(cv, y, 1.0, sample_weight),
        cv_log_loss_calibrated=log_loss(cv, y, temperature, sample_weight),
        cv_expected_calibration_error=expected_calibration_error(softmax(cv / temperature), y),
        cv_balanced_accuracy=balanced_accuracy(cv, y),
    )


# --- scoring ---------------------------------------------------------------------------------------------
def select_topics(
    probabilities: Sequence[float], *, threshold: float = DEFAULT_THRESHOLD, max_topics: int = MAX_TOPICS
) -> tuple[TopicScore, ...]:
    """Every subject reaching ``threshold``, best first, at most ``max_topics``, at least the best one."""
    ranked = sorted(range(len(_CODES)), key=lambda i: (-probabilities[i], i))
    kept = [i for i in ranked if probabilities[i] >= threshold][:max_topics] or ranked[:1]
    return tuple(
        TopicScore(code=_CODES[i], label=_LABELS[_CODES[i]], score=round(float(probabilities[i]), 4))
        for i in kept
    )


class EmbeddingTopicClassifier:
    """Topics from an embedding already computed (the multilingual embedding of every article,
    :mod:`.multilingual`): no model run of its own, so it costs one small matrix product per article."""

    def __init__(self, *, model: TopicModel | None = None, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.model = model if model is not None else TopicModel.load(MULTILINGUAL_WEIGHTS_PATH)
        self.threshold = threshold

    def probabilities(self, embeddings: npt.NDArray[np.floating]) -> Matrix:
        """One row of 17 calibrated probabilities per embedding row, in IPTC order."""
        return self.model.probabilities(np.atleast_2d(embeddings))

    def score_many(self, embeddings: npt.NDArray[np.floating]) -> list[tuple[TopicScore, ...]]:
        """The topics of each embedding row; an all-zero row (an empty article) gets none."""
        rows = np.atleast_2d(embeddings)
        probabilities = self.probabilities(rows)
        return [
            select_topics(list(p), threshold=self.threshold) if np.any(row) else ()
            for row, p in zip(rows, probabilities, strict=True)
        ]


class TopicClassifier:
    """Loads the embedding model and the weights once; :meth:`score_many` is deterministic."""

    def __init__(
        self,
        *,
        embedder: SentenceEmbedder | None = None,
        model: TopicModel | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        if embedder is None:
            from .embedder import SentenceEmbedder

            embedder = SentenceEmbedder()
        self.embedder = embedder
        self.model = model if model is not None else TopicModel.load()
        self.threshold = threshold

    def probabilities(self, items: Sequence[tuple[str | None, str]], *, batch_size: int = 32) -> Matrix:
        """One row of 17 calibrated probabilities (summing to 1) per ``(title, text)``, in IPTC order; the
        texts are embedded ``batch_size`` at a time (one ONNX run per batch)."""
        texts = [article_input(t, x) for t, x in items]
        return self.model.probabilities(self.embedder.embed(texts, batch_size=batch_size))

    def score_many(
        self, items: Sequence[tuple[str | None, str]], *, batch_size: int = 32
    ) -> list[tuple[TopicScore, ...]]:
        rows = self.probabilities(items, batch_size=batch_size)
        return [select_topics(list(row), threshold=self.threshold) for row in rows]

    def score(self, title: str | None, text: str) -> tuple[TopicScore, ...]:
        return self.score_many([(title, text)])[0]
