"""Entity-level precision/recall/F1 on CoNLL-2003 dev (eng.testa): raw spaCy and our pipeline, same run.

    python scripts/eval_ner.py [--eval-dir ../shared/eval] [--split eng.testa] [--limit N] [--no-titles]

``--split eng.testb`` scores the CoNLL-2003 test split instead, when it is present.  The pipeline runs the
NER pipe fine-tuned on ``eng.train`` (``scripts/train_ner.py``) and raw spaCy the packaged en_core_web_sm.

Articles are rebuilt from the file: ``-DOCSTART-`` lines when present, else a new article starts at the
sentence before each dateline sentence (a short sentence ending with a ``YYYY-MM-DD`` date, as every
Reuters story of the set has).  The first sentence of an article (its headline) is the title and the other
sentences, joined by blank lines, the body; tokens are joined with single spaces.  spaCy runs once per
title and body (``nlp.pipe``), exactly as the enricher runs it, and both systems are scored on that output:

* **raw spaCy**: every ``doc.ents`` span of the packaged en_core_web_sm, untouched, with its label;
* **pipeline**: the NER pipe the enricher runs (fine-tuned weights), then every mention span of our
  canonical entities (``services.enrich.entities.canonicalise``:
  trimmed spans, dropped junk, headline trimming), typed with the canonical entity's type.  Mentions, not
  canonical names, are scored, so a merge can never hide a lost span.

Labels map to CoNLL types: PERSON -> PER, ORG -> ORG, GPE/LOC/FAC -> LOC, NORP/EVENT/PRODUCT/WORK_OF_ART/
LAW/LANGUAGE -> MISC (numeric labels dropped).  A prediction counts when its token span and type equal a
gold entity's (a span that does not start and end on token boundaries is mapped to the tokens it touches).
"""

from __future__ import annotations

import argparse
import bisect
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.enrich.entities import RawSpan, canonicalise
from services.enrich.nlp.pipeline import Enricher, load_base_model

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
_DATELINE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Sentence = list[tuple[str, str]]  # (token, tag)
Span = tuple[int, str, int, int, str]  # article, field, first token, last token + 1, type


@dataclass(slots=True)
class Field:
    """A title or body string with its gold tokens' character offsets."""

    text: str
    starts: list[int]
    ends: list[int]
    tags: list[str]

    def tokens_of(self, start: int, end: int) -> tuple[int, int] | None:
        first = bisect.bisect_right(self.ends, start)
        last = bisect.bisect_left(self.starts, end) - 1
        return (first, last + 1) if first <= last else None


