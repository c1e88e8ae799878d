"""Train a small spaCy NER pipeline for Spanish, Dutch or German and write it for the enricher.

    OMP_NUM_THREADS=1 python scripts/train_ner_multilingual.py --lang es|nl|de [--minutes 18] [--out PATH]

The pipeline is ``spacy.blank(lang)`` + ``ner`` with its own small CNN tok2vec (hash embeddings of NORM,
PREFIX, SUFFIX and SHAPE with ``--rows`` rows, ``--depth`` 4 maxout window layers of ``--width`` 96; no
static vectors), trained from scratch on a public training split in
``../shared/eval/multilingual/ner/`` (see its README): ``esp_train.conllu`` (CoNLL-2002 Spanish train),
``ned_train.conllu`` (CoNLL-2002 Dutch train), ``deu_wikiann_train.conllu`` (WikiANN German, silver,
PER/ORG/LOC).  The development splits scored by ``scripts/eval_ner_multilingual.py`` are never read.

The labels are the CoNLL ones (PER, ORG, LOC and, for es/nl, MISC); the enricher maps them onto the types the
API serves (``services/enrich/nlp/ner_registry.py``).  Sentences are joined a few at a time into documents,
separated by a space or by a blank line (both happen in article bodies).  The last ``--held-out`` sentences
of the training file are held out: PER/ORG/LOC exact-span F1 on them after each epoch picks the epoch; the
best pipeline so far (averaged weights) is written after each epoch that improves it, and training stops
after ``--patience`` epochs without improvement or past ``--minutes``.  One thread.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch

from scripts.train_ner import gold_chunks, make_doc
from services.enrich.nlp.trained_pipelines import save_pipeline, trained_pipeline_path

TRAIN_FILES = {
    "es": "esp_train.conllu",
    "nl": "ned_train.conllu",
    "de": "deu_wikiann_train.conllu",
}
SENTENCES_PER_DOC = 4
SCORED = ("PER", "ORG", "LOC")

Sentence = list[tuple[str, str]]


def read_conll(path: Path) -> list[Sentence]:
    """Sentences of ``token TAG`` or ``idx<TAB>token<TAB>tag`` lines (``-DOCSTART-`` skipped)."""
    sentences: list[Sentence] = []
    current: Sentence = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        parts = line.split("\t") if "\t" in line else line.split()
        parts = [p for p in parts if p != ""]
        if not parts:
            if current:
                sentences.append(current)
            current = []
            continue
        token = parts[1] if len(parts) >= 3 and parts[0].isdigit() else parts[0]
        if token == "-DOCSTART-":
            continue
        current.append((token, parts[-1]))
    return sentences


def biluo(tags: list[str], labels: set[str]) -> list[str]:
    out = ["O"] * len(tags)
    for start, end, kind in gold_chunks(tags):
        if kind not in labels:
            continue
        if end - start == 1:
            out[start] = f"U-{kind}"
        else:
            out[start] = f"B-{kind}"
            for i in range(start + 1, end - 1):
                out[i] = f"I-{kind}"
            out[end - 1] = f"L-{kind}"
    return out


def blank_ner(lang: str, *, rows: tuple[int, int, int, int], width: int, depth: int) -> Language:
    """``spacy.blank(lang)`` + ``ner`` with its own CNN tok2vec: hash embeddings of NORM, PREFIX, SUFFIX and
    SHAPE with ``rows`` rows each, ``depth`` maxout window layers of ``width``."""
    nlp = spacy.blank(lang)
    nlp.add_pipe(
        "ner",
        config={
            "model": {
                "@architectures": "spacy.TransitionBasedParser.v2",
                "state_type": "ner",
                "extra_state_tokens": False,
                "hidden_width": 64,
                "maxout_pieces": 2,
                "use_upper": True,
                "nO": None,
                "tok2vec": {
                    "@architectures": "spacy.Tok2Vec.v2",
                    "embed": {
                        "@architectures": "spacy.MultiHashEmbed.v2",
                        "width": width,
                        "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
                        "rows": list(rows),
                        "include_static_vectors": False,
                    },
                    "encode": {
                        "@architectures": "spacy.MaxoutWindowEncoder.v2",
                        "width": width,
                        "depth": depth,
                        "window_size": 1,
                        "maxout_pieces": 3,
                    },
                },
            }
        },
    )
    return nlp


def span_f1(nlp: Language, docs: list[tuple[Doc, list[str]]]) -> float:
    """PER/ORG/LOC exact-span F1 of ``nlp``'s NER on gold-tokenised documents."""
    tp = fp = fn = 0
    for doc, tags in docs:
        fresh = Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        predicted = {
            (e.start, e.end, e.label_) for e in nlp.get_pipe("ner")(fresh).ents if e.label_ in SCORED
        }
        gold = {c for c in gold_chunks(tags) if c[2] in SCORED}
        tp += len(predicted & gold)
        fp += len(predicted - gold)
        fn += len(gold - predicted)
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    return 2 * p * r / max(p + r, 1e-9)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lang", choices=sorted(TRAIN_FILES), required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/eval/multilingual/ner"))
    parser.add_argument("--minutes", type=float, default=18.0, help="stop after the epoch passing this")
    parser.add_argument("--max-epochs", type=int, default=40)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--held-out", type=int, default=1000)
    parser.add_argument("--rows", default="5000,2500,2500,2500", help="hash rows of NORM,PREFIX,SUFFIX,SHAPE")
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=8, help="documents per update")
    parser.add_argument("--drop", type=float, default=0.2)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N sentences (smoke test)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out: Path = args.out or trained_pipeline_path(args.lang)
    path = args.data_dir / TRAIN_FILES[args.lang]
    if not path.is_file():
        print(f"training file not found at {path}", file=sys.stderr)
        return 2

    spacy.util.fix_random_seed(0)
    rows = tuple(int(n) for n in args.rows.split(","))
    assert len(rows) == 4, "--rows takes four numbers"
    nlp = blank_ner(args.lang, rows=rows, width=args.width, depth=args.depth)  # type: ignore[arg-type]
    sentences = read_conll(path)
    if args.limit:
        sentences = sentences[: args.limit]
    train_sentences, held_sentences = sentences[: -args.held_out], sentences[-args.held_out :]
    labels = {kind for s in train_sentences for _, tag in s for kind in [tag.partition("-")[2]] if kind}
    rng = random.Random(0)

    def docs_of(rows: list[Sentence]) -> list[tuple[Doc, list[str]]]:
        return [
            make_doc(nlp, rows[i : i + SENTENCES_PER_DOC], blank_lines=rng.random() < 0.5)
            for i in range(0, len(rows), SENTENCES_PER_DOC)
        ]

    train_docs, held_docs = docs_of(train_sentences), docs_of(held_sentences)
    examples = [Example.from_dict(doc.copy(), {"entities": biluo(tags, labels)}) for doc, tags in train_docs]
    print(
        f"{args.lang}: {len(train_sentences)} training sentences in {len(examples)} documents, "
        f"{len(held_sentences)} held out; labels {sorted(labels)}",
        flush=True,
    )
    optimizer = nlp.initialize(lambda: examples)
    started = time.monotonic()
    best, since_best = -1.0, 0
    for epoch in range(1, args.max_epochs + 1):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=args.batch_size):  # type: ignore[no-untyped-call]
            nlp.update(batch, sgd=optimizer, drop=args.drop, losses=losses)
        with nlp.use_params(optimizer.averages):
            f1 = span_f1(nlp, held_docs)
            if f1 > best:
                best, since_best = f1, 0
                save_pipeline(nlp, out)
            else:
                since_best += 1
        minutes = (time.monotonic() - started) / 60
        print(
            f"epoch {epoch}: loss {losses.get('ner', 0.0):.1f}, {minutes:.1f} min; held-out PER/ORG/LOC F1 "
            f"{f1:.3f} (best {best:.3f}){'; wrote ' + str(out) if since_best == 0 else ''}",
            flush=True,
        )
        if since_best >= args.patience or minutes > args.minutes:
            break
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB, held-out F1 {best:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
