"""Run the real enrichment pipeline on a sample of the news corpus and cache what it finds, for
scripts/gen_articles.py (issue 16: benchmark data spread as the real enrichment spreads it).

    python scripts/bench_distributions.py --sample 300

Reads ../shared/eval/corpus/allsides.jsonl.gz, enriches --sample articles drawn with a fixed seed through
``services.enrich.nlp.Enricher`` (spaCy NER, salience, topics, language), and writes
scripts/data/bench_distributions.json: entities per article, entity types, mentions per entity, salience
quantiles, topics per article, topic popularity and score quantiles, languages, and the entity names seen
with how many sampled articles named them (the generator's entity vocabulary).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "eval" / "corpus" / "allsides.jsonl.gz"
OUT = ROOT / "scripts" / "data" / "bench_distributions.json"


def quantiles(values: list[float], n: int = 20) -> list[float]:
    if not values:
        return []
    ordered = sorted(values)
    return [round(ordered[min(len(ordered) - 1, int(i * len(ordered) / n))], 4) for i in range(n + 1)]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with gzip.open(CORPUS, "rt") as fh:
        rows = [json.loads(line) for line in fh]
    sample = random.Random(args.seed).sample(rows, args.sample)

    from services.enrich.nlp import Enricher

    enricher = Enricher()
    started = time.monotonic()
    results = enricher.enrich_many([(r["title"], r["text"]) for r in sample], batch_size=16)
    elapsed = time.monotonic() - started
    per_article, mentions, salience, types = [], [], [], Counter[str]()
    topics_per, topic_codes, topic_scores, languages = [], Counter[str](), [], Counter[str]()
    names: Counter[tuple[str, str]] = Counter()
    for r in results:
        per_article.append(len(r.entities))
        languages[r.language.code] += 1
        for e in r.entities:
            types[e.type] += 1
            mentions.append(e.count)
            salience.append(e.salience.score)
            names[(e.type, e.name)] += 1
        topics_per.append(len(r.topics))
        for t in r.topics:
            topic_codes[t.code] += 1
            topic_scores.append(t.score)
    out = {
        "sample": args.sample,
        "seed": args.seed,
        "corpus": "allsides.jsonl.gz",
        "enrich_seconds": round(elapsed, 1),
        "versions": enricher.versions,
        "entities_per_article": dict(sorted(Counter(per_article).items())),
        "entity_types": dict(types.most_common()),
        "mentions_per_entity": dict(sorted(Counter(mentions).items())),
        "salience_quantiles": quantiles(salience),
        "topics_per_article": dict(sorted(Counter(topics_per).items())),
        "topic_codes": dict(topic_codes.most_common()),
        "topic_score_quantiles": quantiles(topic_scores),
        "languages": dict(languages.most_common()),
        "entity_names": [[t, n, c] for (t, n), c in names.most_common()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=0, ensure_ascii=False) + "\n")
    print(
        f"enriched {args.sample} articles in {elapsed:.0f} s: {sum(per_article) / len(per_article):.1f} "
        f"entities and {sum(topics_per) / len(topics_per):.2f} topics an article, {len(names)} names; "
        f"wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
