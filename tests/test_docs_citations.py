"""Docs, code comments, docstrings and messages cite only what a user has: Mixpanel's public
docs (by URL) or docs/mixpanel-reference.md (its §-numbered sections and [Sx] source table).

Fails on citations of files that exist only on the developers' machines (the reference notes
mpql was written from, design notes), on internal issue numbers, and on a § or source id that
docs/mixpanel-reference.md does not have.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "mixpanel-reference.md"

#: Where users read text that mpql ships: docs, the package (comments, docstrings, messages,
#: rule texts), the grammar, the examples and the README.
SHIPPED = sorted(
    [p for d in ("docs", "mpql", "grammar", "examples") for p in (ROOT / d).rglob("*")
     if p.is_file() and p.suffix in {".md", ".py", ".lark", ".mpql", ".toml", ".json"}]
    + [ROOT / "README.md"]
)

#: Citations of things users do not have.
FORBIDDEN = [
    (re.compile(r"shared/reference|mixpanel-spec|api-guide\.txt"), "the developers' reference notes"),
    (re.compile(r"\b(anchors|peers)\.md"), "the developers' design notes"),
    (re.compile(r"\bAPI guide\b", re.I), "an integration guide users do not have"),
    (re.compile(r"\bspec(?:'s)? ?\(?§|\bspec S\d"), "\"the spec\" (cite docs/mixpanel-reference.md)"),
    (re.compile(r"\bissue \d+\b|\(issue\b"), "an internal issue number"),
    (re.compile(r"on this branch|not built yet|not available yet"), "a staged-development note"),
]

SOURCE_ID = re.compile(r"(?<![\w$])S([1-9]\d?)(b?)\b")
SECTION = re.compile(r"§ ?(\d+(?:\.\d+)?)")


def _reference_ids() -> tuple[set[str], set[str]]:
    text = REFERENCE.read_text(encoding="utf-8")
    sources = {f"S{m[1]}{m[2]}" for m in re.finditer(r"^\| S(\d+)(b?) \|", text, re.M)}
    sections = set()
    for m in re.finditer(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, re.M):
        sections.add(m[1])
    return sources, sections


def test_the_reference_has_its_sources_and_sections():
    sources, sections = _reference_ids()
    assert {"S1", "S1b", "S13", "S24", "S36"} <= sources
    assert {"0", "1", "1.6", "1.10", "8"} <= sections
    text = REFERENCE.read_text(encoding="utf-8")
    # Every source has a public address.
    for line in text.splitlines():
        if re.match(r"^\| S\d", line) and "S35" not in line:
            assert "https://" in line, line


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_text_cites_only_what_users_have(path):
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(ROOT)
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, what in FORBIDDEN:
            if path != REFERENCE and pattern.search(line):
                problems.append(f"{rel}:{number}: cites {what}: {line.strip()[:120]}")
    if path != REFERENCE:
        sources, sections = _reference_ids()
        cites_reference = "mixpanel-reference.md" in text
        for number, line in enumerate(text.splitlines(), 1):
            ids = [f"S{m[1]}{m[2]}" for m in SOURCE_ID.finditer(line)]
            secs = [m[1] for m in SECTION.finditer(line)]
            if (ids or secs) and not cites_reference:
                problems.append(f"{rel}:{number}: cites a source or § without naming "
                                f"docs/mixpanel-reference.md: {line.strip()[:120]}")
            problems += [f"{rel}:{number}: source {s} is not in docs/mixpanel-reference.md §0"
                         for s in ids if s not in sources]
            problems += [f"{rel}:{number}: docs/mixpanel-reference.md has no §{s}"
                         for s in secs if s not in sections]
    assert not problems, "\n".join(problems)
