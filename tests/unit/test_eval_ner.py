"""scripts/eval_ner.py: articles rebuilt from CoNLL, token offsets and span mapping."""

from __future__ import annotations

from pathlib import Path

from scripts.eval_ner import build_field, gold_spans, read_conll

CONLL = """\
SOCCER NN B-NP O
- : O O
ITALY NNP B-NP B-LOC
WIN VB B-VP O

ROME NNP B-NP B-LOC
1996-08-30 CD I-NP O

Italy NNP B-NP B-LOC
beat VBD B-VP O
Wales NNP B-NP B-LOC
. . O O

CRICKET NN B-NP O

LONDON NNP B-NP B-LOC
1996-08-31 CD I-NP O

Phil NNP B-NP B-PER
Simmons NNP I-NP I-PER
took VBD B-VP O
"""


def test_articles_are_rebuilt_from_datelines(tmp_path: Path) -> None:
    path = tmp_path / "eng.testa"
    path.write_text(CONLL)
    articles = read_conll(path)
    assert [len(a) for a in articles] == [3, 3]
    assert articles[1][0] == [("CRICKET", "O")]
    path.write_text(
        "-DOCSTART- -X- O O\n\n"
        + CONLL.replace("CRICKET NN B-NP O\n", "-DOCSTART- -X- O O\n\nCRICKET NN B-NP O\n")
    )
    assert [len(a) for a in read_conll(path)] == [3, 3]


def test_field_offsets_and_gold_spans(tmp_path: Path) -> None:
    path = tmp_path / "eng.testa"
    path.write_text(CONLL)
    body = build_field(read_conll(path)[1][1:])
    assert body.text == "LONDON 1996-08-31\n\nPhil Simmons took"
    assert gold_spans(0, "text", body.tags) == {(0, "text", 0, 1, "LOC"), (0, "text", 2, 4, "PER")}
    start = body.text.index("Phil")
    assert body.tokens_of(start, start + len("Phil Simmons")) == (2, 4)
    assert body.tokens_of(start + 1, start + 6) == (2, 4), (
        "a span inside tokens maps to the tokens it touches"
    )
    assert body.tokens_of(start - 2, start - 1) is None
