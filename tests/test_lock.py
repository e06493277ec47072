"""requirements.lock, the hashed lock deployments install from, matches pyproject.toml, and
the minimum versions stay past the published advisories. (CI also installs the lock with
`pip install --require-hashes`, which proves it complete and its hashes right.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$")

# The first version without a published advisory (the newest advisory's fix).
ADVISORIES = {
    "starlette": "1.3.1",  # CVE-2026-54283, form limits ignored for urlencoded bodies
    "python-multipart": "0.0.31",  # CVE-2026-53540, negative Content-Length
    "aiohttp": "3.14.3",  # CVE-2026-69244, DoS via malformed responses
    "jinja2": "3.1.6",  # CVE-2025-27516, sandbox escape through |attr
    "authlib": "1.6.5",  # CVE-2025-61920 / CVE-2025-62706
    "cryptography": "44.0.1",  # CVE-2024-12797, vulnerable bundled OpenSSL
}


def dependencies() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        canonicalize_name(requirement.name): requirement
        for requirement in map(Requirement, project["dependencies"])
    }


def locked() -> dict[str, tuple[Version, int]]:
    """Each pinned package: its version and how many hashes it carries."""
    pins: dict[str, tuple[Version, int]] = {}
    current = ""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match.group(1))
            pins[current] = (Version(match.group(2)), 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def test_every_dependency_is_locked_at_an_allowed_version_with_hashes() -> None:
    pins = locked()
    assert pins, "requirements.lock pins nothing"
    for name, requirement in dependencies().items():
        assert name in pins, f"{name} is in pyproject.toml but not in requirements.lock"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside {requirement}: "
            "regenerate it (README: Dependencies)"
        )
    unhashed = [name for name, (_, hashes) in pins.items() if hashes == 0]
    assert not unhashed


@pytest.mark.parametrize(("name", "fixed"), sorted(ADVISORIES.items()))
def test_minimum_versions_are_past_the_advisories(name: str, fixed: str) -> None:
    requirement = dependencies()[name]
    release = Version(fixed).release
    before = Version(".".join(map(str, (*release[:-1], release[-1] - 1))))
    assert not requirement.specifier.contains(before), f"{requirement} allows {before}"
    assert requirement.specifier.contains(fixed)
    assert locked()[name][0] >= Version(fixed)
