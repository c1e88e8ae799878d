"""README.md stays true: the two commands, and a configuration table matching the settings class."""

from __future__ import annotations

from pathlib import Path

from scripts.settings_table import settings_table
from shared.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    head = README[:1500]
    assert "make run" in head
    assert "make test" in head


def test_configuration_table_is_current() -> None:
    assert settings_table() in README, "regenerate with: python scripts/settings_table.py"
    for name in Settings.model_fields:
        assert f"`NEWSWIRE_{name.upper()}`" in README
