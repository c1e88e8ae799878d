"""Word-level precision / recall / F1 and cost of the cleaning module on three extraction benchmarks.

Usage: python scripts/eval_extraction.py [--eval-dir ../shared/eval] [--limit N] [--corpus-pages 150]
                                         [--benchmarks scrapinghub,newspaper4k,corpus]

Benchmarks: the ScrapingHub article-extraction benchmark (<eval-dir>/extraction: html/<id>.html.gz and
ground-truth.json), newspaper4k's test pages with their expected text (<eval-dir>/pages), and pages built
from the AllSides corpus (``scripts/corpus_pages.py``).  Per page, the bag of lower-cased words of the
prediction is scored against the true body; the table shows the mean over pages.

Rows, all in the same run:
  trafilatura default  - plain ``trafilatura.extract(html, url=url)``, the reference for F1;
  trafilatura + metadata - ``trafilatura.bare_extraction(html, url=url, with_metadata=True)``: the fair
                         cost baseline (we extract the metadata too); ``cost`` is relative to it;
  html: clean_html     - our HTML path as ingest runs it (isolated worker process, metadata, flags);
  visible text         - all text a reader could see, boilerplate included (no cleaning);
  text: clean_text     - our plain-text path: clean_text on each page's visible text (one line per block);
  text: flattened      - the same visible text flattened to one line (no line structure: RSS descriptions,
                         JSON fields, text copied out of a page), through clean_text.
``<1/5`` counts the outputs with fewer than a fifth of the ground-truth body's words (near-empty);
``fallback`` counts the outputs flagged ``cleaning_fallback`` (cleaning kept the input whole).
The text rows run on every benchmark (each page's visible text).  Date accuracy is scored only when the
ground truth carries a publication date (``datePublished``); pages/s is measured per system.
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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura

from scripts.corpus_pages import corpus_pages
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


def _metadata_baseline(html: str, url: str) -> Prediction:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    date = getattr(doc, "date", None)
    return getattr(doc, "text", None) or "", parse_date(date) if isinstance(date, str) else None


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


METADATA_BASELINE = "trafilatura + metadata (cost)"
System = Callable[[str, str], Prediction]
SYSTEMS: dict[str, System] = {
    "trafilatura default (ref)": _trafilatura_default,
    METADATA_BASELINE: _metadata_baseline,
    "html: clean_html": _html_path,
    "visible text (no cleaning)": _visible,
    "text: clean_text(visible)": _text_path,
    "text: clean_text(flattened)": _flattened_path,
}


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    html: str
    body: str
    url: str
    date: datetime | None = None


def scrapinghub_pages(eval_dir: Path) -> list[Page] | None:
    root = eval_dir / "extraction"
    truth_path, html_dir = root / "ground-truth.json", root / "html"
    if not truth_path.is_file() or not html_dir.is_dir():
        print(
            f"ScrapingHub benchmark not found: expected {truth_path} and {html_dir}/; skipped",
            file=sys.stderr,
        )
        return None
    truth: dict[str, dict[str, str]] = json.loads(truth_path.read_text(encoding="utf-8"))
    return [
        Page(
            id=i,
            html=gzip.decompress((html_dir / f"{i}.html.gz").read_bytes()).decode("utf-8", "replace"),
            body=truth[i]["articleBody"],
            url=truth[i].get("url", ""),
            date=parse_date(str(truth[i].get("datePublished") or "")),
        )
        for i in sorted(truth)
        if (html_dir / f"{i}.html.gz").is_file()
    ]


def newspaper_pages(eval_dir: Path) -> list[Page] | None:
    """newspaper4k's test pages that come with an expected text (not independent gold: its regression
    fixtures; pages without an expected text, e.g. front pages, are left out)."""
    root = eval_dir / "pages"
    if not (root / "html").is_dir():
        print(f"newspaper4k pages not found under {root}; skipped", file=sys.stderr)
        return None
    pages: list[Page] = []
    for path in sorted((root / "html").glob("*.html")):
        expected = root / "txt" / f"{path.stem}.txt"
        if not expected.is_file() or not expected.read_text(encoding="utf-8").strip():
            continue
        meta = root / "metadata" / f"{path.stem}.json"
        url = str(json.loads(meta.read_text(encoding="utf-8")).get("url") or "") if meta.is_file() else ""
        html = path.read_text(encoding="utf-8", errors="replace")
        pages.append(Page(id=path.stem, html=html, body=expected.read_text(encoding="utf-8"), url=url))
    return pages


def allsides_pages(eval_dir: Path, count: int) -> list[Page] | None:
    try:
        return [Page(p.id, p.html, p.body, p.url) for p in corpus_pages(eval_dir, count)]
    except FileNotFoundError:
        print(f"corpus not found under {eval_dir / 'corpus'}; skipped", file=sys.stderr)
        return None


def run(name: str, pages: list[Page], systems: dict[str, Callable[[str, str], Prediction]]) -> None:
    dated = {p.id: p.date for p in pages if p.date is not None}
    print(f"\n== {name}: {len(pages)} pages; {len(dated)} with a ground-truth date")
    header = (
        f"{'system':30s} {'P':>6s} {'R':>6s} {'F1':>6s} {'date acc':>9s} {'empty':>6s} {'pages/s':>8s}"
        f" {'cost':>6s} {'<1/5':>5s} {'fallback':>8s}"
    )
    print(header)
    print("-" * len(header))
    # Pages go through every system in turn (interleaved), so a change in the machine's load during the
    # run weighs on every system alike; each system is warmed on the first page before timing.
    for system in systems.values():
        system(pages[0].html, pages[0].url) if pages else None
    FALLBACKS.clear()
    rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in systems}
    empty = dict.fromkeys(systems, 0)
    small = dict.fromkeys(systems, 0)
    dates_right = dict.fromkeys(systems, 0)
    elapsed = dict.fromkeys(systems, 0.0)
    for page in pages:
        body_words = len(_TOKEN_RE.findall(page.body))
        for system_name, system in systems.items():
            start = time.perf_counter()
            pred, date = system(page.html, page.url)
            elapsed[system_name] += time.perf_counter() - start
            empty[system_name] += not pred.strip()
            small[system_name] += len(_TOKEN_RE.findall(pred)) < body_words / 5
            rows[system_name].append(score(page.body, pred))
            truth_date = dated.get(page.id)
            if truth_date is not None and date is not None and date.date() == truth_date.date():
                dates_right[system_name] += 1
    reference_cost = elapsed[METADATA_BASELINE] / max(len(pages), 1)
    for system_name in systems:
        n = max(len(rows[system_name]), 1)
        p, r, f = (sum(x[k] for x in rows[system_name]) / n for k in range(3))
        per_page = elapsed[system_name] / n
        date_acc = f"{dates_right[system_name] / len(dated):9.3f}" if dated else f"{'n/a':>9s}"
        print(
            f"{system_name:30s} {p:6.3f} {r:6.3f} {f:6.3f} {date_acc} {empty[system_name]:6d} "
            f"{1 / per_page:8.1f} {per_page / reference_cost:5.2f}x {small[system_name]:5d} "
            f"{FALLBACKS[system_name]:8d}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--eval-dir", default="../shared/eval", help="folder holding the benchmarks (default: %(default)s)"
    )
    ap.add_argument("--limit", type=int, default=0, help="score only the first N pages of each (0: all)")
    ap.add_argument("--corpus-pages", type=int, default=150, help="pages built from the corpus")
    ap.add_argument(
        "--benchmarks", default="scrapinghub,newspaper4k,corpus", help="comma-separated (default: all three)"
    )
    args = ap.parse_args()
    eval_dir = Path(args.eval_dir)
    wanted = set(args.benchmarks.split(","))
    found = 0
    benchmarks: list[tuple[str, Callable[[], list[Page] | None], dict[str, System]]] = [
        ("ScrapingHub article-extraction-benchmark", lambda: scrapinghub_pages(eval_dir), SYSTEMS),
        ("newspaper4k test pages", lambda: newspaper_pages(eval_dir), SYSTEMS),
        (
            "pages built from the AllSides corpus",
            lambda: allsides_pages(eval_dir, args.corpus_pages),
            SYSTEMS,
        ),
    ]
    for name, load, systems in benchmarks:
        if not any(w in name.lower() for w in wanted):
            continue
        pages = load()
        if not pages:
            continue
        found += 1
        run(name, pages[: args.limit] if args.limit else pages, systems)
    print(
        "\ncost: seconds per page relative to trafilatura bare_extraction with metadata (the fair baseline);"
        " <1/5: outputs under a fifth of the true body's words; date acc: n/a where the gold has no dates"
    )
    return 0 if found else 2


if __name__ == "__main__":
    raise SystemExit(main())
