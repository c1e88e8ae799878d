"""Unit tests of the exact-duplicate keys: canonical URLs and content hashes (pure functions)."""

from __future__ import annotations

import hashlib

import pytest

from services.ingest.articles.dedup import canonical_url, content_hash, normalise_text

# -------------------------------------------------------------------------------------------------
# canonical_url
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # tracking parameters go, whatever their case; nothing else is left, so no "?"
        ("https://example.com/a?utm_source=rss", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&utm_medium=y&utm_campaign=z", "https://example.com/a"),
        ("https://example.com/a?UTM_Source=x&Utm_Content=y", "https://example.com/a"),
        ("https://example.com/a?fbclid=IwAR0abc", "https://example.com/a"),
        ("https://example.com/a?gclid=Cj0KCQ", "https://example.com/a"),
        ("https://example.com/a?fbclid=1&gclid=2&utm_term=3", "https://example.com/a"),
        # other parameters stay, sorted by name (then value)
        ("https://example.com/a?id=7&utm_source=x", "https://example.com/a?id=7"),
        ("https://example.com/a?page=2&fbclid=1&id=7", "https://example.com/a?id=7&page=2"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?tag=z&tag=a", "https://example.com/a?tag=a&tag=z"),
        ("https://example.com/a?q=&utm_source=x", "https://example.com/a?q="),
        # the fragment goes
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?id=1#top", "https://example.com/a?id=1"),
        # scheme and host are lower-cased, the path is not
        ("HTTPS://Example.COM/World/Story", "https://example.com/World/Story"),
        ("https://NEWS.Example.com./a", "https://news.example.com/a"),
        # the www, mobile and AMP editions of a site fold into one host (with two labels left)
        ("https://www.example.com/a", "https://example.com/a"),
        ("https://m.example.com/a", "https://example.com/a"),
        ("https://mobile.example.co.uk/a", "https://example.co.uk/a"),
        ("https://amp.example.com/a", "https://example.com/a"),
        ("https://m.co/a", "https://m.co/a"),  # the site itself
        ("https://mobile.de/a", "https://mobile.de/a"),
        ("https://news.m.example.com/a", "https://news.m.example.com/a"),
        # AMP paths and parameters go
        ("https://example.com/world/story/amp", "https://example.com/world/story"),
        ("https://example.com/world/story/amp/", "https://example.com/world/story"),
        ("https://example.com/world/story.amp", "https://example.com/world/story"),
        ("https://example.com/amp/world/story", "https://example.com/world/story"),
        ("https://example.com/world/story?amp", "https://example.com/world/story"),
        ("https://example.com/world/story?amp=1&id=3", "https://example.com/world/story?id=3"),
        ("https://example.com/world/story?outputType=amp", "https://example.com/world/story"),
        (
            "https://example.com/world/story?outputType=print",
            "https://example.com/world/story?outputType=print",
        ),
        ("https://example.com/world/ampersand", "https://example.com/world/ampersand"),
        ("https://example.com/world/amplifier/story", "https://example.com/world/amplifier/story"),
        # default ports go, other ports stay
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),  # 443 is not http's default
        # a trailing slash of a path goes; the root stays a single slash
        ("https://example.com/world/story/", "https://example.com/world/story"),
        ("https://example.com/world/story//", "https://example.com/world/story"),
        ("https://example.com//world//story", "https://example.com/world/story"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/?utm_source=x#top", "https://example.com/"),
        # surrounding whitespace is not part of the URL
        ("  https://example.com/a \n", "https://example.com/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "variant",
    [
        "https://example.com/world/story",
        "https://example.com/world/story/",
        "HTTPS://EXAMPLE.com:443/world/story",
        "https://example.com/world/story?utm_source=twitter&utm_medium=social",
        "https://example.com/world/story?fbclid=abc#comments",
        "https://example.com/world/story/?gclid=xyz",
        "https://www.example.com/world/story",
        "https://m.example.com/world/story?utm_source=twitter",
        "https://amp.example.com/world/story/amp?amp=1",
        "https://example.com/amp/world/story?outputType=amp",
    ],
)
def test_url_variants_of_one_article_share_a_canonical_url(variant: str) -> None:
    assert canonical_url(variant) == "https://example.com/world/story"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.com/world/story", "https://example.com/world/other-story"),
        ("https://example.com/world/story", "https://example.com/World/Story"),  # paths are case-sensitive
        ("https://example.com/a?id=1", "https://example.com/a?id=2"),
        ("https://example.com/a", "https://example.com:8080/a"),
        ("http://example.com/a", "https://example.com/a"),
    ],
)
def test_different_documents_keep_different_canonical_urls(a: str, b: str) -> None:
    assert canonical_url(a) != canonical_url(b)


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("HTTPS://Example.com:443/a/b/?z=1&utm_source=x&a=2#f")
    assert once == "https://example.com/a/b?a=2&z=1"
    assert canonical_url(once) == once


