"""Fine-tune the NER pipe of en_core_web_sm on CoNLL-2003 train and write its weights.

    python scripts/train_ner.py [--eval-dir ../shared/eval] [--epochs 3] [--minutes 40] [--out PATH]

Training data: ``eng.train`` (the CoNLL-2003 training split; never the dev split ``eng.testa`` that
``scripts/eval_ner.py`` scores), cut into documents of up to 8 consecutive sentences joined by blank lines
(as the enricher sees a body).  CoNLL has four types and the API serves the OntoNotes ones, so the labels
each token is trained on are built from the gold tags *and* the original model's predictions on the same
words ("rehearsal", so that the pipe keeps what CoNLL does not annotate):

* gold PER -> PERSON, ORG -> ORG; gold LOC -> the original model's GPE/LOC/FAC label of the same span, else
  GPE; gold MISC -> the original model's NORP/EVENT/PRODUCT/WORK_OF_ART/LAW/LANGUAGE label of the same
  span, else *missing* (no loss: CoNLL's MISC has no single OntoNotes type);
* an original prediction overlapping no gold entity: kept when numeric/temporal (DATE, TIME, MONEY,
  PERCENT, QUANTITY, ORDINAL, CARDINAL); outside (O) when PERSON/ORG/GPE/LOC/FAC/NORP (CoNLL annotates
  those, so it is a false positive); missing for EVENT/PRODUCT/WORK_OF_ART/LAW/LANGUAGE;
* every other token: outside.

The last 1,000 sentences of the file are held out to report entity F1 after each epoch (training choices
are read there, never on the dev split).  Training is bounded by ``--epochs`` and ``--minutes``; the
weights of the NER pipe are written after each epoch (gzip of ``ner.to_bytes()``), and the enricher loads
them over the packaged pipeline (``services/enrich/nlp/pipeline.py``).
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch

from services.enrich.nlp.ner_weights import NER_WEIGHTS_PATH
from services.enrich.nlp.pipeline import load_base_model

SENTENCES_PER_DOC = 8
HELD_OUT = 1000
KEEP_OUTSIDE_GOLD = {"DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "ORDINAL", "CARDINAL"}
CONLL_COVERED = {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"}
LOC_LABELS = {"GPE", "LOC", "FAC"}
MISC_LABELS = {"NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}

Sentence = list[tuple[str, str]]


def read_sentences(path: Path) -> list[Sentence]:
    sentences: list[Sentence] = []
    current: Sentence = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        parts = line.split()
        if parts and parts[0] == "-DOCSTART-":
            continue
        if not parts:
            if current:
                sentences.append(current)
            current = []
            continue
        current.append((parts[0], parts[-1]))
    return sentences


def gold_chunks(tags: list[str]) -> list[tuple[int, int, str]]:
    """``(start, end, type)`` of IOB1/IOB2 tags."""
    chunks: list[tuple[int, int, str]] = []
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        continues = prefix == "I" and label == kind
        if kind and not continues:
            chunks.append((start, i, kind))
            kind = ""
        if prefix in ("B", "I") and not continues:
            start, kind = i, label
    return chunks


def make_doc(nlp: Language, sentences: list[Sentence], *, blank_lines: bool = True) -> tuple[Doc, list[str]]:
    """The words of ``sentences`` in one doc (a ``\\n\\n`` token between sentences when ``blank_lines``,
    else a space) and their CoNLL tags."""
    words: list[str] = []
    spaces: list[bool] = []
    tags: list[str] = []
    for n, sentence in enumerate(sentences):
        if n and blank_lines:
            spaces[-1] = False
            words.append("\n\n")
            spaces.append(False)
            tags.append("O")
        for token, tag in sentence:
            words.append(token)
            spaces.append(True)
            tags.append(tag)
    if spaces:
        spaces[-1] = False
    return Doc(nlp.vocab, words=words, spaces=spaces), tags


def target_tags(tags: list[str], predicted: list[tuple[int, int, str]]) -> list[str]:
    """BILUO tags to train on (``-`` = missing) from CoNLL tags and the original model's spans."""
    n = len(tags)
    out = ["O"] * n
    gold = gold_chunks(tags)
    by_span = {(s, e): label for s, e, label in predicted}
    covered = [False] * n
    spans: list[tuple[int, int, str | None]] = []
    for start, end, kind in gold:
        for i in range(start, end):
            covered[i] = True
        original = by_span.get((start, end))
        if kind == "PER":
            spans.append((start, end, "PERSON"))
        elif kind == "ORG":
            spans.append((start, end, "ORG"))
        elif kind == "LOC":
            spans.append((start, end, original if original in LOC_LABELS else "GPE"))
        else:
            spans.append((start, end, original if original in MISC_LABELS else None))
    for start, end, label in predicted:
        if any(covered[i] for i in range(start, end)):
            continue
        if label in KEEP_OUTSIDE_GOLD:
            spans.append((start, end, label))
        elif label not in CONLL_COVERED:
            spans.append((start, end, None))
    label_of: str | None
    for start, end, label_of in spans:
        if label_of is None:
            for i in range(start, end):
                out[i] = "-"
        elif end - start == 1:
            out[start] = f"U-{label_of}"
        else:
            out[start] = f"B-{label_of}"
            for i in range(start + 1, end - 1):
                out[i] = f"I-{label_of}"
            out[end - 1] = f"L-{label_of}"
    return out