def read_conll(path: Path) -> list[list[Sentence]]:
    """Articles (lists of sentences); see the module docstring for how articles are delimited."""
    articles: list[list[Sentence]] = []
    sentences: list[Sentence] = []
    current: Sentence = []
    docstart = False
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        parts = line.split()
        if parts and parts[0] == "-DOCSTART-":
            docstart = True
            if sentences:
                articles.append(sentences)
            sentences = []
            continue
        if not parts:
            if current:
                sentences.append(current)
            current = []
            continue
        current.append((parts[0], parts[-1]))
    if sentences:
        articles.append(sentences)
    if docstart:
        return articles
    flat = [s for article in articles for s in article]
    starts = [i - 1 for i, s in enumerate(flat) if i > 0 and len(s) <= 6 and _DATELINE.match(s[-1][0])]
    bounds = sorted({0, *starts}) + [len(flat)]
    return [flat[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def build_field(sentences: Iterable[Sentence]) -> Field:
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    tags: list[str] = []
    position = 0
    for n, sentence in enumerate(sentences):
        if n:
            pieces.append("\n\n")
            position += 2
        for i, (token, tag) in enumerate(sentence):
            if i:
                pieces.append(" ")
                position += 1
            starts.append(position)
            pieces.append(token)
            position += len(token)
            ends.append(position)
            tags.append(tag)
    return Field("".join(pieces), starts, ends, tags)


def gold_spans(article: int, field: str, tags: list[str]) -> set[Span]:
    """Entities of IOB1 or IOB2 tags (a chunk starts at B-X, or at I-X after anything but X)."""
    spans: set[Span] = set()
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        continues = prefix == "I" and label == kind
        if kind and not continues:
            spans.add((article, field, start, i, kind))
            kind = ""
        if prefix in ("B", "I") and not continues:
            start, kind = i, label
    return spans


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def table(name: str, gold: set[Span], predicted: set[Span]) -> list[str]:
    lines = [f"{name}: {len(predicted)} predicted", f"{'type':<8}{'P':>7}{'R':>7}{'F1':>7}{'gold':>7}"]
    totals: Counter[str] = Counter()
    for kind in TYPES:
        g = {s for s in gold if s[4] == kind}
        p = {s for s in predicted if s[4] == kind}
        tp, fp, fn = len(g & p), len(p - g), len(g - p)
        totals.update(tp=tp, fp=fp, fn=fn)
        prec, rec, score = f1(tp, fp, fn)
        lines.append(f"{kind:<8}{prec:>7.3f}{rec:>7.3f}{score:>7.3f}{len(g):>7}")
    prec, rec, score = f1(totals["tp"], totals["fp"], totals["fn"])
    lines.append(f"{'overall':<8}{prec:>7.3f}{rec:>7.3f}{score:>7.3f}{len(gold):>7}")
    three = {s for s in gold if s[4] != "MISC"}
    mine = {s for s in predicted if s[4] != "MISC"}
    prec, rec, score = f1(len(three & mine), len(mine - three), len(three - mine))
    lines.append(f"{'PER/ORG/LOC':<8}{prec:>7.3f}{rec:>7.3f}{score:>7.3f}{len(three):>7}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--limit", type=int, default=None, help="articles to evaluate (default: all)")
    parser.add_argument("--split", default="eng.testa", help="CoNLL file under ner/ (default: dev)")
    parser.add_argument("--no-titles", action="store_true", help="headline in the body, no title")
    parser.add_argument("--show-lost", type=int, default=0, metavar="N", help="print N lost spans")
    args = parser.parse_args()

    path = args.eval_dir / "ner" / args.split
    if not path.is_file():
        print(f"CoNLL-2003 file not found at {path} (set --eval-dir); skipping.", file=sys.stderr)
        return 2
    articles = read_conll(path)[: args.limit]

    fields: list[tuple[Field | None, Field]] = []
    gold: set[Span] = set()
    for index, sentences in enumerate(articles):
        if args.no_titles or len(sentences) < 2:
            title, body = None, build_field(sentences)
        else:
            title, body = build_field(sentences[:1]), build_field(sentences[1:])
            gold |= gold_spans(index, "title", title.tags)
        fields.append((title, body))
        gold |= gold_spans(index, "text", body.tags)

    enricher = Enricher()
    base = load_base_model()
    strings = [s.text for title, body in fields for s in (title, body) if s is not None]
    started = time.perf_counter()
    base_docs = iter(list(base.pipe(strings, batch_size=64)))
    base_seconds = time.perf_counter() - started
    started = time.perf_counter()
    docs = iter(list(enricher.nlp.pipe(strings, batch_size=64)))
    model_seconds = time.perf_counter() - started

    raw: set[Span] = set()
    ours: set[Span] = set()
    canonical_seconds = 0.0
    for index, (title, body) in enumerate(fields):
        spans: list[RawSpan] = []
        by_field = {"title": title, "text": body}
        for name, source in (("title", title), ("text", body)):
            if source is None:
                continue
            for ent in next(base_docs).ents:
                kind = SPACY_TO_CONLL.get(ent.label_)
                tokens = source.tokens_of(ent.start_char, ent.end_char)
                if kind is not None and tokens is not None:
                    raw.add((index, name, *tokens, kind))
            for ent in next(docs).ents:
                spans.append(RawSpan(name, ent.start_char, ent.end_char, ent.label_))  # type: ignore[arg-type]
        started = time.perf_counter()
        entities = canonicalise(title=title.text if title else None, text=body.text, spans=spans)
        canonical_seconds += time.perf_counter() - started
        for entity in entities:
            kind = SPACY_TO_CONLL.get(entity.type)
            if kind is None:
                continue
            for m in entity.mentions:
                source = by_field[m.field]
                assert source is not None
                tokens = source.tokens_of(m.start, m.end)
                if tokens is not None:
                    ours.add((index, m.field, *tokens, kind))

    n = len(articles)
    print(
        f"{n} articles ({'headline in the body' if args.no_titles else 'headline as title'}), "
        f"{len(gold)} gold entities; model {enricher.versions['ner_model']}"
    )
    print(
        f"speed: raw spaCy {base_seconds:.1f} s ({n / base_seconds:.1f} articles/s); fine-tuned NER "
        f"{model_seconds:.1f} s ({n / model_seconds:.1f} articles/s, {model_seconds / base_seconds:.2f}x); "
        "canonicalisation "
        f"{canonical_seconds:.2f} s; pipeline {n / (model_seconds + canonical_seconds):.1f} articles/s"
    )
    raw_lines = table("raw spaCy", gold, raw)
    our_lines = table("pipeline", gold, ours)
    width = max(len(line) for line in raw_lines) + 4
    for left, right in zip(raw_lines, our_lines, strict=True):
        print(f"{left:<{width}}{right}")
    lost, gained = (raw & gold) - ours, (ours & gold) - raw
    print(
        f"correct spans of raw spaCy the pipeline lost: {len(lost)} of {len(raw & gold)} "
        f"(by type: {dict(sorted(Counter(s[4] for s in lost).items()))}); correct spans gained: {len(gained)}"
    )
    if args.show_lost:
        for article, field, first, last, kind in sorted(lost)[: args.show_lost]:
            source = fields[article][0 if field == "title" else 1]
            assert source is not None
            print(f"  lost {kind}: {source.text[source.starts[first] : source.ends[last - 1]]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