# -------------------------------------------------------------------------------------------------
# normalise_text / content_hash
# -------------------------------------------------------------------------------------------------

BASE = "The central bank raised rates on Tuesday, officials said."


@pytest.mark.parametrize(
    "variant",
    [
        BASE,
        # case
        "THE CENTRAL BANK RAISED RATES ON TUESDAY, OFFICIALS SAID.",
        "the central bank raised rates on tuesday officials said",
        # punctuation
        "The central bank raised rates on Tuesday; officials said!",
        "The central bank -- raised rates on Tuesday... officials said",
        "«The central bank raised rates on Tuesday», “officials said.”",
        # whitespace: runs of spaces, tabs, newlines, no-break space, leading/trailing space
        "  The   central bank\traised rates\non Tuesday,\n\nofficials said.  ",
        "The\u00a0central bank raised rates on Tuesday, officials\u2003said.",
        # NFKC compatibility forms: full-width letters, a combining accent folded later by casefold
        "\uff34\uff48\uff45 central bank raised rates on Tuesday, officials said.",
        "The central bank raised rates on T\uff55esday, officials said.",
    ],
)
def test_cosmetic_variants_hash_the_same(variant: str) -> None:
    assert content_hash(variant) == content_hash(BASE)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("caf\u00e9 opens", "cafe\u0301 opens"),  # precomposed vs decomposed accent (NFC/NFD)
        ("\ufb01nal offer", "final offer"),  # the "fi" ligature
        ("Stra\u00dfe closed", "STRASSE closed"),  # casefold, not lower()
        ("\u2460 item", "1 item"),  # circled digit one
        ("x\u00b2 grows", "x2 grows"),  # superscript two
    ],
)
def test_compatibility_forms_hash_the_same(a: str, b: str) -> None:
    assert normalise_text(a) == normalise_text(b)
    assert content_hash(a) == content_hash(b)


@pytest.mark.parametrize(
    "changed",
    [
        "The central bank cut rates on Tuesday, officials said.",  # one word changed
        "The central bank raised rates on Wednesday, officials said.",
        "The central bank raised rates on Tuesday, officials denied.",
        "The central bank raised rates on Tuesday, officials said again.",  # one word added
        "The central bank raised rates on Tuesday, said.",  # one word removed
        "The centralbank raised rates on Tuesday, officials said.",  # words joined
        "The central bank raised rates on Tuesday, officials said. 2",
    ],
)
def test_a_changed_word_changes_the_hash(changed: str) -> None:
    assert content_hash(changed) != content_hash(BASE)


def test_normalise_text_output() -> None:
    assert normalise_text(BASE) == "the central bank raised rates on tuesday officials said"
    assert normalise_text("  Hello,\n\tWORLD!!  ") == "hello world"
    assert normalise_text("snake_case and kebab-case") == "snake case and kebab case"
    assert normalise_text("...!?") == ""


def test_content_hash_is_sha256_hex_of_the_normalised_text() -> None:
    digest = content_hash(BASE)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    expected = hashlib.sha256(b"the central bank raised rates on tuesday officials said").hexdigest()
    assert digest == expected


def test_ipv6_host_keeps_its_brackets() -> None:
    assert canonical_url("http://[::1]:8080/a/") == "http://[::1]:8080/a"
