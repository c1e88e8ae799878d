"""README.md and docs/ stay true: a short README that opens with the two commands and maps every folder,
relative links (files and #anchors) that resolve, and a configuration page matching the settings classes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.settings_table import CONFIGURATION_MD, render
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS, ROOT / "clients" / "python" / "README.md"]

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)\)")


def _prose(text: str) -> list[str]:
    """The lines outside fenced code blocks (a `# comment` in a bash block is no heading)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: the rendered text, lower-cased, punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in _prose(path.read_text()):
        if match := _HEADING.match(line):
            slug = _slug(match.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(path: Path) -> list[str]:
    links = []
    for line in _prose(path.read_text()):
        for target in _LINK.findall(line):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                links.append(target)
    return links


def test_readme_opens_with_the_two_commands_and_stays_short() -> None:
    text = README.read_text()
    head = text[:2000]
    assert "make run" in head
    assert "make test" in head
    lines = text.count("\n")
    assert lines <= 250, f"README.md has {lines} lines: move detail into docs/"


def test_readme_has_the_tour_the_picture_and_the_documentation() -> None:
    text = README.read_text()
    for heading in ("## A five-minute tour", "## Architecture", "## Folders", "## Documentation"):
        assert heading in text
    for doc in DOCS:
        if doc.suffix == ".md":
            assert f"docs/{doc.name}" in text, f"README.md does not link docs/{doc.name}"


def test_readme_maps_every_folder_of_the_services() -> None:
    """Every domain folder of each service is named in the folder table (ops/, stream/... included)."""
    text = README.read_text()
    table = {line.split("|")[1].strip(" `"): line for line in text.splitlines() if line.startswith("| `")}
    for service in sorted((ROOT / "services").iterdir()):
        if not (service / "__init__.py").exists():
            continue
        row = table.get(f"services/{service.name}/")
        assert row, f"services/{service.name}/ is not in the README's folder table"
        for folder in sorted(service.iterdir()):
            if (folder / "__init__.py").exists():
                assert f"{folder.name}/" in row, f"services/{service.name}/{folder.name}/ is not in the map"
    assert "read-only" not in text  # the API has admin routes (/v1/ops, /v1/subscriptions)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for link in relative_links(page):
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{link}: no file {path}")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{link}: no heading #{anchor} in {path.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_the_link_checker_sees_a_broken_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n## Chaos: `make chaos`\n\n```bash\n# not a heading\n```\n[a](#nope) [b](x.md)\n"
    )
    assert anchors(page) == {"title", "chaos-make-chaos"}
    assert relative_links(page) == ["#nope", "x.md"]


def test_configuration_page_is_generated_from_the_settings() -> None:
    assert CONFIGURATION_MD.read_text() == render(), "regenerate: python scripts/settings_table.py --write"
    text = CONFIGURATION_MD.read_text()
    for name in Settings.model_fields:
        assert f"`NEWSWIRE_{name.upper()}`" in text
    for test_only in ("REQUIRE_SERVICES", "TEST_DATABASE_URL", "TEST_REDIS_URL"):
        assert test_only.lower() not in Settings.model_fields
        assert f"`NEWSWIRE_{test_only}`" in text.split("## Development and tests")[1]
