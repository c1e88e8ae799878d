"""Word-level precision / recall / F1 of the cleaning module on the article-extraction benchmark.

Usage: python scripts/eval_extraction.py [--eval-dir ../shared/eval] [--limit N]

Reads <eval-dir>/extraction/html/<id>.html.gz and <eval-dir>/extraction/ground-truth.json
({id: {"articleBody", "url"}}) and scores, per page, the bag of lower-cased words of the prediction
against the ground-truth article body; the table shows the mean over pages.

Rows: the HTML path (clean_html's extractor with each trafilatura mode) and the plain-text path
(the page's visible text - all text in page order, boilerplate included - run through clean_text).
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.ingest.cleaning import clean_text
from services.ingest.cleaning.html import extract_html, visible_text

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--eval-dir", default="../shared/eval", help="folder holding extraction/ (default: %(default)s)"
    )
    ap.add_argument("--limit", type=int, default=0, help="score only the first N pages (0: all)")
    ap.add_argument("--modes", default="precision,default,recall", help="trafilatura modes to compare")
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

    systems: dict[str, Callable[[str, str], str]] = {}
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        systems[f"html ({mode})"] = lambda html, url, m=mode: extract_html(html, url=url, mode=m).text  # type: ignore[misc]
    systems["visible text (no cleaning)"] = lambda html, url: visible_text(html)
    systems["text: clean_text(visible)"] = lambda html, url: clean_text(visible_text(html)).text

    print(f"{len(ids)} pages from {root}")
    print(f"{'system':30s} {'P':>6s} {'R':>6s} {'F1':>6s} {'empty':>6s} {'sec':>6s}")
    for name, system in systems.items():
        start = time.perf_counter()
        rows = []
        empty = 0
        for i in ids:
            pred = system(pages[i], truth[i].get("url", ""))
            empty += not pred.strip()
            rows.append(score(truth[i]["articleBody"], pred))
        n = max(len(rows), 1)
        p, r, f = (sum(x[k] for x in rows) / n for k in range(3))
        print(f"{name:30s} {p:6.3f} {r:6.3f} {f:6.3f} {empty:6d} {time.perf_counter() - start:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
