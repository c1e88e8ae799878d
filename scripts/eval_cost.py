"""Worker CPU per article per language: ``Enricher.enrich_many`` on article-sized texts in English, French,
Spanish, Dutch and German, and the ratio to English (goal of issue #18: at most 1.5x).

    OMP_NUM_THREADS=1 python scripts/eval_cost.py [--eval-dir ../shared/eval] [--articles 40] [--chars 3000]

Texts (``--articles`` per language, each cut to about ``--chars`` characters at a sentence or word end):
en the AllSides corpus (``corpus/allsides.jsonl.gz``); fr MasakhaNEWS French dev (``multilingual/topics/
fra_dev.tsv``); de XGLUE NC German dev (``multilingual/topics/deu_xglue_dev.tsv``); es and nl the CoNLL-2002
dev sentences (``multilingual/ner/esp.testa``, ``ned.testa``) joined into bodies (tokens joined by spaces).
Only texts at least ``--chars`` long are used, so every language is timed on the same amount of text.

CPU is ``time.process_time()`` of the whole ``enrich_many`` call (language detection, NER, canonicalisation,
keyphrases and whatever else the enricher runs for that language, e.g. topics), after one warm-up call per
language (so each language's pipeline is loaded); ``NER only`` is the ``nlp.pipe`` of the language's NER
pipeline alone on the same texts.  Run it with one thread: the figures are per core.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.train_ner_multilingual import read_conll
from services.enrich.nlp.pipeline import Enricher

csv.field_size_limit(10_000_000)


def cut(text: str, chars: int) -> str:
    """``text`` cut after the last sentence end (else word end) before ``chars``."""
    if len(text) <= chars:
        return text
    head = text[:chars]
    end = max(head.rfind(". "), head.rfind(".\n"))
    if end > chars // 2:
        return head[: end + 1]
    return head[: head.rfind(" ")] if " " in head else head


def _tsv(path: Path, column: str) -> Iterator[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            yield row[column]


def _jsonl(path: Path) -> Iterator[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            yield str(json.loads(line).get("text") or "")


def _conll(path: Path, chars: int) -> Iterator[str]:
    body: list[str] = []
    size = 0
    for sentence in read_conll(path):
        line = " ".join(token for token, _ in sentence)
        body.append(line)
        size += len(line) + 1
        if size >= chars:
            yield " ".join(body)
            body, size = [], 0


def texts(eval_dir: Path, language: str, *, articles: int, chars: int) -> list[str]:
    multi = eval_dir / "multilingual"
    source: Iterator[str]
    if language == "en":
        source = _jsonl(eval_dir / "corpus" / "allsides.jsonl.gz")
    elif language == "fr":
        source = _tsv(multi / "topics" / "fra_dev.tsv", "text")
    elif language == "de":
        source = _tsv(multi / "topics" / "deu_xglue_dev.tsv", "body")
    else:
        name = {"es": "esp.testa", "nl": "ned.testa"}[language]
        source = _conll(multi / "ner" / name, chars)
    out: list[str] = []
    for text in source:
        if len(text) >= chars:
            out.append(cut(text, chars))
        if len(out) == articles:
            break
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--chars", type=int, default=3000)
    parser.add_argument("--langs", default="en,fr,es,nl,de")
    args = parser.parse_args()

    enricher = Enricher()
    rows: list[tuple[str, str, int, float, float, int]] = []
    for language in args.langs.split(","):
        try:
            bodies = texts(args.eval_dir, language, articles=args.articles, chars=args.chars)
        except FileNotFoundError as exc:
            print(f"{language}: {exc}; skipped", file=sys.stderr)
            continue
        if not bodies:
            continue
        items: list[tuple[str | None, str]] = [(None, b) for b in bodies]
        enricher.enrich_many(items[:2])  # warm-up: loads the language's pipeline
        started = time.process_time()
        results = enricher.enrich_many(items)
        total = time.process_time() - started
        detected = sum(r.language.code == language for r in results)
        pipeline = enricher.ner_pipelines.get(language)
        ner = 0.0
        if pipeline is not None:
            started = time.process_time()
            list(pipeline.nlp.pipe(bodies, batch_size=16))
            ner = time.process_time() - started
        model = pipeline.version if pipeline is not None else "none"
        rows.append((language, model, len(bodies), total / len(bodies), ner / len(bodies), detected))
    english = next((r for r in rows if r[0] == "en"), None)
    print(f"worker CPU per article (~{args.chars} characters; time.process_time, this process)")
    print(
        f"{'lang':<5}{'NER model':<36}{'articles':>9}{'detected':>9}{'enrich ms':>10}{'x en':>6}"
        f"{'NER ms':>8}{'x en':>6}"
    )
    for language, model, n, total, ner, detected in rows:
        ratio = f"{total / english[3]:>6.2f}" if english and english[3] else f"{'-':>6}"
        ner_ratio = f"{ner / english[4]:>6.2f}" if english and english[4] else f"{'-':>6}"
        print(
            f"{language:<5}{model:<36}{n:>9}{detected:>9}{total * 1000:>10.1f}{ratio}{ner * 1000:>8.1f}"
            f"{ner_ratio}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
