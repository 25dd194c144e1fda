"""Read and regenerate the golden files in this folder.

    python tests/golden/regen.py          # rewrite every expected output from the current code

Formats (all UTF-8):

* ``identity.mpql`` — one canonical expression per line; nothing to regenerate.
* ``normalize.test`` / ``wire.test`` — an input line (raw, or ``json: "…"`` for invisible
  characters) followed by ``=> expected`` (the pretty / wire form).
* ``errors.test`` — ``=== "input as a JSON string"`` followed by the exact rendered diagnostic
  and, when the error carries a fix, a ``fix (applicability): message => fixed text`` line.

* ``docs/language.md`` — the E1xx catalogue: each ``### E1xx name`` section shows one
  example's rendered diagnostic; the example is the source line inside the block.

The tests (tests/test_language_golden.py) compare against the stored text, so regenerating is
a deliberate act: review the diff before committing it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import mpql  # noqa: E402
from mpql.diagnostics import apply_edits  # noqa: E402


def decode_input(line: str) -> str:
    return json.loads(line[len("json: "):]) if line.startswith("json: ") else line


def read_identity(path: Path = HERE / "identity.mpql") -> list[tuple[int, str]]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if line.strip() and not line.startswith("#"):
            out.append((number, line))
    return out


def read_pairs(path: Path) -> list[tuple[int, str, str]]:
    """(line number, input, expected) for each case of a normalize/wire file."""
    cases, pending = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if line.startswith("=> ") or line == "=>":
            if pending is None:
                raise ValueError(f"{path}:{number}: `=>` without an input line")
            cases.append((pending[0], pending[1], line[3:]))
            pending = None
        elif not line.strip() or line.startswith("#"):
            continue
        else:
            if pending is not None:
                raise ValueError(f"{path}:{pending[0]}: input without an `=>` line")
            pending = (number, decode_input(line))
    return cases


def read_errors(path: Path = HERE / "errors.test") -> list[tuple[int, str, str]]:
    """(line number, input, expected text) for each case of errors.test."""
    cases, current = [], None
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if line.startswith("=== "):
            if current:
                cases.append(current)
            current = (number, json.loads(line[4:]), [])
        elif current is not None:
            current[2].append(line)
    if current:
        cases.append(current)
    return [(n, text, _strip_tail(lines)) for n, text, lines in cases]


def _strip_tail(lines: list[str]) -> str:
    while lines and (not lines[-1] or lines[-1].startswith("#")):
        lines.pop()
    return "\n".join(lines)


def render_error(text: str) -> str:
    """What errors.test stores for ``text``: the diagnostic block, plus the fix."""
    try:
        mpql.parse(text)
    except mpql.ParseError as exc:
        d = exc.diagnostic
        out = d.render()
        if d.fix is not None:
            fixed = apply_edits(text, d.fix.edits)
            out += f"\nfix ({d.fix.applicability}): {d.fix.message} => {json.dumps(fixed, ensure_ascii=False)}"
        return out
    return "(parses without error)"


def _regen_pairs(path: Path, style: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    pending = None
    for i, line in enumerate(lines):
        if line.startswith("=> ") or line == "=>":
            try:
                lines[i] = "=> " + mpql.format(pending, style=style)
            except mpql.ParseError as exc:
                lines[i] = "=> ERROR " + exc.diagnostic.render_concise()
        elif line.strip() and not line.startswith("#"):
            pending = decode_input(line)
    path.write_text("\n".join(lines), encoding="utf-8")


def _regen_errors(path: Path) -> None:
    out = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("=== "):
            out.append(line)
            out.extend(render_error(json.loads(line[4:])).split("\n"))
            out.append("")
        elif line.startswith("#") and (not out or out[-1] == "" or out[-1].startswith("#")):
            out.append(line)
        elif not out and not line.strip():
            out.append(line)
    path.write_text("\n".join(out).rstrip("\n") + "\n", encoding="utf-8")


LANGUAGE_DOC = HERE.parent.parent / "docs" / "language.md"
_CATALOGUE_BLOCK = re.compile(r"(### (E1\d\d) [a-z-]+\n\n```text\n)(.*?)(\n```)", re.DOTALL)


def catalogue_examples(doc: str) -> list[tuple[str, str, str]]:
    """(code, example input, rendered block) for each E1xx section of docs/language.md. The
    input is the source line the rendered diagnostic shows (examples are one line long)."""
    out = []
    for m in _CATALOGUE_BLOCK.finditer(doc):
        source = re.search(r"^\d+ \| (.*)$", m.group(3), re.MULTILINE)
        out.append((m.group(2), source.group(1) if source else "", m.group(3)))
    return out


def _regen_language_doc() -> None:
    def render(m: re.Match) -> str:
        source = re.search(r"^\d+ \| (.*)$", m.group(3), re.MULTILINE)
        text = source.group(1) if source else ""
        try:
            mpql.parse(text)
        except mpql.ParseError as exc:
            return m.group(1) + exc.diagnostic.render() + m.group(4)
        return m.group(1) + "(parses without error)" + m.group(4)

    doc = LANGUAGE_DOC.read_text(encoding="utf-8")
    LANGUAGE_DOC.write_text(_CATALOGUE_BLOCK.sub(render, doc), encoding="utf-8")


def main() -> None:
    _regen_pairs(HERE / "normalize.test", "pretty")
    _regen_pairs(HERE / "wire.test", "wire")
    _regen_errors(HERE / "errors.test")
    _regen_language_doc()
    print("regenerated normalize.test, wire.test, errors.test and the E1xx catalogue in "
          "docs/language.md; review with `git diff`")


if __name__ == "__main__":
    main()
