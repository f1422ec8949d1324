"""The locks under ``infra/requirements`` agree with ``pyproject.toml``: each lock holds every dependency it serves at
the version ``pyproject.toml`` pins, holds as a direct dependency nothing that ``pyproject.toml`` no longer asks for,
and the function's and ``sam build``'s locks hold the versions the tests run. ``make lock`` mends a disagreement."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "infra" / "requirements"
# How uv's annotations name a package that pyproject.toml asks for itself.
ASKED_BY_PYPROJECT = "practice-backend (pyproject.toml)"


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    direct: bool


def read_lock(path: Path) -> list[Locked]:
    """The packages a lock holds: ``name==version [; marker] \\``, hashes, then a ``# via ...`` line."""
    entries: list[Locked] = []
    for line in path.read_text().splitlines():
        if line and not line.startswith(("#", " ")):
            requirement = Requirement(line.removesuffix("\\").strip())
            (specifier,) = requirement.specifier
            entries.append(Locked(canonicalize_name(requirement.name), specifier.version, direct=False))
        elif line.strip().startswith("# via") and ASKED_BY_PYPROJECT in line:
            entries[-1] = Locked(entries[-1].name, entries[-1].version, direct=True)
    return entries


def asked_for(*groups: str) -> list[Requirement]:
    """The requirements of pyproject.toml's groups: "runtime" (the dependencies) or an extra's name."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    found = []
    for group in groups:
        lines = project["dependencies"] if group == "runtime" else project["optional-dependencies"][group]
        found += [Requirement(line) for line in lines]
    # The dev extra asks for the build extra through the project itself.
    return [requirement for requirement in found if canonicalize_name(requirement.name) != "practice-backend"]


# Each lock, and the groups of pyproject.toml it serves.
SERVES = {"lambda.txt": ("runtime",), "build.txt": ("runtime", "build"), "dev.txt": ("runtime", "build", "dev")}


@pytest.mark.parametrize("lock", SERVES)
def test_each_lock_holds_every_dependency_it_serves_at_its_pin(lock: str) -> None:
    locked = read_lock(LOCKS / lock)
    for requirement in asked_for(*SERVES[lock]):
        versions = [entry.version for entry in locked if entry.name == canonicalize_name(requirement.name)]
        assert versions, f"{requirement} is missing from {lock}: run `make lock`"
        for version in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock} holds {requirement.name} {version}, pyproject.toml asks for {requirement}: run `make lock`"
            )


@pytest.mark.parametrize("lock", SERVES)
def test_each_lock_holds_as_direct_only_what_pyproject_asks_for(lock: str) -> None:
    direct = {entry.name for entry in read_lock(LOCKS / lock) if entry.direct}
    asked = {canonicalize_name(requirement.name) for requirement in asked_for(*SERVES[lock])}
    assert direct == asked, f"{lock} and pyproject.toml disagree on {sorted(direct ^ asked)}: run `make lock`"


@pytest.mark.parametrize("lock", ["lambda.txt", "build.txt"])
def test_the_function_and_sam_build_get_the_versions_the_tests_run(lock: str) -> None:
    tested = {(entry.name, entry.version) for entry in read_lock(LOCKS / "dev.txt")}
    shipped = {(entry.name, entry.version) for entry in read_lock(LOCKS / lock)}
    assert shipped <= tested, f"{lock} and dev.txt disagree: run `make lock`"
