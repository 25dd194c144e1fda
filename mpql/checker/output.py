"""Rendering lint results: ``full``, ``concise``, ``json``, ``github``, ``sarif`` and the
``--statistics`` table.

The JSON shape is stable and documented in docs/lint.md: a list of objects with ``code``,
``name``, ``severity``, ``message``, ``filename``, ``location``/``end_location`` (1-based
``row``/``column`` and the 0-based ``offset``), ``help``, ``fix`` (``message``,
``applicability``, ``edits``) and ``url`` (the absolute URL of the rule's doc page,
``rules.rule_url``).
SARIF follows the OASIS SARIF 2.1.0 schema (validated in tests/test_lint_cli.py).
"""

from __future__ import annotations

from collections import Counter

from .rules import RULES, docs_base_url, render_rule_doc, rule_url

__all__ = ["render", "FORMATS", "statistics"]

FORMATS = ("full", "concise", "json", "github", "sarif")
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _marker(d, unsafe: bool) -> str:
    if d.fix is None:
        return ""
    if d.fix.applicability == "safe" or unsafe:
        return "[*] "
    return ""


def render(fmt: str, diagnostics, *, unsafe: bool = False, fixed: int = 0) -> str:
    if fmt in ("json", "sarif"):
        import json  # lazily: only JSON/SARIF output needs it
    if fmt == "json":
        return json.dumps([_json(d) for d in diagnostics], indent=2, ensure_ascii=False)
    if fmt == "sarif":
        return json.dumps(sarif(diagnostics), indent=2, ensure_ascii=False)
    if fmt == "github":
        return "\n".join(_github(d) for d in diagnostics)
    if fmt == "concise":
        return "\n".join(_concise(d, unsafe) for d in diagnostics)
    return "\n\n".join(_full(d, unsafe) for d in diagnostics)


def _sev(d) -> str:
    return "" if d.severity == "error" else f" ({d.severity})"


def _full(d, unsafe) -> str:
    block = d.render()
    first, _, rest = block.partition("\n")
    head = f"{d.code} {_marker(d, unsafe)}{d.message}{_sev(d)}"
    out = head + "\n" + rest
    if d.fix is not None:
        kind = "" if d.fix.applicability == "safe" else " (unsafe: needs --unsafe-fixes)"
        out += f"\n  = fix: {d.fix.message}{kind}"
    return out + f"\n  = help: for further information visit {rule_url(d.code)}"


def _concise(d, unsafe) -> str:
    return (f"{d.filename or '<expr>'}:{d.line}:{d.column}: {d.code} {_marker(d, unsafe)}"
            f"{d.message}{_sev(d)}")


def _json(d) -> dict:
    out = d.to_dict()
    out["url"] = rule_url(d.code)
    return out


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _artifact_uri(filename: str) -> str:
    """A relative path stays a relative URI reference (code scanning resolves it against the
    checkout); an absolute path becomes a ``file://`` URI (``/tmp/x`` is not one)."""
    from pathlib import Path, PureWindowsPath
    from urllib.parse import quote as urlquote  # lazily, like pathlib: SARIF output only

    if Path(filename).is_absolute():
        return Path(filename).as_uri()
    if PureWindowsPath(filename).is_absolute():
        return PureWindowsPath(filename).as_uri()
    return urlquote(filename.replace("\\", "/"))


def _github(d) -> str:
    level = _GITHUB_LEVEL.get(d.severity, "error")
    name = _gh_escape(d.filename or "<expr>", prop=True)
    title = _gh_escape(f"mpql ({d.code})", prop=True)
    return (f"::{level} title={title},file={name},line={d.line},col={d.column},"
            f"endLine={d.end_line},endColumn={d.end_column}::"
            + _gh_escape(f"{d.code} {d.message}"))


def sarif(diagnostics) -> dict:
    from mpql import __version__

    used = sorted({d.code for d in diagnostics if d.code in RULES})
    index = {code: i for i, code in enumerate(used)}
    rules = []
    for code in used:
        rule = RULES[code]
        rules.append({
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.what},
            "help": {"text": rule.why, "markdown": render_rule_doc(rule)},
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
            "helpUri": rule_url(code),
        })
    results = []
    for d in diagnostics:
        uri = _artifact_uri(d.filename or "<expr>")
        region = {"startLine": d.line, "startColumn": d.column,
                  "endLine": d.end_line, "endColumn": d.end_column}
        result = {
            "ruleId": d.code,
            "level": _SARIF_LEVEL.get(d.severity, "error"),
            "message": {"text": d.message + (f" ({d.help})" if d.help else "")},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri},
                                                "region": region}}],
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        if d.fix is not None:
            result["fixes"] = [{
                "description": {"text": d.fix.message},
                "artifactChanges": [{
                    "artifactLocation": {"uri": uri},
                    "replacements": [{
                        "deletedRegion": {"charOffset": e.span.start,
                                          "charLength": e.span.end - e.span.start},
                        "insertedContent": {"text": e.replacement},
                    } for e in d.fix.edits],
                }],
            }]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "mpql", "version": __version__,
                                "informationUri": docs_base_url() + "lint.md",
                                "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def statistics(diagnostics, fmt: str, unsafe: bool = False) -> str:
    import json  # lazily: only JSON/SARIF output needs it
    counts = Counter(d.code for d in diagnostics)
    fixable = Counter(d.code for d in diagnostics if _marker(d, unsafe))
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if fmt == "json":
        return json.dumps([{"code": code, "name": RULES[code].name if code in RULES else "",
                            "count": n, "fixable": fixable[code] > 0}
                           for code, n in rows], indent=2)
    if not rows:
        return ""
    width = max(len(str(n)) for _, n in rows)
    return "\n".join(
        f"{str(n).rjust(width)}\t{code}\t{'[*] ' if fixable[code] else '    '}"
        f"{RULES[code].name if code in RULES else ''}"
        for code, n in rows)
