"""Turning files on disk into articles: shared by `clean`, `enrich` and `ingest`."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.ingest.cleaning import CleanedArticle, clean_html, clean_text

HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
SUFFIXES = (*HTML_SUFFIXES, ".txt", ".text", ".json", ".md")


def is_html(path: Path) -> bool:
    return path.name.lower().endswith(HTML_SUFFIXES)


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def expand(paths: list[Path]) -> Iterator[Path]:
    """Files as given; folders walked for known suffixes, in name order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES))
        else:
            yield path


def clean_file(path: Path) -> CleanedArticle:
    content = read_text(path)
    return clean_html(content) if is_html(path) else clean_text(content)


def fallback_title(text: str, *, limit: int = 110) -> str | None:
    """For a file with no headline: the lead sentence, cut at a word boundary."""
    lead = text.strip().split("\n", 1)[0]
    sentence = re.split(r"(?<=[.!?])\s", lead, maxsplit=1)[0].strip()
    if not sentence:
        return None
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def payloads(path: Path, *, base_url: str, source: str | None) -> list[dict[str, Any]]:
    """The ingest payload(s) for a file: .json holds one article or a list; other files become one
    article whose URL is `base_url` + file name and whose title is the cleaner's headline."""
    if path.suffix.lower() == ".json":
        data = json.loads(read_text(path))
        items = (
            data if isinstance(data, list) else data.get("articles", [data]) if isinstance(data, dict) else []
        )
        return [dict(item) for item in items]
    content = read_text(path)
    cleaned = clean_html(content) if is_html(path) else clean_text(content)
    stem = path.name.split(".")[0]
    payload: dict[str, Any] = {
        "url": base_url.rstrip("/") + "/" + stem,
        "title": cleaned.title or fallback_title(cleaned.text) or stem,
        ("html" if is_html(path) else "text"): content,
    }
    if source:
        payload["source"] = source
    return [payload]
