"""Pairwise precision and recall of story grouping on SemEval-2022 Task 8 news pairs (English).

    python scripts/eval_stories.py [--eval-dir ../shared/eval] [--choose-on training] [--limit N]

Each split's distinct English articles go through the worker's own functions: spaCy entities with
salience (``Enricher``), ``build_signature`` and ``best_match``, placed one by one in article-id order
with the candidate index emulated in memory (lookup keys, the most recent ``CANDIDATES_PER_KEY`` per key).
The data has no publication times, so the time proximity is 1 for every pair (as for articles published
at the same moment): the time weight only shifts every score by the same amount.

A labelled pair is *same story* when its ``Overall`` (mean of annotators, 1 = same story .. 4 = different)
is below 2.5, *different* above 2.5; pairs at exactly 2.5 are left out.  A pair is predicted same when
both articles end up in one story.  The threshold is chosen on one split and reported on the other: the
lowest threshold whose precision reaches ``--min-precision`` (0.8), because a wrong merge costs more than a
missed one (assignment is single link, so in a large store one wrong link chains two events together);
every threshold of the sweep is printed for both splits.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.settings import get_settings
from shared.stories.scoring import Candidate, StoryRules, best_match
from shared.stories.service import CANDIDATES_PER_KEY
from shared.stories.signature import StorySignature, build_signature

SPLITS = ("training", "testing")
THRESHOLDS = [round(0.15 + 0.05 * i, 2) for i in range(11)]  # 0.15 .. 0.65


def repair(text: str) -> str:
    """Undo the double UTF-8 encoding where it round-trips (else the text as it is)."""
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def split_title(text: str) -> tuple[str, str]:
    """The first line is the headline when the text has one short enough; else no title."""
    text = text.strip()
    head, sep, rest = text.partition("\n")
    if sep and len(head) <= 300:
        return head.strip(), rest.strip()
    return "", text


@dataclass(frozen=True, slots=True)
class Pair:
    a: str
    b: str
    overall: float


def read_split(path: Path) -> tuple[dict[str, str], list[Pair]]:
    csv.field_size_limit(1 << 30)
    texts: dict[str, str] = {}
    pairs: list[Pair] = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["lang1"] != "en" or row["lang2"] != "en":
                continue
            a, b = row["pair_id"].split("_")[:2]
            texts.setdefault(a, repair(row["text1"]))
            texts.setdefault(b, repair(row["text2"]))
            pairs.append(Pair(a, b, float(row["Overall"])))
    return texts, pairs


def group(signatures: dict[str, StorySignature], rules: StoryRules) -> dict[str, int]:
    """Place the articles one by one (article-id order) as the worker does; article -> story."""
    story: dict[str, int] = {}
    index: dict[int, deque[str]] = defaultdict(lambda: deque(maxlen=CANDIDATES_PER_KEY))
    numbers = {a: i for i, a in enumerate(sorted(signatures, key=int))}
    for article in sorted(signatures, key=int):
        signature = signatures[article]
        seen = {c for key in signature.keys for c in index[key]}
        candidates = [Candidate(numbers[c], story[c], signatures[c]) for c in sorted(seen, key=int)]
        match = best_match(signature, candidates, rules=rules)
        story[article] = match.candidate.story_id if match is not None else numbers[article]
        for key in signature.keys:
            index[key].append(article)
    return story


Scores = tuple[float, float, float, int, int]  # precision, recall, F1, same-story pairs, labelled pairs


def pairwise(pairs: list[Pair], story: dict[str, int]) -> Scores:
    tp = fp = fn = positives = 0
    for p in pairs:
        if p.overall == 2.5:
            continue
        same = p.overall < 2.5
        predicted = story[p.a] == story[p.b]
        positives += same
        tp += same and predicted
        fp += predicted and not same
        fn += same and not predicted
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, positives, sum(p.overall != 2.5 for p in pairs)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=get_settings().eval_dir)
    parser.add_argument(
        "--choose-on", choices=SPLITS, default="training", help="split the threshold is chosen on"
    )
    parser.add_argument(
        "--min-precision", type=float, default=0.8, help="precision the chosen threshold reaches"
    )
    args = parser.parse_args()

    folder = args.eval_dir / "similarity" / "data"
    if not (folder / "training_set.csv").is_file():
        print(f"SemEval-2022 Task 8 pairs not found in {folder} (set --eval-dir); skipping.", file=sys.stderr)
        return 2
    from services.enrich.nlp import Enricher

    enricher = Enricher(get_settings().spacy_model)
    base = StoryRules.from_settings(get_settings())
    started = time.perf_counter()
    data: dict[str, tuple[dict[str, StorySignature], list[Pair]]] = {}
    for split in SPLITS:
        texts, pairs = read_split(folder / f"{split}_set.csv")
        ids = sorted(texts, key=int)
        parts = [split_title(texts[i]) for i in ids]
        enrichments = enricher.enrich_many(parts)
        signatures = {
            i: build_signature(
                title=title,
                text=body,
                entities=[(e.type, e.name, e.salience.score) for e in en.entities],
                at=None,
            )
            for i, (title, body), en in zip(ids, parts, enrichments, strict=True)
        }
        data[split] = (signatures, pairs)
        print(f"{split}: {len(ids)} English articles, {len(pairs)} labelled pairs")

    def sweep(rules: StoryRules) -> dict[str, dict[float, Scores]]:
        return {
            split: {t: pairwise(pairs, group(sigs, replace(rules, threshold=t))) for t in THRESHOLDS}
            for split, (sigs, pairs) in data.items()
        }

    def choose(results: dict[str, dict[float, Scores]]) -> float:
        reaching = [t for t in THRESHOLDS if results[args.choose_on][t][0] >= args.min_precision]
        return min(reaching) if reaching else max(THRESHOLDS)

    results = sweep(base)
    print(
        f"weights text {base.weight_text} entities {base.weight_entities} time {base.weight_time} "
        f"(time proximity 1: no dates); same story = Overall < 2.5\n"
    )
    print(f"{'threshold':>9}  " + "  ".join(f"{s + ' P':>11} {'R':>6} {'F1':>6}" for s in SPLITS))
    for t in THRESHOLDS:
        cells = "  ".join(
            f"{results[s][t][0]:>11.3f} {results[s][t][1]:>6.3f} {results[s][t][2]:>6.3f}" for s in SPLITS
        )
        print(f"{t:>9.2f}  {cells}")
    chosen = choose(results)
    other = next(s for s in SPLITS if s != args.choose_on)
    p, r, f1, positives, labelled = results[other][chosen]
    rule = f"lowest with precision >= {args.min_precision}"
    print(
        f"\nchosen on {args.choose_on} ({rule}): threshold {chosen:.2f}; on {other}: precision {p:.3f} "
        f"recall {r:.3f} F1 {f1:.3f} ({positives} same-story of {labelled} labelled pairs); "
        f"setting NEWSWIRE_STORY_THRESHOLD={base.threshold}"
    )
    both = base.weight_text + base.weight_entities
    variants = {
        "text + entities (settings)": base,
        "text only": replace(base, weight_text=both, weight_entities=0.0),
        "entities only (text if none)": replace(base, weight_text=0.0, weight_entities=both),
    }
    print(f"\nwhat each part brings (threshold chosen on {args.choose_on} by the same rule):")
    header = "  ".join(f"{s + ' P':>11} {'R':>6} {'F1':>6}" for s in SPLITS)
    print(f"{'variant':<30} {'threshold':>9}  {header}")
    for name, rules in variants.items():
        swept = results if rules == base else sweep(rules)
        t = choose(swept)
        cells = "  ".join(
            f"{swept[s][t][0]:>11.3f} {swept[s][t][1]:>6.3f} {swept[s][t][2]:>6.3f}" for s in SPLITS
        )
        print(f"{name:<30} {t:>9.2f}  {cells}")
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
