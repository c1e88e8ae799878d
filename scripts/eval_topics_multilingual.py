"""Topic accuracy in French, German and English: the classifier over the multilingual (e5) embedding, and the
English MiniLM classifier on the same English rows.

    python scripts/eval_topics_multilingual.py [--eval-dir ../shared/eval] [--ag-limit 2000]
                                               [--cache-dir /tmp/newswire-topic-cache] [--no-minilm]

Sets (``<eval-dir>/multilingual/topics/``, see its README; never used for training or tuning):

* ``fra_dev.tsv`` (MasakhaNEWS French, BBC Afrique), ``deu_xglue_dev.tsv`` (XGLUE NC German, MSN),
  ``deu_10kgnad_dev.tsv`` (10kGNAD, DER STANDARD): each label mapped onto one IPTC top-level topic as the
  README suggests; the labels it says to leave out (general news, video, Inland, International, Panorama)
  are dropped;
* English: the first ``--ag-limit`` rows of AG News (``<eval-dir>/topics/test.csv``), scored as
  ``eval_topics.py`` scores it (top topic mapped to the AG class).

An item is right when its top topic (the best of the 17) is the mapped IPTC topic.  Articles are read as the
worker reads them: e5 embeds :func:`article_lead` (title and the first 600 characters), MiniLM reads
``article_input``.  Per gold label: the accuracy and the topics most often predicted instead.  e5
embeddings are cached per text in ``--cache-dir`` (outside the repository) so reruns are cheap.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from eval_topics import IPTC_TO_AG, read_ag
from train_topics import embed_cached_e5

from services.enrich.nlp.multilingual import article_lead, shared_embedder
from services.enrich.nlp.topics import (
    IPTC_TOPICS,
    MULTILINGUAL_TOPICS_VERSION,
    TOPICS_VERSION,
    EmbeddingTopicClassifier,
    TopicClassifier,
)

CODE_OF = {label: code for code, label in IPTC_TOPICS}
SHORT = {code: label.split(",")[0].split(" and ")[0] for code, label in IPTC_TOPICS}  # "economy", "arts", ...
ECONOMY = CODE_OF["economy, business and finance"]
SPORT = CODE_OF["sport"]
ARTS = CODE_OF["arts, culture, entertainment and media"]
HEALTH = CODE_OF["health"]
LIFESTYLE = CODE_OF["lifestyle and leisure"]
SCIENCE = CODE_OF["science and technology"]
#: label -> IPTC code per set (None: left out of accuracy), as the set's README suggests.
MAPPINGS: dict[str, dict[str, str | None]] = {
    "fra_dev": {
        "business": ECONOMY,
        "entertainment": ARTS,
        "health": HEALTH,
        "politics": CODE_OF["politics"],
        "religion": CODE_OF["religion"],
        "sports": SPORT,
        "technology": SCIENCE,
    },
    "deu_xglue_dev": {
        "finance": ECONOMY,
        "sports": SPORT,
        "entertainment": ARTS,
        "health": HEALTH,
        "lifestyle": LIFESTYLE,
        "travel": LIFESTYLE,
        "foodanddrink": LIFESTYLE,
        "autos": LIFESTYLE,
        "news": None,
        "video": None,
    },
    "deu_10kgnad_dev": {
        "Wirtschaft": ECONOMY,
        "Sport": SPORT,
        "Wissenschaft": SCIENCE,
        "Web": SCIENCE,
        "Kultur": ARTS,
        "Etat": ARTS,
        "Inland": None,
        "International": None,
        "Panorama": None,
    },
}


@dataclass(frozen=True, slots=True)
class Item:
    label: str  #: the set's own label
    gold: str  #: the IPTC code it maps to
    title: str | None
    text: str


def read_set(eval_dir: Path, name: str) -> list[Item] | None:
    """The scorable rows of one set (left-out labels dropped), or None (with a message) without the file."""
    path = eval_dir / "multilingual" / "topics" / f"{name}.tsv"
    if not path.is_file():
        print(f"{path} not found (set --eval-dir); skipping.", file=sys.stderr)
        return None
    mapping = MAPPINGS[name]
    items: list[Item] = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if name == "fra_dev":
                label, title, text = row["category"], row["headline"], row["text"]
            elif name == "deu_xglue_dev":
                label, title, text = row["label"], row["title"], row["body"]
            else:  # 10kGNAD: the text is the title and the body
                label, title, text = row["label"], None, row["text"]
            gold = mapping[label]
            if gold is not None:
                items.append(Item(label=label, gold=gold, title=title, text=text))
    return items


def report(name: str, items: list[Item], predicted: list[str]) -> float:
    """Print the accuracy and the per-label breakdown; return the accuracy."""
    right = [p == item.gold for item, p in zip(items, predicted, strict=True)]
    accuracy = float(np.mean(right))
    print(f"{name}: {accuracy:.3f} ({sum(right)}/{len(items)})")
    for label in sorted({item.label for item in items}, key=lambda lab: -sum(i.label == lab for i in items)):
        rows = [i for i, item in enumerate(items) if item.label == label]
        wrong = Counter(SHORT[predicted[i]] for i in rows if not right[i])
        misses = ", ".join(f"{topic} {k}" for topic, k in wrong.most_common(3))
        gold = SHORT[items[rows[0]].gold]
        print(
            f"    {label:<14} -> {gold:<10} {np.mean([right[i] for i in rows]):.3f} ({len(rows):>3})"
            + (f"  missed as: {misses}" if misses else "")
        )
    return accuracy


def cpu_per_article(e5: EmbeddingTopicClassifier, *, repeats: int = 3) -> None:
    """CPU seconds (this process, one thread) per article of ``samples/``, one article per call as a lone
    queued article is enriched: the MiniLM topic model (its own embedding run) against the e5 classifier
    (a matrix product over the embedding every article gets anyway), and that e5 embedding itself."""
    samples = sorted((Path(__file__).resolve().parents[1] / "samples").glob("*.txt"))
    if not samples:
        return
    items: list[tuple[str | None, str]] = []
    for path in samples:
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        items.append((title, body))
    minilm = TopicClassifier()
    embedder = shared_embedder()
    minilm.probabilities(items[:1])  # warm up both
    embedder.embed_articles(items[:1])

    def cpu(run: Callable[[tuple[str | None, str]], object]) -> float:
        started = time.process_time()
        for _ in range(repeats):
            for item in items:
                run(item)
        return (time.process_time() - started) / (repeats * len(items)) * 1000

    embeddings = embedder.embed_articles(items)
    minilm_ms = cpu(lambda item: minilm.probabilities([item], batch_size=1))
    e5_embed_ms = cpu(lambda item: embedder.embed_articles([item]))
    started = time.process_time()
    for _ in range(repeats * 100):
        e5.score_many(embeddings)
    e5_ms = (time.process_time() - started) / (repeats * 100 * len(items)) * 1000
    print(
        f"CPU per article ({len(items)} samples/ articles, one at a time): MiniLM topics {minilm_ms:.1f} ms; "
        f"e5 topics over the stored embedding {e5_ms:.3f} ms (the e5 embedding, computed for every "
        f"article anyway: {e5_embed_ms:.1f} ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--ag-limit", type=int, default=2000, help="AG News rows (of 7,600) for English")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/newswire-topic-cache"))
    parser.add_argument("--no-minilm", action="store_true", help="skip the English MiniLM classifier")
    args = parser.parse_args()

    e5 = EmbeddingTopicClassifier()
    codes = [code for code, _ in IPTC_TOPICS]
    print(f"e5 topics {MULTILINGUAL_TOPICS_VERSION}; MiniLM topics {TOPICS_VERSION}")
    table: list[tuple[str, str, int, float]] = []
    german: list[tuple[Item, str]] = []
    for name in MAPPINGS:
        items = read_set(args.eval_dir, name)
        if items is None:
            continue
        embeddings = embed_cached_e5(
            [article_lead(i.title, i.text) for i in items], args.cache_dir, name="e5-eval"
        )
        predicted = [codes[k] for k in e5.probabilities(embeddings).argmax(axis=1)]
        table.append((name, "e5", len(items), report(name, items, predicted)))
        if name.startswith("deu_"):
            german.extend(zip(items, predicted, strict=True))
    if german:
        pooled = float(np.mean([p == item.gold for item, p in german]))
        table.append(("German pooled", "e5", len(german), pooled))

    rows = read_ag(args.eval_dir, args.ag_limit)
    if rows is not None:
        gold = np.array([g for g, _, _ in rows])
        leads = [article_lead(title, text) for _, title, text in rows]
        ag_e5 = e5.probabilities(embed_cached_e5(leads, args.cache_dir, name="e5-eval")).argmax(axis=1)
        models = [("e5", ag_e5, 0.0)]
        if not args.no_minilm:
            minilm = TopicClassifier()
            started = time.perf_counter()
            probabilities = np.vstack(
                [
                    minilm.probabilities([(t, x) for _, t, x in rows[start : start + 16]], batch_size=16)
                    for start in range(0, len(rows), 16)
                ]
            )
            seconds = (time.perf_counter() - started) / len(rows)
            models.append(("MiniLM", probabilities.argmax(axis=1), seconds))
        for model, top, seconds in models:
            predicted = np.array([IPTC_TO_AG.get(codes[k], 0) for k in top])
            accuracy = float(np.mean(predicted == gold))
            per_class = ", ".join(
                f"{name} {np.mean(predicted[gold == k] == k):.3f}"
                for k, name in {1: "World", 2: "Sports", 3: "Business", 4: "Sci/Tech"}.items()
            )
            cost = f"; {seconds * 1000:.1f} ms/row" if seconds else ""
            print(f"AG News ({model}): {accuracy:.3f}; per class {per_class}{cost}")
            table.append((f"eng AG News[:{len(rows)}]", model, len(rows), accuracy))

    if not args.no_minilm:
        cpu_per_article(e5)
    print()
    print(f"| {'set':<22} | {'model':<6} | {'rows':>5} | accuracy |")
    print(f"|{'-' * 24}|{'-' * 8}|{'-' * 7}|----------|")
    for name, model, n, accuracy in table:
        print(f"| {name:<22} | {model:<6} | {n:>5} | {accuracy:>8.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
