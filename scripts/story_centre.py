"""Make ``shared/stories/data/embedding_centre.npy``: the mean multilingual embedding of news articles,
which story embedding keys are centred on (``shared.stories.signature``).

    python scripts/story_centre.py [--eval-dir ../shared/eval] [--per-language 150]

Reads text that is training data, never evaluation data: English AllSides articles
(``corpus/allsides.jsonl.gz``) and the public NER *training* splits of ``multilingual/ner/`` (CoNLL-2002
Spanish and Dutch news, WikiANN German Wikipedia sentences), whose consecutive sentences are joined into
article-sized texts; the first ``--per-language`` of each (in file order), embedded as the worker embeds an
article (title + lead).  French has no training text here: French articles are centred on the mean of all
languages.  The centre is the mean of the languages' means, so no language pulls it towards itself.  Only
the 384 numbers are shipped, no text.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newswire_cli.dev.settings import get_dev_settings
from shared.stories.signature import EMBEDDING_CENTRE


def english(folder: Path, n: int) -> list[tuple[str, str]]:
    out = []
    with gzip.open(folder / "corpus" / "allsides.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("text"):
                out.append((row.get("title") or "", row["text"]))
            if len(out) >= n:
                break
    return out


#: Characters of joined training sentences that make one article-sized text (the embedder reads a lead).
TEXT_CHARS = 700


def conll_texts(path: Path, n: int) -> list[tuple[str, str]]:
    """Consecutive sentences of a CoNLL training file (``idx<TAB>token<TAB>tag``), tokens joined by spaces,
    cut into texts of about :data:`TEXT_CHARS` characters (no title)."""
    texts: list[tuple[str, str]] = []
    words: list[str] = []
    length = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[1] != "-DOCSTART-":
            words.append(parts[1])
            length += len(parts[1]) + 1
        elif not line.strip() and length >= TEXT_CHARS:
            texts.append(("", " ".join(words)))
            words, length = [], 0
            if len(texts) >= n:
                break
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=get_dev_settings().eval_dir)
    parser.add_argument("--per-language", type=int, default=150)
    parser.add_argument("--out", type=Path, default=EMBEDDING_CENTRE)
    args = parser.parse_args()
    folder = args.eval_dir
    if not (folder / "corpus" / "allsides.jsonl.gz").is_file():
        print(f"corpus not found in {folder} (set --eval-dir)", file=sys.stderr)
        return 2
    from services.enrich.nlp.multilingual import MultilingualEmbedder

    n = args.per_language
    ner = folder / "multilingual" / "ner"
    corpora = {
        "en": english(folder, n),
        "de": conll_texts(ner / "deu_wikiann_train.conllu", n),
        "es": conll_texts(ner / "esp_train.conllu", n),
        "nl": conll_texts(ner / "ned_train.conllu", n),
    }
    embedder = MultilingualEmbedder()
    started = time.perf_counter()
    means = []
    for language, items in corpora.items():
        vectors = embedder.embed_articles(items)
        means.append(vectors.mean(axis=0))
        print(f"{language}: {len(items)} articles, mean norm {np.linalg.norm(means[-1]):.3f}")
    centre = np.mean(means, axis=0).astype(np.float32)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, centre)
    for language, mean in zip(corpora, means, strict=True):  # the centre of each language's articles
        np.save(args.out.with_name(f"{args.out.stem}_{language}.npy"), mean.astype(np.float32))
    print(f"centre norm {np.linalg.norm(centre):.3f} -> {args.out} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