def held_out_f1(nlp: Language, docs: list[tuple[Doc, list[str]]]) -> str:
    """PER/ORG/LOC exact-span F1 on held-out documents (GPE/LOC/FAC count as LOC)."""
    conll = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
    tp = fp = fn = 0
    ner = nlp.get_pipe("ner")
    for doc, tags in docs:
        fresh = Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        predicted = {(e.start, e.end, conll[e.label_]) for e in ner(fresh).ents if e.label_ in conll}
        gold = {c for c in gold_chunks(tags) if c[2] in ("PER", "ORG", "LOC")}
        tp += len(predicted & gold)
        fp += len(predicted - gold)
        fn += len(gold - predicted)
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    return f"P {p:.3f} R {r:.3f} F1 {2 * p * r / max(p + r, 1e-9):.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=40.0, help="stop after the epoch passing this")
    parser.add_argument("--out", type=Path, default=NER_WEIGHTS_PATH)
    parser.add_argument("--drop", type=float, default=0.2)
    args = parser.parse_args()
    path = args.eval_dir / "ner" / "eng.train"
    if not path.is_file():
        print(f"CoNLL-2003 train file not found at {path}", file=sys.stderr)
        return 2

    nlp = load_base_model()
    ner = nlp.get_pipe("ner")
    sentences = read_sentences(path)
    train_sentences, held_sentences = sentences[:-HELD_OUT], sentences[-HELD_OUT:]

    def docs_of(rows: list[Sentence]) -> list[tuple[Doc, list[str]]]:
        return [
            make_doc(nlp, rows[i : i + SENTENCES_PER_DOC]) for i in range(0, len(rows), SENTENCES_PER_DOC)
        ]

    train_docs, held_docs = docs_of(train_sentences), docs_of(held_sentences)
    print(f"{len(train_docs)} training documents, {len(held_docs)} held out", flush=True)
    print(f"original model, held out: {held_out_f1(nlp, held_docs)}", flush=True)

    examples: list[Example] = []
    for doc, tags in train_docs:
        fresh = Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        predicted = [(e.start, e.end, e.label_) for e in ner(fresh).ents]
        reference = Doc(nlp.vocab, words=[t.text for t in doc], spaces=[bool(t.whitespace_) for t in doc])
        examples.append(Example.from_dict(reference, {"entities": target_tags(tags, predicted)}))
    print(f"{len(examples)} examples built", flush=True)

    optimizer = nlp.resume_training()
    rng = random.Random(0)
    started = time.monotonic()
    for epoch in range(1, args.epochs + 1):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=16):  # type: ignore[no-untyped-call]
            nlp.update(batch, sgd=optimizer, drop=args.drop, losses=losses)
        with gzip.open(args.out, "wb", compresslevel=9) as fh:
            fh.write(ner.to_bytes(exclude=["vocab"]))  # type: ignore[attr-defined]
        minutes = (time.monotonic() - started) / 60
        print(
            f"epoch {epoch}: loss {losses.get('ner', 0.0):.1f}, {minutes:.1f} min; "
            f"held out: {held_out_f1(nlp, held_docs)}; wrote {args.out}",
            flush=True,
        )
        if minutes > args.minutes:
            break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
