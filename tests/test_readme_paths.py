"""The README names files and folders of this repository: each one it names must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A path into a top-level folder of the repository, e.g. bot/clients/cloudpos.py or sandbox/.
NAMED_PATH = re.compile(
    r"(?<![\w/.-])((?:bot|handlers|storage|sandbox|bench|tests|\.ci)/[A-Za-z0-9_./-]*[A-Za-z0-9_/])"
)


def named_paths(text: str) -> set[str]:
    return {match.group(1).rstrip("/") for match in NAMED_PATH.finditer(text)}


def test_the_pattern_finds_paths_in_prose_code_and_diagrams() -> None:
    text = "see `bot/common/vault.py`, bot/domain/ and ─▶ Xero  bot/xero.py\n(`sandbox/x`)."
    assert named_paths(text) == {"bot/common/vault.py", "bot/domain", "bot/xero.py", "sandbox/x"}


def test_every_path_the_readme_names_exists() -> None:
    named = named_paths((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "bot/clients/cloudpos.py" in named  # the pattern still reads the README
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == [], f"the README names paths that do not exist: {missing}"
