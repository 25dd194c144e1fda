"""The linter: check every expression of a host file, with directives, suppressions, per-file
ignores and fixes.

``lint_text`` returns the unsuppressed diagnostics of one file, anchored in that file (line and
column of the ``.mpql``, ``.py`` or ``.json`` text). ``fix_text`` applies fixes until nothing
changes (at most ``MAX_FIX_PASSES`` passes; overlapping edits are left to the next pass, as
ruff does) and returns the new text. The CLI (``mpql lint``) adds file discovery, config and
output formats on top.
"""

from __future__ import annotations

import fnmatch

import attrs

from ..language import ast as _ast  # noqa: F401  (import order: language before diagnostics)
from ..diagnostics import Diagnostic, Edit, Fix, LineIndex, Severity, apply_edits
from ..errors import ParseError
from ..language.ast import Span
from ..language.parser import parse
from .engine import Context, check_expr
from .extract import HostError, Unit, extract, file_kind, noqa_map
from .rules import DEFAULT_OFF, RULES, resolve_selectors
from .schema import Schema

__all__ = ["LintOptions", "lint_text", "fix_text", "SEVERITY_RANK", "MAX_FIX_PASSES",
           "is_failure", "path_matches"]

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}
MAX_FIX_PASSES = 10


@attrs.frozen
class LintOptions:
    endpoint: str | None = None
    param: str | None = None
    behaviors: str | tuple | None = None
    schema: Schema | None = None
    select: tuple = ()
    extend_select: tuple = ()
    ignore: tuple = ()
    #: glob → codes; globs match the path relative to the config's directory, or the name.
    per_file_ignores: dict = attrs.field(factory=dict)
    fail_on: str = Severity.WARNING
    #: code → severity, overriding the rule's own (config ``[tool.mpql.severity]``)
    severity: dict = attrs.field(factory=dict)
    #: glob patterns of Python calls whose arguments are Mixpanel expressions, beyond the
    #: built-in ones (config ``[tool.mpql.extract] calls``; see checker/pysites.py)
    extract_calls: tuple = ()
    #: globs of JSON files whose every where/on/selector key is an expression (config
    #: ``[tool.mpql.extract] json``); other JSON files need a Mixpanel marker
    extract_json: tuple = ()

    def enabled_for(self, name: str) -> frozenset:
        codes = resolve_selectors(self.select) if self.select else set(RULES) - DEFAULT_OFF
        codes |= resolve_selectors(self.extend_select)
        codes -= resolve_selectors(self.ignore)
        for pattern, ignored in self.per_file_ignores.items():
            if path_matches(name, pattern):
                codes -= resolve_selectors(ignored)
        return frozenset(codes)

    def json_all(self, name: str) -> bool:
        """Whether every where/on/selector key of this JSON file is an expression: its name
        mentions mixpanel or mpql (``mixpanel_queries.json``, ``saved.mpql.json``), or it
        matches a configured ``extract.json`` glob."""
        from pathlib import PurePath  # lazily: `lint -e` reads no file names

        base = PurePath(name).name.lower()
        return "mixpanel" in base or "mpql" in base or any(
            path_matches(name, pattern) for pattern in self.extract_json)


def path_matches(name: str, pattern: str) -> bool:
    """A config glob against a linted path: the path as given, its file name, or any tail
    of it (``queries/*.json`` matches ``src/queries/a.json``)."""
    from pathlib import PurePath  # lazily: only with per-file-ignores or extract.json

    posix = PurePath(name).as_posix()
    return fnmatch.fnmatch(posix, pattern) or fnmatch.fnmatch(PurePath(name).name, pattern) \
        or fnmatch.fnmatch(posix, "*/" + pattern.lstrip("/"))


def is_failure(d: Diagnostic, fail_on: str) -> bool:
    return SEVERITY_RANK.get(d.severity, 2) >= SEVERITY_RANK[fail_on]


def lint_text(text: str, name: str, options: LintOptions, kind: str | None = None,
              *, single: bool = False) -> list[Diagnostic]:
    """Diagnostics of one file (or, with ``single``, of one expression given on its own)."""
    kind = kind or file_kind(name)
    enabled = options.enabled_for(name)
    found: list[Diagnostic] = []
    problems: list = []
    if single:
        units = [Unit(text, 0, len(text), _Identity(len(text) + 1), {}, escape=lambda r: r)]
    else:
        try:
            units = extract(kind, text, problems, calls=options.extract_calls,
                            json_all=kind == "json" and options.json_all(name))
        except HostError as exc:
            message, offset = exc.args
            if "X002" in enabled:
                found.append(_host_diag("X002", f"cannot read expressions from this file: "
                                        f"{message}", text, Span(offset, offset), name))
            return found
    for offset, message in problems:
        found.append(_host_diag("X002", f"bad `# mpql:` directive: {message}", text,
                                Span(offset, offset), name))
    noqa = noqa_map(text) if kind != "json" else {}
    index = LineIndex(text) if noqa else None
    if noqa and "X002" in enabled:
        found.extend(_bad_noqa_codes(noqa, text, index, name))
    for unit in units:
        unit_found = _lint_unit(unit, text, name, options, enabled)
        if noqa and unit_found:
            first = index.line_col(unit.start)[0]
            last = index.line_col(max(unit.start, unit.end - 1))[0]
            rules = [noqa[line] for line in range(first, last + 1) if line in noqa]
            if rules:
                unit_found = [d for d in unit_found if not _suppressed(d, rules)]
        found.extend(unit_found)
    if len(units) > 1:
        # one literal checked for two endpoints reports a shared finding once
        unique: dict = {}
        for d in found:
            unique.setdefault((d.code, d.span.start, d.span.end, d.message), d)
        found = list(unique.values())
    if options.severity:
        found = [attrs.evolve(d, severity=options.severity[d.code])
                 if d.code in options.severity else d for d in found]
    found.sort(key=lambda d: (d.span.start, d.span.end, d.code))
    return found


