"""Accuracy of the lexicon topic scorer on AG News (test split), top IPTC topic mapped to the AG class.

    python scripts/eval_topics.py [--eval-dir ../shared/eval] [--limit 7600] [--lemmas]

AG classes: 1 World, 2 Sports, 3 Business, 4 Sci/Tech.  IPTC -> AG: sport -> Sports; economy, business and
finance -> Business; science and technology -> Sci/Tech; politics, conflict, crime, disaster -> World.
Any other top topic (or no topic) counts as wrong.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.enrich.nlp.topics import TOPICS_VERSION, score_topics

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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--limit", type=int, default=7600, help="rows to score (the file has 7,600)")
    parser.add_argument("--lemmas", action="store_true", help="match spaCy lemmas of the description")
    args = parser.parse_args()

    path = args.eval_dir / "topics" / "test.csv"
    if not path.is_file():
        print(f"AG News test split not found at {path} (set --eval-dir); skipping.", file=sys.stderr)
        return 2
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [(int(r[0]), r[1], r[2].replace("\\", " ")) for r in csv.reader(fh) if r][: args.limit]

    lemma_lists: list[list[str] | None] = [None] * len(rows)
    started = time.perf_counter()
    if args.lemmas:
        from services.enrich.nlp.pipeline import _load_model

        nlp = _load_model("en_core_web_sm", exclude=("parser", "senter", "ner"))
        lemma_lists = [[t.lemma_ for t in doc] for doc in nlp.pipe((r[2] for r in rows), batch_size=64)]

    correct = correct_mappable = mappable = no_topic = 0
    confusion: Counter[tuple[str, str]] = Counter()
    for (gold, title, text), lemmas in zip(rows, lemma_lists, strict=True):
        topics = score_topics(title, text, lemmas=lemmas)
        top = topics[0].code if topics else None
        predicted = IPTC_TO_AG.get(top) if top else None
        if top is None:
            no_topic += 1
        if predicted is not None:
            mappable += 1
            correct_mappable += predicted == gold
        correct += predicted == gold
        confusion[(AG_CLASSES[gold], AG_CLASSES.get(predicted or 0, "other/none"))] += 1
    elapsed = time.perf_counter() - started

    n = len(rows)
    print(f"topics version {TOPICS_VERSION}; {n} rows; lemmas={'spaCy' if args.lemmas else 'suffix-strip'}")
    print(f"accuracy (top topic mapped to AG class): {correct / n:.3f}")
    print(
        f"  top topic outside the 4 AG classes or none: {(n - mappable) / n:.3f} "
        f"(no topic at all: {no_topic / n:.3f})"
    )
    if mappable:
        print(f"  accuracy where the top topic maps to an AG class: {correct_mappable / mappable:.3f}")
    print(f"  {elapsed / n * 1000:.2f} ms per row")
    labels = [*AG_CLASSES.values(), "other/none"]
    print("confusion (rows gold, columns predicted):")
    print(" " * 10 + "".join(f"{c:>12}" for c in labels))
    for gold_label in AG_CLASSES.values():
        print(f"{gold_label:<10}" + "".join(f"{confusion[(gold_label, p)]:>12}" for p in labels))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
