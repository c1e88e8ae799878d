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

The multilingual embedding (#18): the straight line that puts the embedding cosine on the term cosine's
scale (``NEWSWIRE_STORY_EMBEDDING_FLOOR`` / ``_CEILING``) is fitted on the chosen split and printed; the
variants table shows the figures without any embedding (as before #18) and with each share of the
embedding in the text part of same-language pairs (``NEWSWIRE_STORY_WEIGHT_EMBEDDING``).

Across languages: the non-English/English pairs of ``multilingual/similarity/pairs_dev.jsonl`` (de-en
native; zh-, es-, pl-en machine-translated copies of native pairs), all their articles placed together
in article-id order by the same functions, with the settings (nothing is chosen on these pairs).  The
table gives, per subset, the share of same-story pairs whose articles share a lookup key at all (the
candidate recall; ``emb. keys``: through an embedding key) and the pairwise precision, recall and F1,
then the same without embeddings.  ``--cache DIR`` keeps the enrichments for a second run.
"""

from __future__ import annotations

import argparse
import csv
import json
import pickle
import statistics
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newswire_cli.dev.settings import get_dev_settings
from services.enrich.nlp import Enricher
from shared.settings import get_settings
from shared.stories.scoring import Candidate, StoryRules, best_match, embedding_similarity, text_similarity
from shared.stories.service import CANDIDATES_PER_KEY
from shared.stories.signature import StorySignature, build_signature, embedding_keys

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


def article_order(article: str) -> tuple[int, str]:
    """SemEval article ids are numbers, machine-translated copies carry a language suffix (``123it``)."""
    digits = article.rstrip("abcdefghijklmnopqrstuvwxyz")
    return int(digits), article[len(digits) :]


def group(signatures: dict[str, StorySignature], rules: StoryRules) -> dict[str, int]:
    """Place the articles one by one (article-id order) as the worker does; article -> story."""
    story: dict[str, int] = {}
    index: dict[int, deque[str]] = defaultdict(lambda: deque(maxlen=CANDIDATES_PER_KEY))
    order = sorted(signatures, key=article_order)
    numbers = {a: i for i, a in enumerate(order)}
    for article in order:
        signature = signatures[article]
        seen = {c for key in signature.keys for c in index[key]}
        candidates = [
            Candidate(numbers[c], story[c], signatures[c]) for c in sorted(seen, key=numbers.__getitem__)
        ]
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


Enriched = tuple[list[tuple[str, str, float]], Any, str]  # entities, embedding, language


def signatures_of(
    enricher: Enricher, items: dict[str, tuple[str, str]], *, cache: Path | None = None
) -> dict[str, StorySignature]:
    """The worker's signature of each ``(title, body)``: entities, language and embedding from the
    ``Enricher``, no time.  ``cache``: a pickle of the enrichments, read when it holds every item (the
    models are the slow part; signatures and scores are always recomputed)."""
    ids = sorted(items, key=article_order)
    stored: dict[str, Enriched] = {}
    if cache is not None and cache.is_file():
        stored = pickle.loads(cache.read_bytes())
    if not all(i in stored for i in ids):
        enrichments = enricher.enrich_many([items[i] for i in ids])
        for i, en in zip(ids, enrichments, strict=True):
            stored[i] = (
                [(e.type, e.name, e.salience.score) for e in en.entities],
                en.embedding,
                en.language.code,
            )
        if cache is not None:
            cache.write_bytes(pickle.dumps(stored))
    return {
        i: build_signature(
            title=items[i][0],
            text=items[i][1],
            entities=stored[i][0],
            at=None,
            embedding=stored[i][1],
            language=stored[i][2],
        )
        for i in ids
    }


def fit_embedding_scale(signatures: dict[str, StorySignature], pairs: list[Pair]) -> tuple[float, float]:
    """``(floor, ceiling)`` putting the embedding cosine on the term cosine's scale: the straight line
    that gives the mapped cosines the mean and spread of the term cosines over the labelled pairs."""
    terms, cosines = [], []
    for p in pairs:
        a, b = signatures[p.a], signatures[p.b]
        cosine = embedding_similarity(a.embedding, b.embedding, language_a=a.language, language_b=b.language)
        if cosine is not None and p.overall != 2.5:
            terms.append(text_similarity(a.terms, b.terms))
            cosines.append(cosine)
    slope = statistics.pstdev(terms) / statistics.pstdev(cosines)
    floor = statistics.fmean(cosines) - statistics.fmean(terms) / slope
    return round(floor, 3), round(floor + 1 / slope, 3)


def without_embeddings(signatures: dict[str, StorySignature]) -> dict[str, StorySignature]:
    """The signatures as they were before #18: no embedding keys, no embedding."""
    return {
        a: replace(
            s,
            embedding=None,
            keys=tuple(k for k in s.keys if k not in embedding_keys(s.embedding, s.language)),
        )
        if s.embedding is not None
        else s
        for a, s in signatures.items()
    }


def read_crosslingual(path: Path) -> tuple[dict[str, tuple[str, str]], list[tuple[Pair, str, bool]]]:
    """Pairs of a non-English and an English article: texts, ``(pair, "de-en", machine translated)``."""
    texts: dict[str, tuple[str, str]] = {}
    pairs: list[tuple[Pair, str, bool]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if (row["lang1"] == "en") == (row["lang2"] == "en"):
                continue
            a, b = row["pair_id"].split("_")[:2]
            texts.setdefault(a, split_title(row["text1"]))
            texts.setdefault(b, split_title(row["text2"]))
            pairs.append(
                (
                    Pair(a, b, float(row["overall"])),
                    f"{row['lang1']}-{row['lang2']}",
                    row["machine_translated"],
                )
            )
    return texts, pairs


def share_key(a: StorySignature, b: StorySignature, *, embedding_only: bool = False) -> bool:
    keys = (
        set(embedding_keys(a.embedding, a.language))
        if embedding_only and a.embedding is not None
        else set(a.keys)
    )
    if embedding_only and a.embedding is None:
        return False
    return bool(keys & set(b.keys))


def cells(scores: Scores) -> str:
    return f"{scores[0]:>6.3f} {scores[1]:>6.3f} {scores[2]:>6.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=get_dev_settings().eval_dir)
    parser.add_argument(
        "--choose-on", choices=SPLITS, default="training", help="split the threshold is chosen on"
    )
    parser.add_argument(
        "--min-precision", type=float, default=0.8, help="precision the chosen threshold reaches"
    )
    parser.add_argument(
        "--cache", type=Path, help="folder for pickles of the enrichments (a second run skips the models)"
    )
    args = parser.parse_args()
    if args.cache is not None:
        args.cache.mkdir(parents=True, exist_ok=True)

    def cached(name: str) -> Path | None:
        return None if args.cache is None else args.cache / f"{name}.pickle"

    folder = args.eval_dir / "similarity" / "data"
    if not (folder / "training_set.csv").is_file():
        print(f"SemEval-2022 Task 8 pairs not found in {folder} (set --eval-dir); skipping.", file=sys.stderr)
        return 2

    enricher = Enricher(get_settings().spacy_model)
    base = StoryRules.from_settings(get_settings())
    started = time.perf_counter()
    data: dict[str, tuple[dict[str, StorySignature], list[Pair]]] = {}
    for split in SPLITS:
        texts, pairs = read_split(folder / f"{split}_set.csv")
        signatures = signatures_of(
            enricher, {i: split_title(t) for i, t in texts.items()}, cache=cached(split)
        )
        data[split] = (signatures, pairs)
        print(f"{split}: {len(texts)} English articles, {len(pairs)} labelled pairs")
    before = {split: (without_embeddings(sigs), pairs) for split, (sigs, pairs) in data.items()}

    Data = dict[str, tuple[dict[str, StorySignature], list[Pair]]]

    def sweep(rules: StoryRules, on: Data = data) -> dict[str, dict[float, Scores]]:
        return {
            split: {t: pairwise(pairs, group(sigs, replace(rules, threshold=t))) for t in THRESHOLDS}
            for split, (sigs, pairs) in on.items()
        }

    def choose(results: dict[str, dict[float, Scores]]) -> float:
        reaching = [t for t in THRESHOLDS if results[args.choose_on][t][0] >= args.min_precision]
        return min(reaching) if reaching else max(THRESHOLDS)

    floor, ceiling = fit_embedding_scale(*data[args.choose_on])
    print(
        f"embedding cosine -> term scale fitted on {args.choose_on}: floor {floor} ceiling {ceiling} "
        f"(settings: NEWSWIRE_STORY_EMBEDDING_FLOOR={base.embedding_floor} "
        f"NEWSWIRE_STORY_EMBEDDING_CEILING={base.embedding_ceiling})"
    )
    results = sweep(base)
    print(
        f"weights text {base.weight_text} (embedding share {base.weight_embedding}) entities "
        f"{base.weight_entities} time {base.weight_time} (time proximity 1: no dates); "
        "same story = Overall < 2.5\n"
    )
    print(f"{'threshold':>9}  " + "  ".join(f"{s + ' P':>11} {'R':>6} {'F1':>6}" for s in SPLITS))
    for t in THRESHOLDS:
        row = "  ".join(
            f"{results[s][t][0]:>11.3f} {results[s][t][1]:>6.3f} {results[s][t][2]:>6.3f}" for s in SPLITS
        )
        print(f"{t:>9.2f}  {row}")
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
    variants: dict[str, tuple[StoryRules, Data]] = {
        "settings": (base, data),
        "before #18 (no embedding)": (base, before),
        "text only": (replace(base, weight_text=both, weight_entities=0.0), data),
        "entities only (text if none)": (replace(base, weight_text=0.0, weight_entities=both), data),
    }
    variants.update(
        {
            f"embedding share {share}": (replace(base, weight_embedding=share), data)
            for share in (0.0, 0.25, 0.5, 0.75, 1.0)
            if share != base.weight_embedding
        }
    )
    print(f"\nwhat each part brings (threshold chosen on {args.choose_on} by the same rule):")
    header = "  ".join(f"{s + ' P':>11} {'R':>6} {'F1':>6}" for s in SPLITS)
    print(f"{'variant':<30} {'threshold':>9}  {header}")
    for name, (rules, on) in variants.items():
        swept = results if (rules, on) == (base, data) else sweep(rules, on)
        t = choose(swept)
        row = "  ".join(
            f"{swept[s][t][0]:>11.3f} {swept[s][t][1]:>6.3f} {swept[s][t][2]:>6.3f}" for s in SPLITS
        )
        print(f"{name:<30} {t:>9.2f}  {row}")

    grid_embedding(data[args.choose_on], base, fitted=(floor, ceiling), min_precision=args.min_precision)
    crosslingual(args.eval_dir, enricher, base, cache=cached("pairs_dev_x_en"))
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


def grid_embedding(
    data: tuple[dict[str, StorySignature], list[Pair]],
    base: StoryRules,
    *,
    fitted: tuple[float, float],
    min_precision: float,
) -> None:
    """How the embedding enters the score, chosen on one split: each floor, ceiling and share of the
    embedding in the text part, with its threshold chosen by the usual rule; best F1 first."""
    signatures, pairs = data
    rows = []
    for floor in sorted({0.0, fitted[0]}):
        for ceiling in sorted({0.6, 1.0, fitted[1]}):
            for share in (0.75, 1.0):
                rules = replace(
                    base, embedding_floor=floor, embedding_ceiling=ceiling, weight_embedding=share
                )
                swept = {
                    t: pairwise(pairs, group(signatures, replace(rules, threshold=t))) for t in THRESHOLDS
                }
                reaching = [t for t in THRESHOLDS if swept[t][0] >= min_precision]
                t = min(reaching) if reaching else max(THRESHOLDS)
                rows.append((swept[t][2], floor, ceiling, share, t, swept[t]))
    rows.sort(key=lambda r: (-r[0], r[1], r[2], r[3]))
    print("\nthe embedding in the score, on the split the threshold is chosen on (best F1 first, top 8):")
    print(f"{'floor':>6} {'ceiling':>7} {'share':>5} {'threshold':>9}  {'P':>6} {'R':>6} {'F1':>6}")
    for _, floor, ceiling, share, t, scores in rows[:8]:
        print(f"{floor:>6.3f} {ceiling:>7.3f} {share:>5.2f} {t:>9.2f}  {cells(scores)}")


def crosslingual(eval_dir: Path, enricher: Enricher, rules: StoryRules, *, cache: Path | None) -> None:
    """Story grouping of non-English and English articles (pairs_dev.jsonl), with the settings."""
    path = eval_dir / "multilingual" / "similarity" / "pairs_dev.jsonl"
    if not path.is_file():
        print(f"\n{path} not found: no cross-lingual figures.", file=sys.stderr)
        return
    texts, labelled = read_crosslingual(path)
    signatures = signatures_of(enricher, texts, cache=cache)
    print(
        f"\ncross-lingual stories: {len(labelled)} non-English/English pairs of {path.name}, "
        f"{len(texts)} articles placed together in id order; threshold {rules.threshold} (settings)"
    )
    subsets = {
        "native de-en": [p for p, langs, mt in labelled if langs == "de-en" and not mt],
        **{
            f"{langs} (machine-translated)": [p for p, lg, mt in labelled if lg == langs and mt]
            for langs in sorted({lg for _, lg, mt in labelled if mt})
        },
        "all x-en": [p for p, _, _ in labelled],
    }
    now = group(signatures, rules)
    old = group(without_embeddings(signatures), rules)
    print(
        f"{'pairs':<28} {'n':>4} {'same':>5} {'key recall':>10} {'emb. keys':>9}  "
        f"{'P':>6} {'R':>6} {'F1':>6}   before #18: {'P':>6} {'R':>6} {'F1':>6}"
    )
    for name, pairs in subsets.items():
        same = [p for p in pairs if p.overall < 2.5]
        recall = sum(share_key(signatures[p.a], signatures[p.b]) for p in same) / max(len(same), 1)
        by_embedding = sum(share_key(signatures[p.a], signatures[p.b], embedding_only=True) for p in same)
        share = by_embedding / max(len(same), 1)
        print(
            f"{name:<28} {len(pairs):>4} {len(same):>5} {recall:>10.3f} {share:>9.3f}  "
            f"{cells(pairwise(pairs, now))}               {cells(pairwise(pairs, old))}"
        )
    everything = subsets["all x-en"]
    print("\nfor reading only (the threshold is never chosen here): all x-en pairs by threshold")
    for t in THRESHOLDS:
        scores = pairwise(everything, group(signatures, replace(rules, threshold=t)))
        print(f"{t:>9.2f}  {cells(scores)}")


if __name__ == "__main__":
    raise SystemExit(main())
