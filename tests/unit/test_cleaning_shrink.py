"""Shrinking an oversized page: what nobody reads goes, every visible word stays (hand-made pages)."""

from __future__ import annotations

import json

import lxml.html

from services.ingest.cleaning.html import page_metadata, visible_text
from services.ingest.cleaning.shrink import LD_JSON_MAX_CHARS, bounded_prefix, shrink_html

BODY = "<p>The council approved the budget on Monday after a long debate, the mayor said.</p>"
LD_JSON = json.dumps({"@type": "NewsArticle", "datePublished": "2024-03-04T10:00:00Z"})


def _page(head: str = "", before: str = "", after: str = "") -> str:
    return f"<html><head><title>Budget</title>{head}</head><body>{before}{BODY}{after}</body></html>"


def test_scripts_styles_svg_noscript_templates_and_comments_go() -> None:
    page = _page(
        head="<style>p { color: red }</style><SCRIPT src='/a.js'></SCRIPT>",
        before="<script>var s = '<p>not text</p>';</script><svg viewBox='0 0 1 1'><path d='M0'/></svg>"
        "<!-- a comment <p>hidden</p> --><noscript><p>Enable JavaScript</p></noscript>"
        "<template><p>a card</p></template>",
        after='<script type="application/json" id="__NEXT_DATA__">{"props": [1, 2, 3]}</script>',
    )
    shrunk = shrink_html(page)
    for gone in ("color: red", "a.js", "not text", "path", "hidden", "Enable JavaScript", "a card", "props"):
        assert gone not in shrunk
    assert BODY in shrunk
    assert visible_text(shrunk) == visible_text(page)


def test_json_ld_is_kept_for_the_metadata_unless_it_is_a_blob() -> None:
    small = _page(head=f'<script type="application/ld+json">{LD_JSON}</script>')
    assert LD_JSON in shrink_html(small)
    tree = lxml.html.document_fromstring(shrink_html(small))
    assert page_metadata(tree).published_at is not None
    padded = json.dumps({"@type": "NewsArticle", "pad": "x" * LD_JSON_MAX_CHARS})
    big = _page(head=f"<script type='application/ld+json'>{padded}</script>")
    assert "pad" not in shrink_html(big)


def test_long_data_uris_and_json_attributes_are_emptied_short_ones_kept() -> None:
    b64 = "iVBORw0KGgo" + "A" * 500
    page = _page(
        before=f'<img src="data:image/png;base64,{b64}" alt="A chart">'
        f"<div data-props='{{\"items\": [{', '.join(['1'] * 200)}]}}'>x</div>"
        f'<div data-state="{{&quot;a&quot;: &quot;{"b" * 300}&quot;}}">y</div>'
        '<a href="data:text/plain,hi" data-n="{1}">z</a>'
    )
    shrunk = shrink_html(page)
    assert b64 not in shrunk
    assert 'src="data:,"' in shrunk
    assert '"items"' not in shrunk
    assert "bbbb" not in shrunk
    assert 'data-props=""' in shrunk
    assert 'href="data:text/plain,hi"' in shrunk, "a short data URI stays"
    assert 'data-n="{1}"' in shrunk, "a short JSON-like value stays"
    assert visible_text(shrunk) == visible_text(page)


def test_broken_markup() -> None:
    # an unclosed script runs to the end of the page, as in a browser
    assert shrink_html("<p>kept</p><script>var a = 1; <p>gone</p>") == "<p>kept</p>"
    # an unclosed <svg> loses only its tag; an unclosed comment runs to the end
    assert shrink_html("<svg><p>one</p><svg x='1'><p>two</p>") == "<p>one</p><p>two</p>"
    assert shrink_html("<p>a</p><!-- <p>b</p>") == "<p>a</p>"
    # an unterminated tag leaves the rest as it is; one closed further on opens a script to the end
    assert shrink_html("<p>a</p><script src='x.js' b") == "<p>a</p><script src='x.js' b"
    assert shrink_html("<p>a</p><script src='x.js' <p>b</p>") == "<p>a</p>"
    # tag-like words are not elements
    assert shrink_html("<p>a <scripted> b</p><styles>") == "<p>a <scripted> b</p><styles>"


def test_many_unclosed_elements() -> None:
    page = "<p>start</p>" + "<svg class='i'>" * 20_000 + BODY
    shrunk = shrink_html(page)
    assert shrunk == "<p>start</p>" + BODY


def test_bounded_prefix_cuts_before_a_tag() -> None:
    html = "<p>one two</p><p>three four</p>"
    assert bounded_prefix(html, 100) == html
    assert bounded_prefix(html, 20) == "<p>one two</p>"
    assert bounded_prefix(html, len("<p>one two</p>")) == "<p>one two</p>"
    assert bounded_prefix("x" * 50, 10) == "x" * 10
