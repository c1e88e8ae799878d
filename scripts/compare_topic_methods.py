"""Compare topic methods on AG News (test split) over one set of embeddings: how the classifier was chosen.

    python scripts/compare_topic_methods.py [--eval-dir ../shared/eval] [--limit 7600]

Every method reads the same all-MiniLM-L6-v2 (int8 ONNX) embeddings of the AG rows and of the hand-written
examples (``data/topic_examples.tsv``; AG News is never trained on).  Methods: zero-shot (nearest IPTC label
name), nearest class centroid of the examples, k nearest examples (k=10, similarity-weighted votes), and the
logistic regression at several L2 strengths C, with its 5-fold cross-validated accuracy over the 17 subjects
on the examples.  Accuracy as in scripts/eval_topics.py (top subject mapped to the AG class).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import numpy.typing as npt
from eval_topics import IPTC_TO_AG, read_ag

from services.enrich.nlp.embedder import SentenceEmbedder
from services.enrich.nlp.topics import IPTC_TOPICS, article_input, load_examples, train

CODES = [code for code, _ in IPTC_TOPICS]


def accuracy(scores: npt.NDArray[np.floating], gold: npt.NDArray[np.int64]) -> float:
    predicted = np.array([IPTC_TO_AG.get(CODES[i], 0) for i in scores.argmax(axis=1)])
    return float(np.mean(predicted == gold))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--limit", type=int, default=7600)
    args = parser.parse_args()
    rows = read_ag(args.eval_dir, args.limit)
    if rows is None:
        return 2
    gold = np.array([g for g, _, _ in rows])

    embedder = SentenceEmbedder()
    examples = load_examples()
    x = embedder.embed([text for _, text in examples])
    y = np.array([CODES.index(code) for code, _ in examples])
    ag = embedder.embed([article_input(title, text) for _, title, text in rows])
    labels = embedder.embed([label for _, label in IPTC_TOPICS])

    print(f"{len(rows)} AG rows, {len(examples)} examples")
    print(f"{'method':<40}{'AG accuracy':>12}{'17-subject CV':>15}")
    print(f"{'zero-shot: nearest label name':<40}{accuracy(ag @ labels.T, gold):>12.3f}{'':>15}")
    centroids = np.stack([x[y == i].mean(axis=0) for i in range(len(CODES))])
    print(f"{'nearest centroid of the examples':<40}{accuracy(ag @ centroids.T, gold):>12.3f}{'':>15}")
    similarity = ag @ x.T
    nearest = np.argsort(-similarity, axis=1)[:, :10]
    votes = np.zeros((len(rows), len(CODES)))
    for column in range(nearest.shape[1]):
        picked = nearest[:, column]
        np.add.at(votes, (np.arange(len(rows)), y[picked]), similarity[np.arange(len(rows)), picked])
    print(f"{'10 nearest examples':<40}{accuracy(votes, gold):>12.3f}{'':>15}")
    for c in (0.5, 1.0, 2.0, 8.0, 16.0):
        report = train(x, [code for code, _ in examples], c=c)
        name = f"logistic regression C={c:g} (T={report.model.temperature:.2f})"
        print(f"{name:<40}{accuracy(report.model.probabilities(ag), gold):>12.3f}{report.cv_accuracy:>15.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