class _Identity:
    __slots__ = ("length",)

    def __init__(self, length):
        self.length = length

    def __len__(self):
        return self.length

    def __getitem__(self, i):
        return i


def _bad_noqa_codes(noqa: dict, text: str, index: LineIndex, name: str) -> list:
    """X002 for each `# mpql: noqa: CODE` naming no rule: a misspelt code suppresses nothing,
    and the finding it was meant for would otherwise look like a noqa that does not work."""
    out = []
    for line, selectors in sorted(noqa.items()):
        for sel in sorted(selectors or ()):
            try:
                resolve_selectors([sel])
            except ValueError as exc:
                start = index.starts[line - 1]
                end = text.find("\n", start)
                at = text.rfind(sel, start, len(text) if end < 0 else end)  # in the comment
                span = Span(at, at + len(sel)) if at >= 0 else Span(start, start)
                out.append(_host_diag("X002", f"bad `# mpql: noqa` code: {exc}", text, span,
                                      name))
    return out


def _suppressed(d: Diagnostic, rules) -> bool:
    for selectors in rules:
        if selectors is None:
            return True
        for sel in selectors:
            try:
                if d.code in resolve_selectors([sel]):
                    return True
            except ValueError:
                continue
    return False


def _host_diag(code, message, text, span, name, help=None, severity=None) -> Diagnostic:
    rule = RULES[code]
    return Diagnostic(code=code, message=message, span=span, source=text,
                      severity=severity or rule.severity, name=rule.name, help=help,
                      filename=name)


def _lint_unit(unit: Unit, text: str, name: str, options: LintOptions, enabled) -> list:
    if unit.not_checkable:
        if "X001" not in enabled:
            return []
        return [_host_diag("X001", f"expression built with {unit.not_checkable} cannot be "
                           "checked", text, Span(unit.start, unit.end), name,
                           help="build it with mpql's builder, or check it at run time with "
                                "mpql.check()")]
    settings = unit.settings
    try:
        ctx = Context.make(settings.get("endpoint") or options.endpoint or "any",
                           settings.get("param") or options.param or "where",
                           settings.get("behaviors", options.behaviors))
    except ValueError as exc:
        return [_host_diag("X002", f"bad context for this expression: {exc}", text,
                           Span(unit.start, unit.start), name)]
    try:
        node = parse(unit.text)
    except ParseError as exc:
        local = [exc.diagnostic] if exc.code in enabled else []
    else:
        local = check_expr(node, unit.text, ctx, options.schema, enabled)
    return [_to_host(d, unit, text, name) for d in local]


def _to_host(d: Diagnostic, unit: Unit, text: str, name: str) -> Diagnostic:
    start, end = unit.host_span(d.span.start, d.span.end)
    fix = d.fix
    if fix is not None:
        if unit.offsets is None or unit.escape is None:
            fix = None
        else:
            edits = []
            for e in fix.edits:
                replacement = unit.escape(e.replacement)
                if replacement is None:
                    edits = None
                    break
                s, t = unit.host_span(e.span.start, e.span.end)
                edits.append(Edit(Span(s, t), replacement))
            fix = attrs.evolve(fix, edits=edits) if edits else None
    message = d.message if unit.note is None else f"{d.message} ({unit.note})"
    return attrs.evolve(d, span=Span(start, max(start, end)), source=text, fix=fix,
                        filename=name, message=message)


def fixable(d: Diagnostic, unsafe: bool) -> bool:
    return d.fix is not None and (d.fix.applicability == "safe" or unsafe)


def fix_text(text: str, name: str, options: LintOptions, kind: str | None = None, *,
             unsafe: bool = False, single: bool = False) -> tuple[str, int, list]:
    """Apply fixes until none applies. Returns (new text, fixes applied, remaining
    diagnostics)."""
    applied = 0
    for _ in range(MAX_FIX_PASSES):
        found = lint_text(text, name, options, kind, single=single)
        edits: list[Edit] = []
        for d in found:
            if fixable(d, unsafe):
                edits.extend(d.fix.edits)
        if not edits:
            return text, applied, found
        chosen, count = _whole_fixes(found, unsafe)
        new = apply_edits(text, chosen)
        if new == text:
            return text, applied, found
        applied += count
        text = new
    return text, applied, lint_text(text, name, options, kind, single=single)


def _whole_fixes(found, unsafe) -> tuple[list[Edit], int]:
    """Edits of fixes that do not overlap an earlier fix (a fix is applied whole or not at
    all)."""
    chosen: list[Edit] = []
    taken: list[tuple[int, int]] = []
    count = 0
    for d in sorted(found, key=lambda d: (d.span.start, d.code)):
        if not fixable(d, unsafe):
            continue
        spans = [(e.span.start, e.span.end) for e in d.fix.edits]
        if any(_overlap(s, t) for s in spans for t in taken):
            continue
        taken.extend(spans)
        chosen.extend(d.fix.edits)
        count += 1
    return chosen, count


def _overlap(a, b) -> bool:
    if a[0] == a[1] or b[0] == b[1]:  # insertions collide only at the same point or inside
        return a[0] == b[0] or (b[0] < a[0] < b[1]) or (a[0] < b[0] < a[1])
    return a[0] < b[1] and b[0] < a[1]

