"""`newswire stories compare A B` as a user runs it (a real process): a German and an English report of
one event are one story, a report of another event is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.test_cli import _newswire
from tests.support.bilingual import BUDGET_DE, FERRY_DE, FERRY_EN, as_file


def _compare(tmp_path: Path, a: tuple[str, str], b: tuple[str, str]) -> dict[str, Any]:
    file_a, file_b = tmp_path / "a.txt", tmp_path / "b.txt"
    file_a.write_text(as_file(a), encoding="utf-8")
    file_b.write_text(as_file(b), encoding="utf-8")
    result = _newswire("stories", "compare", str(file_a), str(file_b))
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = result.stdout.strip().splitlines()
    out: dict[str, Any] = json.loads(line)
    return out


def test_one_event_in_german_and_english_is_one_story(tmp_path: Path) -> None:
    out = _compare(tmp_path, FERRY_DE, FERRY_EN)
    assert out["languages"] == ["de", "en"]
    assert out["crosslingual"] is True
    assert out["same_story"] is True, out
    assert isinstance(out["score"], float)
    assert isinstance(out["threshold"], float)
    assert out["score"] >= out["threshold"]
    components = out["components"]
    assert isinstance(components, dict)
    assert components["time"] == 1.0  # the time difference is taken as zero
    assert components["embedding"] is not None
    assert [a["title"] for a in out["articles"]] == [FERRY_DE[0], FERRY_EN[0]]


def test_another_event_is_not_the_same_story(tmp_path: Path) -> None:
    out = _compare(tmp_path, BUDGET_DE, FERRY_EN)
    assert out["crosslingual"] is True
    assert out["same_story"] is False, out
    assert isinstance(out["score"], float)
    assert isinstance(out["threshold"], float)
    assert out["score"] < out["threshold"]
