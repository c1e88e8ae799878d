"""The install is pinned: requirements.lock names one version of every dependency pyproject.toml declares
(and of the dev extras), and that version satisfies the declared range. `make lock` regenerates it."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name.split("[", 1)[0])] = Version(version.split(";", 1)[0].strip())
    return pins


def test_every_declared_dependency_is_pinned_in_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]]
    pins = _pins()
    assert len(pins) > len(declared)  # the transitive ones are pinned too
    for req in declared:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements.lock: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={pins[name]}, outside {req.specifier}: run `make lock`"
        )


def test_the_makefile_installs_from_the_lockfile() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "-r $(LOCK)" in makefile
    assert "--no-deps -e . -e clients/python" in makefile
