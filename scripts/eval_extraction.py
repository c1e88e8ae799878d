"""Word-level precision / recall / F1 and cost of the cleaning module on the article-extraction benchmark.

Usage: python scripts/eval_extraction.py [--eval-dir ../shared/eval] [--limit N]

Reads <eval-dir>/extraction/html/<id>.html.gz and <eval-dir>/extraction/ground-truth.json
({id: {"articleBody", "url", ...}}) and scores, per page, the bag of lower-cased words of the prediction
against the ground-truth article body; the table shows the mean over pages.

Rows, all in the same run:
  trafilatura default  - plain ``trafilatura.extract(html, url=url)``, the reference;
  html: clean_html     - our HTML path as ingest runs it (isolated worker process, metadata, flags);
  visible text         - all text a reader could see, boilerplate included (no cleaning);
  text: clean_text     - our plain-text path: clean_text on each page's visible text (one line per block);
  text: flattened      - the same visible text flattened to one line (no line structure: RSS descriptions,
                         JSON fields, text copied out of a page), through clean_text.
``<1/5`` counts the outputs with fewer than a fifth of the ground-truth body's words (near-empty);
``fallback`` counts the outputs flagged ``cleaning_fallback`` (cleaning kept the input whole).
Date accuracy is scored only when the ground truth carries a publication date (``datePublished``);
pages/s is measured per system; ``cost`` is seconds per page relative to plain trafilatura.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura

from services.ingest.cleaning import clean_html, clean_text
from services.ingest.cleaning.html import visible_text
from services.ingest.cleaning.text import parse_date

_TOKEN_RE = re.compile(r"\w+")


def score(truth: str, pred: str) -> tuple[float, float, float]:
    """Bag-of-words precision, recall, F1 (both empty: perfect; nothing in common: zero)."""
    t = Counter(_TOKEN_RE.findall(truth.lower()))
    p = Counter(_TOKEN_RE.findall(pred.lower()))
    tp = sum((t & p).values())
    fp = sum(p.values()) - tp
    fn = sum(t.values()) - tp
    if fp == fn == 0:
        return 1.0, 1.0, 1.0
    if tp == 0:
        return 0.0, 0.0, 0.0
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    return precision, recall, 2 * precision * recall / (precision + recall)


Prediction = tuple[str, datetime | None]


def _trafilatura_default(html: str, url: str) -> Prediction:
    return trafilatura.extract(html, url=url) or "", None


def _html_path(html: str, url: str) -> Prediction:
    article = clean_html(html, url=url)
    return article.text, article.published_at


def _visible(html: str, url: str) -> Prediction:
    return visible_text(html), None


FALLBACKS: Counter[str] = Counter()


def _text_path(html: str, url: str) -> Prediction:
    article = clean_text(visible_text(html))
    FALLBACKS["text: clean_text(visible)"] += "cleaning_fallback" in article.flags
    return article.text, article.published_at


def _flattened_path(html: str, url: str) -> Prediction:
    article = clean_text(" ".join(visible_text(html).split()))
    FALLBACKS["text: clean_text(flattened)"] += "cleaning_fallback" in article.flags
    return article.text, article.published_at


SYSTEMS: dict[str, Callable[[str, str], Prediction]] = {
    "trafilatura default (ref)": _trafilatura_default,
    "html: clean_html": _html_path,
    "visible text (no cleaning)": _visible,
    "text: clean_text(visible)": _text_path,
    "text: clean_text(flattened)": _flattened_path,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--eval-dir", default="../shared/eval", help="folder holding extraction/ (default: %(default)s)"
    )
    ap.add_argument("--limit", type=int, default=0, help="score only the first N pages (0: all)")
    args = ap.parse_args()

    root = Path(args.eval_dir) / "extraction"
    truth_path, html_dir = root / "ground-truth.json", root / "html"
    if not truth_path.is_file() or not html_dir.is_dir():
        print(
            f"error: benchmark not found: expected {truth_path} and {html_dir}/ (pass --eval-dir)",
            file=sys.stderr,
        )
        return 2
    truth: dict[str, dict[str, str]] = json.loads(truth_path.read_text(encoding="utf-8"))
    ids = sorted(i for i in truth if (html_dir / f"{i}.html.gz").is_file())
    if args.limit:
        ids = ids[: args.limit]
    pages = {
        i: gzip.decompress((html_dir / f"{i}.html.gz").read_bytes()).decode("utf-8", "replace") for i in ids
    }
    dated = {i: d for i in ids if (d := parse_date(str(truth[i].get("datePublished") or ""))) is not None}

    print(f"{len(ids)} pages from {root}; {len(dated)} with a ground-truth date")
    header = (
        f"{'system':28s} {'P':>6s} {'R':>6s} {'F1':>6s} {'date acc':>9s} {'empty':>6s} {'pages/s':>8s}"
        f" {'cost':>6s} {'<1/5':>5s} {'fallback':>8s}"
    )
    print(header)
    print("-" * len(header))
    # Pages go through every system in turn (interleaved), so a change in the machine's load during the
    # run weighs on every system alike; each system is warmed on the first page before timing.
    for system in SYSTEMS.values():
        system(pages[ids[0]], truth[ids[0]].get("url", "")) if ids else None
    FALLBACKS.clear()
    rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in SYSTEMS}
    empty = dict.fromkeys(SYSTEMS, 0)
    small = dict.fromkeys(SYSTEMS, 0)
    dates_right = dict.fromkeys(SYSTEMS, 0)
    elapsed = dict.fromkeys(SYSTEMS, 0.0)
    for i in ids:
        for name, system in SYSTEMS.items():
            start = time.perf_counter()
            pred, date = system(pages[i], truth[i].get("url", ""))
            elapsed[name] += time.perf_counter() - start
            empty[name] += not pred.strip()
            body_words = len(_TOKEN_RE.findall(truth[i]["articleBody"]))
            small[name] += len(_TOKEN_RE.findall(pred)) < body_words / 5
            rows[name].append(score(truth[i]["articleBody"], pred))
            if i in dated and date is not None and date.date() == dated[i].date():
                dates_right[name] += 1
    reference_cost = 0.0
    for name in SYSTEMS:
        n = max(len(rows[name]), 1)
        p, r, f = (sum(x[k] for x in rows[name]) / n for k in range(3))
        per_page = elapsed[name] / n
        reference_cost = reference_cost or per_page
        date_acc = f"{dates_right[name] / len(dated):9.3f}" if dated else f"{'n/a':>9s}"
        print(
            f"{name:28s} {p:6.3f} {r:6.3f} {f:6.3f} {date_acc} {empty[name]:6d} {1 / per_page:8.1f} "
            f"{per_page / reference_cost:5.2f}x {small[name]:5d} {FALLBACKS[name]:8d}"
        )
    if not dated:
        print("date acc: n/a - this benchmark's ground truth has no publication dates")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
