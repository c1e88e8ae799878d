"""Accuracy of the topic classifier on AG News (test split), the top IPTC topic mapped to the AG class.

    python scripts/eval_topics.py [--eval-dir ../shared/eval] [--limit 7600] [--batch 16]

AG classes: 1 World, 2 Sports, 3 Business, 4 Sci/Tech.  IPTC -> AG: sport -> Sports; economy, business and
finance -> Business; science and technology -> Sci/Tech; politics, conflict, crime, disaster -> World.
Any other top topic counts as wrong.  Also prints per-class accuracy, the confusion matrix, how well the
probabilities are calibrated on this set (the probability of the gold AG class is the sum over the IPTC
subjects mapped to it) and articles per second of the topic model alone (embedding + classifier, one thread,
``--batch`` articles per ONNX run, as the worker runs a batch of queued articles).
AG News is never used for training (the classifier learns from data/topic_examples.tsv).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from services.enrich.nlp.topics import (
    IPTC_TOPICS,
    TOPIC_EMBEDDER_VERSION,
    TOPICS_VERSION,
    TopicClassifier,
    expected_calibration_error,
)

AG_CLASSES = {1: "World", 2: "Sports", 3: "Business", 4: "Sci/Tech"}
IPTC_TO_AG = {
    "medtop:15000000": 2,
    "medtop:04000000": 3,
    "medtop:13000000": 4,
    "medtop:11000000": 1,
    "medtop:16000000": 1,
    "medtop:02000000": 1,
    "medtop:03000000": 1,
}


def read_ag(eval_dir: Path, limit: int) -> list[tuple[int, str, str]] | None:
    """(class, title, description) rows of the AG News test split, or None (with a message) without it."""
    path = eval_dir / "topics" / "test.csv"
    if not path.is_file():
        print(f"AG News test split not found at {path} (set --eval-dir); skipping.", file=sys.stderr)
        return None
    with path.open(newline="", encoding="utf-8") as fh:
        return [(int(r[0]), r[1], r[2].replace("\\", " ")) for r in csv.reader(fh) if r][:limit]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--limit", type=int, default=7600, help="rows to score (the file has 7,600)")
    parser.add_argument("--batch", type=int, default=16, help="articles per ONNX run (1: one at a time)")
    args = parser.parse_args()

    rows = read_ag(args.eval_dir, args.limit)
    if rows is None:
        return 2

    if args.batch < 1:
        parser.error("--batch must be at least 1")
    classifier = TopicClassifier()
    items = [(title, text) for _, title, text in rows]
    started = time.perf_counter()
    # the worker embeds the articles of one batch together: score the rows in groups of --batch
    probabilities = np.vstack(
        [
            classifier.probabilities(items[start : start + args.batch], batch_size=args.batch)
            for start in range(0, len(items), args.batch)
        ]
    )
    elapsed = time.perf_counter() - started

    gold = np.array([g for g, _, _ in rows])
    codes = [code for code, _ in IPTC_TOPICS]
    top = [codes[i] for i in probabilities.argmax(axis=1)]
    predicted = np.array([IPTC_TO_AG.get(code, 0) for code in top])
    # probability of each AG class = sum of its IPTC subjects; the rest is "other"
    ag_probabilities = np.zeros((len(rows), 5))
    for i, code in enumerate(codes):
        ag_probabilities[:, IPTC_TO_AG.get(code, 0)] += probabilities[:, i]
    confusion: Counter[tuple[str, str]] = Counter(
        (AG_CLASSES[g], AG_CLASSES.get(int(p), "other")) for g, p in zip(gold, predicted, strict=True)
    )

    n = len(rows)
    print(f"topics version {TOPICS_VERSION} ({TOPIC_EMBEDDER_VERSION}); {n} rows")
    print(f"accuracy (top topic mapped to AG class): {float(np.mean(predicted == gold)):.3f}")
    print(f"  top topic outside the 4 AG classes: {float(np.mean(predicted == 0)):.3f}")
    print(
        "  per class: "
        + ", ".join(f"{name} {np.mean(predicted[gold == k] == k):.3f}" for k, name in AG_CLASSES.items())
    )
    ece = expected_calibration_error(ag_probabilities[:, 1:], gold - 1)
    print(f"  calibration: expected calibration error {ece:.3f} (P(AG class) = sum of its IPTC subjects)")
    print(f"  mean probability of the top topic {float(probabilities.max(axis=1).mean()):.3f}")
    print(
        f"  {n / elapsed:.1f} articles/s ({elapsed / n * 1000:.2f} ms per row, topics only, one thread, "
        f"batch {args.batch})"
    )
    labels = [*AG_CLASSES.values(), "other"]
    print("confusion (rows gold, columns predicted):")
    print(" " * 10 + "".join(f"{c:>10}" for c in labels))
    for gold_label in AG_CLASSES.values():
        print(f"{gold_label:<10}" + "".join(f"{confusion[(gold_label, p)]:>10}" for p in labels))
    others = Counter(code for code, p in zip(top, predicted, strict=True) if p == 0)
    if others:
        names = dict(IPTC_TOPICS)
        print(
            "top topics outside the mapping: "
            + ", ".join(f"{names[c]} {k}" for c, k in others.most_common(6))
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
