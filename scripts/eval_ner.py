"""Entity-level precision/recall/F1 of the enricher's NER on CoNLL-2003 dev (eng.testa).

    python scripts/eval_ner.py [--eval-dir ../shared/eval] [--limit N]

Sentences are rebuilt by joining the gold tokens with single spaces; spaCy entities are mapped back to gold
token spans through character offsets, and their labels to CoNLL types: PERSON -> PER, ORG -> ORG,
GPE/LOC/FAC -> LOC, NORP/EVENT/PRODUCT/WORK_OF_ART/LAW/LANGUAGE -> MISC (numeric labels dropped).  Spans
are trimmed as the enricher trims mentions (leading "the", possessive, stray punctuation).  A prediction
counts when its token span and type equal a gold entity's.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.enrich.nlp.entities import clean_span
from services.enrich.nlp.pipeline import Enricher

SPACY_TO_CONLL = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
}
TYPES = ("PER", "ORG", "LOC", "MISC")

Span = tuple[int, int, int, str]  # sentence, first token, last token + 1, type


def read_conll(path: Path) -> list[list[tuple[str, str]]]:
    sentences: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if current:
                sentences.append(current)
            current = []
            continue
        current.append((parts[0], parts[-1]))
    if current:
        sentences.append(current)
    return sentences


def gold_spans(index: int, tags: list[str]) -> set[Span]:
    """Entities of IOB1 or IOB2 tags (a chunk starts at B-X, or at I-X after anything but X)."""
    spans: set[Span] = set()
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        continues = prefix == "I" and label == kind
        if kind and not continues:
            spans.add((index, start, i, kind))
            kind = ""
        if prefix in ("B", "I") and not continues:
            start, kind = i, label
    return spans


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--limit", type=int, default=None, help="sentences to evaluate (default: all)")
    args = parser.parse_args()

    path = args.eval_dir / "ner" / "eng.testa"
    if not path.is_file():
        print(f"CoNLL-2003 dev file not found at {path} (set --eval-dir); skipping.", file=sys.stderr)
        return 2
    sentences = read_conll(path)[: args.limit]

    texts: list[str] = []
    offsets: list[list[tuple[int, int]]] = []
    gold: set[Span] = set()
    for index, sentence in enumerate(sentences):
        tokens = [token for token, _ in sentence]
        spans, position = [], 0
        for token in tokens:
            spans.append((position, position + len(token)))
            position += len(token) + 1
        texts.append(" ".join(tokens))
        offsets.append(spans)
        gold |= gold_spans(index, [tag for _, tag in sentence])

    enricher = Enricher()
    started = time.perf_counter()
    predicted: set[Span] = set()
    for index, doc in enumerate(enricher.nlp.pipe(texts, batch_size=256)):
        spans = offsets[index]
        for ent in doc.ents:
            kind = SPACY_TO_CONLL.get(ent.label_)
            if kind is None:
                continue
            start, end = clean_span(doc.text, ent.start_char, ent.end_char)
            if start >= end:
                continue
            first = next(i for i, (s, e) in enumerate(spans) if e > start)
            last = next(i for i, (s, e) in reversed(list(enumerate(spans))) if s < end)
            predicted.add((index, first, last + 1, kind))
    elapsed = time.perf_counter() - started

    print(
        f"{len(sentences)} sentences, {len(gold)} gold entities, {len(predicted)} predicted; "
        f"model {enricher.versions['ner_model']}, {elapsed:.1f} s"
    )
    print(f"{'type':<8}{'P':>7}{'R':>7}{'F1':>7}{'gold':>7}")
    totals: Counter[str] = Counter()
    for kind in TYPES:
        g = {s for s in gold if s[3] == kind}
        p = {s for s in predicted if s[3] == kind}
        tp, fp, fn = len(g & p), len(p - g), len(g - p)
        totals.update(tp=tp, fp=fp, fn=fn)
        prec, rec, score = f1(tp, fp, fn)
        print(f"{kind:<8}{prec:>7.3f}{rec:>7.3f}{score:>7.3f}{len(g):>7}")
    prec, rec, score = f1(totals["tp"], totals["fp"], totals["fn"])
    print(f"{'overall':<8}{prec:>7.3f}{rec:>7.3f}{score:>7.3f}{len(gold):>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
