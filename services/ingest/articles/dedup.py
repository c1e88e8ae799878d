"""Exact-duplicate keys: a canonical URL and a hash of the normalised cleaned text."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, not a document.
_TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|_gl|"
    r"ocid|cmpid|smid|s_cid|ito|ref|ref_src|ref_url|rss|feature|share|cmp|at_medium|at_campaign)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


# Host prefixes of the mobile, AMP and "www" editions of a site: one article, one canonical host.
_EDITION_HOST = re.compile(r"^(?:www|m|mobile|amp)\.(?=[^.]+\.[^.]+)")
# An AMP edition's path: ``/story/amp``, ``/story.amp``, ``/amp/story``.
_AMP_SUFFIX = re.compile(r"(?:/amp|\.amp)$", re.IGNORECASE)
_AMP_PREFIX = re.compile(r"^/amp(?=/.)", re.IGNORECASE)


def _is_amp_param(key: str, value: str) -> bool:
    key = key.lower()
    return key == "amp" or (key == "outputtype" and value.lower() == "amp")


def canonical_url(url: str) -> str:
    """A stable form of `url`: scheme and host lower-cased, default port, fragment and tracking
    parameters dropped, remaining parameters sorted, trailing slash of a non-root path dropped, and the
    site's editions folded into one: a leading ``www.``, ``m.``, ``mobile.`` or ``amp.`` of a host with
    two more labels goes, and so do AMP paths (``/amp`` or ``.amp`` at the end, ``/amp/`` at the start)
    and AMP parameters (``amp``, ``outputType=amp``)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = _EDITION_HOST.sub("", (parts.hostname or "").lower().rstrip("."))
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    path = _AMP_PREFIX.sub("", _AMP_SUFFIX.sub("", path)) or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(k) and not _is_amp_param(k, v)
    ]
    query.sort()
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_text(text: str) -> str:
    """Case, accents of compatibility forms, punctuation and spacing do not make a new article."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


def content_hash(text: str, *, title: str | None = None) -> str:
    """The exact key of an article: its normalised title and cleaned text (one text under two headlines
    is two articles: alerts with a stock body).  Without a title, the text's alone (the key of articles
    stored before titles were part of it)."""
    body = normalise_text(text)
    if title is not None:
        body = normalise_text(title) + "\n" + body
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
