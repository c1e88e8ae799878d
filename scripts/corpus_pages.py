"""News pages built from the AllSides corpus, for extraction benchmarks (``scripts/eval_extraction.py``).

    python scripts/corpus_pages.py [--eval-dir ../shared/eval] [--pages 150] [--show 1]

Each page wraps one corpus article (title, byline, paragraphs: the ground truth) in the furniture of a news
site: a header with navigation, share buttons, an image caption, an inline "read more" teaser, a sidebar
of other headlines, a newsletter box, a comments block and a footer.  Five layouts vary the markup
(semantic ``<article>``, div soup with class names, tables, ``<br>``-separated paragraphs, a CMS with
nested wrappers); the layout, the furniture and the other headlines are drawn from a seeded generator, so
every run builds the same pages.  The layouts were written from how news sites look, not from what any
extractor does; they are a third benchmark next to ScrapingHub's and newspaper4k's pages, with publishers'
texts that neither was built on.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SEED = 17
MIN_PARAGRAPHS = 3

_SECTIONS = [
    "News",
    "World",
    "Politics",
    "Business",
    "Tech",
    "Science",
    "Health",
    "Sport",
    "Opinion",
    "Video",
]
_SHARE = ["Share on Facebook", "Share on Twitter", "Email", "Print", "Copy link"]
_FOOTER = [
    "About us",
    "Contact",
    "Careers",
    "Advertise with us",
    "Privacy Policy",
    "Terms of Use",
    "Cookie settings",
    "© 2020 The Daily Record. All rights reserved.",
]
_COMMENTS = [
    "This is exactly what I have been saying for years. Nobody listens until it is too late.",
    "Great reporting, thank you for covering this.",
    "I disagree with the premise of this article entirely; the numbers tell a different story.",
    "Does anyone know where the full report can be found?",
]


@dataclass(frozen=True, slots=True)
class CorpusPage:
    id: str
    html: str
    body: str  #: the article's paragraphs joined by blank lines (the ground truth)
    url: str


def _articles(eval_dir: Path) -> list[dict[str, str]]:
    path = eval_dir / "corpus" / "allsides.jsonl.gz"
    rows: list[dict[str, str]] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            paragraphs = [p.strip() for p in row["text"].split("\n") if p.strip()]
            if len(paragraphs) >= MIN_PARAGRAPHS and row["title"].strip():
                rows.append(row)
    return rows


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _furniture(rng: random.Random, others: list[str]) -> dict[str, str]:
    nav = "".join(f'<li><a href="/{s.lower()}">{s}</a></li>' for s in rng.sample(_SECTIONS, 7))
    share = "".join(f'<a class="share" href="#">{s}</a>' for s in _SHARE)
    related = "".join(f'<li><a href="/story/{n}">{_e(t)}</a></li>' for n, t in enumerate(others[:5]))
    comments = "".join(
        f'<div class="comment"><span class="user">reader{n}</span><p>{c}</p></div>'
        for n, c in enumerate(rng.sample(_COMMENTS, 3))
    )
    footer = "".join(f'<a href="#">{_e(f)}</a> ' for f in _FOOTER)
    return {
        "nav": f'<nav class="menu"><ul>{nav}</ul></nav>',
        "share": f'<div class="share-bar">{share}</div>',
        "caption": f'<figure><img src="/img/{rng.randrange(10**6)}.jpg" alt=""><figcaption>'
        f"{_e(others[5][:60])} (Photo: Staff photographer / Agency)</figcaption></figure>",
        "teaser": '<p class="read-more"><strong>READ MORE:</strong> '
        f'<a href="/story/x">{_e(others[6])}</a></p>',
        "related": f'<aside class="sidebar"><h3>Most read</h3><ul>{related}</ul></aside>',
        "newsletter": '<div class="newsletter"><h4>Get the morning briefing</h4><p>Sign up for our free '
        'newsletter and get the day\'s top stories in your inbox.</p><input type="email"><button>Subscribe'
        "</button></div>",
        "comments": f'<section class="comments"><h3>{rng.randrange(3, 400)} Comments</h3>'
        f"{comments}</section>",
        "footer": f"<footer>{footer}</footer>",
    }


def _page(layout: int, row: dict[str, str], paragraphs: list[str], f: dict[str, str]) -> str:
    title, author, date = _e(row["title"]), _e(row.get("authors") or "Staff"), _e(row.get("date") or "")
    byline = f'<div class="byline">By {author} <time>{date}</time></div>'
    cut = max(1, len(paragraphs) // 2)
    ps = [f"<p>{_e(p)}</p>" for p in paragraphs]
    head = f"<html><head><title>{title} | The Daily Record</title></head><body>"
    if layout == 0:  # semantic markup
        body = (
            f"<header>{f['nav']}</header><main><article><h1>{title}</h1>{byline}{f['share']}{f['caption']}"
            f"{''.join(ps[:cut])}{f['teaser']}{''.join(ps[cut:])}</article>{f['related']}</main>"
            f"{f['newsletter']}{f['comments']}{f['footer']}"
        )
    elif layout == 1:  # div soup with class names
        body = (
            f'<div id="top">{f["nav"]}</div><div class="container"><div class="col-8"><h1 class="headline">'
            f'{title}</h1>{byline}{f["share"]}<div class="story-body">{"".join(ps[:cut])}{f["caption"]}'
            f'{"".join(ps[cut:])}</div>{f["comments"]}</div><div class="col-4">{f["related"]}'
            f'{f["newsletter"]}</div></div><div class="bottom">{f["footer"]}</div>'
        )
    elif layout == 2:  # tables
        body = (
            f"<table><tr><td colspan=2>{f['nav']}</td></tr><tr><td><h2>{title}</h2>{byline}"
            f"{''.join(ps)}{f['share']}</td><td>{f['related']}{f['newsletter']}</td></tr>"
            f"<tr><td colspan=2>{f['footer']}</td></tr></table>"
        )
    elif layout == 3:  # <br>-separated paragraphs in one container
        text = "<br><br>".join(_e(p) for p in paragraphs)
        body = (
            f"{f['nav']}<div class='post'><h1>{title}</h1>{byline}<div class='entry'>{text}</div>"
            f"{f['share']}</div>{f['related']}{f['comments']}{f['footer']}"
        )
    else:  # a CMS with nested wrappers and the teaser inside the body
        body = (
            f"<div class='wrapper'><div class='header'>{f['nav']}</div><div class='content'>"
            "<div class='inner'>"
            f"<div class='title-block'><h1>{title}</h1>{byline}</div><div class='article-content'>"
            f"<div class='text'>{''.join(ps[:cut])}</div>{f['teaser']}{f['newsletter']}<div class='text'>"
            f"{''.join(ps[cut:])}</div></div>{f['share']}</div></div>{f['related']}{f['footer']}</div>"
        )
    return f"{head}{body}</body></html>"


def corpus_pages(eval_dir: Path, pages: int = 150) -> Iterator[CorpusPage]:
    """``pages`` pages (articles drawn with a fixed seed; raises FileNotFoundError without the corpus)."""
    rows = _articles(eval_dir)
    rng = random.Random(SEED)
    chosen = rng.sample(range(len(rows)), min(pages, len(rows)))
    for n, index in enumerate(chosen):
        row = rows[index]
        paragraphs = [p.strip() for p in row["text"].split("\n") if p.strip()]
        others = [rows[j]["title"] for j in rng.sample(range(len(rows)), 8)]
        layout = n % 5
        page = _page(layout, row, paragraphs, _furniture(rng, others))
        yield CorpusPage(id=row["id"], html=page, body="\n\n".join(paragraphs), url=row.get("url") or "")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-dir", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--pages", type=int, default=150)
    parser.add_argument("--show", type=int, default=1, help="print the HTML of the first N pages")
    args = parser.parse_args()
    for n, page in enumerate(corpus_pages(args.eval_dir, args.pages)):
        if n < args.show:
            print(page.html)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
