"""Entity-level precision/recall/F1 of the French, Spanish, Dutch and German NER pipelines on dev splits.

    python scripts/eval_ner_multilingual.py [--data-dir ../shared/eval/multilingual/ner] [--langs es,nl,fr,de]
                                            [--limit N] [--per-type]

Dev splits (never trained on, never used to choose anything; see that folder's README.md):
es ``esp.testa`` (CoNLL-2002), nl ``ned.testa`` (CoNLL-2002), fr ``fra_wikineural_val.conllu`` (WikiNEuRal,
silver), de ``deu_wikiann_val.conllu`` (WikiANN, silver, PER/ORG/LOC only).

Documents are rebuilt as in ``scripts/eval_ner.py``: an article per ``-DOCSTART-`` when the file has them,
else :data:`SENTENCES_PER_ARTICLE` consecutive sentences; sentences joined by blank lines, tokens by single
spaces; no title.  The language's pipeline (the one the enricher routes that language to,
``services/enrich/nlp/ner_registry.py``) runs once per article (``nlp.pipe``), and two outputs are scored:

* **model**: every ``doc.ents`` span, its CoNLL label as is;
* **pipeline**: what the enricher serves: labels mapped onto the API's types, every mention span of the
  canonical entities (``services.enrich.entities.canonicalise`` with the language's rules, as the worker
  runs it), typed with the entity's type and mapped back
  (PERSON -> PER, ORG -> ORG, GPE/LOC/FAC -> LOC, NORP/EVENT/... -> MISC).

The headline figure is exact-span F1 over PER/ORG/LOC (MISC is not served: see the registry), with the
goals of issue #18 (0.75 for es/nl/fr, 0.65 for de).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.eval_ner import SPACY_TO_CONLL, Field, build_field, f1, gold_spans
from scripts.train_ner_multilingual import Sentence
from services.enrich.entities import RawSpan, canonicalise
from services.enrich.nlp.entities import raw_spans
from services.enrich.nlp.ner_registry import NerPipeline, default_registry
from services.enrich.nlp.pipeline import load_ner_model

DEV_FILES = {
    "es": "esp.testa",
    "nl": "ned.testa",
    "fr": "fra_wikineural_val.conllu",
    "de": "deu_wikiann_val.conllu",
}
GOALS = {"es": 0.75, "nl": 0.75, "fr": 0.75, "de": 0.65}
SENTENCES_PER_ARTICLE = 8
SCORED = ("PER", "ORG", "LOC")

Span = tuple[int, str, int, int, str]


def read_articles(path: Path) -> list[list[Sentence]]:
    """Articles of a CoNLL file (``token TAG`` or ``idx<TAB>token<TAB>tag``): one per ``-DOCSTART-`` when
    the file has them, else runs of :data:`SENTENCES_PER_ARTICLE` sentences."""
    articles: list[list[Sentence]] = [[]]
    current: Sentence = []
    docstart = False
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        parts = [p for p in (line.split("\t") if "\t" in line else line.split()) if p]
        if not parts:
            if current:
                articles[-1].append(current)
            current = []
            continue
        token = parts[1] if len(parts) >= 3 and parts[0].isdigit() else parts[0]
        if token == "-DOCSTART-":
            docstart = True
            if articles[-1]:
                articles.append([])
            continue
        current.append((token, parts[-1]))
    articles = [a for a in articles if a]
    if docstart:
        return articles
    flat = [s for a in articles for s in a]
    return [flat[i : i + SENTENCES_PER_ARTICLE] for i in range(0, len(flat), SENTENCES_PER_ARTICLE)]


def score(gold: set[Span], predicted: set[Span], kinds: tuple[str, ...]) -> tuple[float, float, float]:
    g = {s for s in gold if s[4] in kinds}
    p = {s for s in predicted if s[4] in kinds}
    return f1(len(g & p), len(p - g), len(g - p))


def evaluate(
    pipeline: NerPipeline, articles: list[list[Sentence]]
) -> tuple[set[Span], set[Span], set[Span], float]:
    """``(gold, model spans, pipeline spans, seconds)`` over ``articles``."""
    bodies: list[Field] = [build_field(a) for a in articles]
    gold: set[Span] = set()
    for index, body in enumerate(bodies):
        gold |= gold_spans(index, "text", body.tags)
    nlp = pipeline.nlp  # loaded before the clock starts
    started = time.perf_counter()
    docs = list(nlp.pipe([b.text for b in bodies], batch_size=32))
    seconds = time.perf_counter() - started
    model: set[Span] = set()
    ours: set[Span] = set()
    for index, (body, doc) in enumerate(zip(bodies, docs, strict=True)):
        for ent in doc.ents:
            tokens = body.tokens_of(ent.start_char, ent.end_char)
            if tokens is not None:
                model.add((index, "text", *tokens, ent.label_))
        spans: list[RawSpan] = raw_spans(doc, field="text", labels=pipeline.labels)
        for entity in canonicalise(title=None, text=body.text, spans=spans, language=pipeline.language):
            kind = SPACY_TO_CONLL.get(entity.type)
            if kind is None:
                continue
            for m in entity.mentions:
                tokens = body.tokens_of(m.start, m.end)
                if tokens is not None:
                    ours.add((index, m.field, *tokens, kind))
    return gold, model, ours, seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/eval/multilingual/ner"))
    parser.add_argument("--langs", default="es,nl,fr,de")
    parser.add_argument("--limit", type=int, default=None, help="articles per language (default: all)")
    parser.add_argument("--per-type", action="store_true", help="also print P/R/F1 per type")
    args = parser.parse_args()

    english = NerPipeline("en", "unused", lambda: load_ner_model())
    registry = default_registry(english)
    header = (
        f"{'lang':<5}{'model':<30}{'articles':>9}{'gold':>7}{'P':>7}{'R':>7}{'F1':>7}"
        f"{'PER':>7}{'ORG':>7}{'LOC':>7}{'model F1':>10}{'goal':>6}  met  {'words/s':>8}"
    )
    lines = [header]
    detail: list[str] = []
    missing = 0
    for lang in args.langs.split(","):
        path = args.data_dir / DEV_FILES[lang]
        pipeline = registry.get(lang)
        if not path.is_file() or pipeline is None:
            print(f"{lang}: {'no dev file at ' + str(path) if pipeline else 'no NER pipeline'}; skipped")
            missing += 1
            continue
        articles = read_articles(path)[: args.limit]
        gold, model, ours, seconds = evaluate(pipeline, articles)
        p, r, score_all = score(gold, ours, SCORED)
        per_type = [score(gold, ours, (kind,))[2] for kind in SCORED]
        model_f1 = score(gold, model, SCORED)[2]
        words = sum(len(s) for a in articles for s in a)
        goal = GOALS[lang]
        lines.append(
            f"{lang:<5}{pipeline.version:<30}{len(articles):>9}{len({s for s in gold if s[4] in SCORED}):>7}"
            f"{p:>7.3f}{r:>7.3f}{score_all:>7.3f}"
            + "".join(f"{x:>7.3f}" for x in per_type)
            + f"{model_f1:>10.3f}{goal:>6.2f}  {'yes' if score_all >= goal else 'NO ':<3}"
            + f"  {words / seconds:>8.0f}"
        )
        if args.per_type:
            detail.append(f"{lang} pipeline, per type ({DEV_FILES[lang]}):")
            for kind in (*SCORED, "MISC"):
                tp_p, tp_r, tp_f = score(gold, ours, (kind,))
                n = len({s for s in gold if s[4] == kind})
                detail.append(f"  {kind:<5} P {tp_p:.3f} R {tp_r:.3f} F1 {tp_f:.3f} (gold {n})")
    print("PER/ORG/LOC exact-span F1 of the served mentions (pipeline) and of the raw model spans (model F1)")
    print("\n".join(lines))
    if detail:
        print("\n".join(detail))
    return 1 if missing == len(args.langs.split(",")) else 0


if __name__ == "__main__":
    raise SystemExit(main())
