"""Push a load of article variants to a running ingest service, to watch the queues under load.

    python scripts/push_load.py --url http://127.0.0.1:8001 --count 400

Each variant is a sample article (samples/) under its own URL, each paragraph marked as its own, from one
of a few sources; about one in ten is pushed again (a duplicate) and one in twenty-five is invalid (a
rejection), so every outcome shows up in the metrics, `newswire queues` and `newswire sources`."""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("wire-north", "wire-south", "city-desk", "partner-cms")


def variants(texts: list[tuple[str, str]], count: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for i in range(count):
        title, body = texts[i % len(texts)]
        source = SOURCES[i % len(SOURCES)]
        # every paragraph made unique: a line repeated across a source's articles is its boilerplate
        paragraphs = [f"{p} (Report {i}.{k}.)" for k, p in enumerate(body.split("\n\n")) if p.strip()]
        items.append(
            {
                "url": f"https://{source}.example/stories/{i:05d}",
                "title": f"{title} (update {i})",
                "text": "\n\n".join(paragraphs),
                "source": source,
                "external_id": f"{source}-{i}",
            }
        )
        if i % 10 == 9:
            items.append(dict(items[-5]))  # a feed retrying an earlier push: a duplicate
        if i % 25 == 24:
            items.append({"url": "not a url", "title": "broken", "text": "x", "source": source})
    return items


def batches(items: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="ingest service")
    parser.add_argument("--count", type=int, default=400, help="distinct articles")
    parser.add_argument("--batch", type=int, default=20, help="articles per batch request")
    parser.add_argument("--samples", type=Path, default=ROOT / "samples")
    args = parser.parse_args()
    texts = []
    for path in sorted(args.samples.glob("*.txt")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        texts.append((title.strip(), body.strip()))
    if not texts:
        print(f"no .txt files in {args.samples}", file=sys.stderr)
        return 1
    endpoint = args.url.rstrip("/") + "/v1/articles/batch"
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0}

    def push(batch: list[dict[str, Any]]) -> dict[str, Any]:
        response = httpx.post(endpoint, json={"articles": batch}, timeout=120)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    with ThreadPoolExecutor(max_workers=4) as pool:
        for result in pool.map(push, batches(variants(texts, args.count), args.batch)):
            for key in totals:
                totals[key] += result[key]
    print(json.dumps(totals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
