"""Unit tests of the opaque keyset cursors (pure functions)."""

from __future__ import annotations

import base64
import json
import random
import string
from datetime import UTC, datetime
from typing import Any

import pytest

from services.api.pagination import decode_cursor, encode_cursor
from shared.errors import BadRequest, InvalidCursor


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# -------------------------------------------------------------------------------------------------
# round trip
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("ingested", [1]),
        ("ingested", [9_007_199_254_740_993]),  # beyond a float's exact range: stays an int
        ("published", ["2024-05-01T12:30:00+00:00", 42]),
        ("entities", [17, 3]),
        ("entities", [0, 1]),
        ("anything", ["Zürich – 東京 / ?&=#", None, 1.5, True]),
    ],
)
def test_round_trip(kind: str, values: list[Any]) -> None:
    cursor = encode_cursor(kind, values)
    assert decode_cursor(cursor, kind=kind, arity=len(values)) == values


def test_cursor_is_url_safe_and_unpadded() -> None:
    for n in range(1, 40):  # every padding length
        cursor = encode_cursor("published", ["x" * n, n])
        assert set(cursor) <= set(string.ascii_letters + string.digits + "-_"), cursor
        assert decode_cursor(cursor, kind="published", arity=2) == ["x" * n, n]


def test_values_that_are_not_json_are_encoded_as_strings() -> None:
    when = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    cursor = encode_cursor("published", [when, 7])
    assert decode_cursor(cursor, kind="published", arity=2) == [str(when), 7]


def test_cursor_is_tagged_with_its_kind() -> None:
    cursor = encode_cursor("ingested", [5])
    padded = cursor + "=" * (-len(cursor) % 4)
    assert json.loads(base64.urlsafe_b64decode(padded)) == ["ingested", 5]


# -------------------------------------------------------------------------------------------------
# rejected cursors
# -------------------------------------------------------------------------------------------------


def _assert_invalid(cursor: str, *, kind: str, arity: int) -> InvalidCursor:
    with pytest.raises(InvalidCursor) as info:
        decode_cursor(cursor, kind=kind, arity=arity)
    exc = info.value
    assert isinstance(exc, BadRequest)
    assert exc.status_code == 400
    assert exc.error == "invalid_cursor"
    assert str(exc.detail)
    return exc


@pytest.mark.parametrize(
    ("cursor", "kind", "arity"),
    [
        (encode_cursor("published", ["2024-05-01T12:30:00+00:00", 42]), "ingested", 1),
        (encode_cursor("ingested", [42]), "published", 2),
        (encode_cursor("entities", [3, 42]), "published", 2),  # same arity, other sort
        (encode_cursor("Ingested", [42]), "ingested", 1),  # the tag is compared exactly
    ],
    ids=["published-as-ingested", "ingested-as-published", "entities-as-published", "tag-case"],
)
def test_cursor_of_another_sort_kind(cursor: str, kind: str, arity: int) -> None:
    exc = _assert_invalid(cursor, kind=kind, arity=arity)
    assert kind in str(exc.detail)


@pytest.mark.parametrize(
    ("values", "arity"),
    [([], 1), ([1, 2], 1), ([1], 2), ([1, 2, 3], 2), ([], 2)],
)
def test_wrong_arity(values: list[Any], arity: int) -> None:
    _assert_invalid(encode_cursor("ingested", values), kind="ingested", arity=arity)


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!!",
        "not a cursor",
        "%%%%%%%%",
        "a",  # one character: never valid base64
        "abcde",  # 4n+1 characters: never valid base64
        "====",
        "é€漢字",
        "\x00\x01\x02",
    ],
)
def test_non_base64_is_rejected(cursor: str) -> None:
    _assert_invalid(cursor, kind="ingested", arity=1)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"hello",
        b"ingested,42",
        b'["ingested", 42',  # truncated JSON
        b"{'kind': 'ingested'}",
        b"\xff\xfe\x00garbage",  # not UTF-8
        b"\x89PNG\r\n\x1a\n",
        b"NaN-ish",
    ],
)
def test_base64_of_non_json_is_rejected(raw: bytes) -> None:
    _assert_invalid(_b64(raw), kind="ingested", arity=1)


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "ingested", "values": [42]},  # JSON, but not a list
        "ingested",
        42,
        None,
        [42, "ingested"],  # tag not first
        [["ingested"], 42],
        [None, 42],
    ],
)
def test_base64_of_json_that_is_not_a_cursor_is_rejected(data: Any) -> None:
    _assert_invalid(_b64(json.dumps(data).encode()), kind="ingested", arity=1)


def test_random_garbage_is_rejected() -> None:
    rng = random.Random(20240501)
    alphabet = string.ascii_letters + string.digits + "-_=+/.~!*'() "
    for _ in range(500):
        garbage = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 64)))
        _assert_invalid(garbage, kind="ingested", arity=1)
    for _ in range(500):
        garbage = _b64(rng.randbytes(rng.randint(1, 64)))
        _assert_invalid(garbage, kind="ingested", arity=1)


def test_a_tampered_cursor_is_rejected() -> None:
    cursor = encode_cursor("published", ["2024-05-01T12:30:00+00:00", 42])
    for i in range(len(cursor)):
        tampered = cursor[:i] + cursor[i + 1 :]  # one character dropped
        with pytest.raises(InvalidCursor):
            decode_cursor(tampered, kind="published", arity=2)


def test_deeply_nested_json_is_rejected_not_a_crash() -> None:
    cursor = _b64(b"[" * 5000)
    assert len(cursor) < 8000  # fits in a query string
    _assert_invalid(cursor, kind="ingested", arity=1)
