"""Property-based tests of the linter's invariants:

* fixes converge: after ``fix``, fixing again changes nothing, and the fixed text parses;
* positions map exactly from an expression to the Python or JSON literal that holds it,
  whatever escapes the literal needs;
* ``check`` never raises on arbitrary text (syntax errors come back as diagnostics).
"""

from __future__ import annotations

import json

from hypothesis import given, strategies as st

import mpql
from mpql.checker.lint import LintOptions, fix_text, lint_text

NAMES = ["$distinct_id", "distinct_id", "$os", "$last_seen", "$time", "$created", "age",
         "plan", "mp_country_code", 'we"ird', "tab\there", "é"]
ENDPOINTS = ["any", "export", "engage", "segmentation", "jql"]


@st.composite
def quoted(draw, value):
    if draw(st.booleans()) and "'" not in value and "\\" not in value and "\t" not in value:
        return "'" + value + "'"
    return mpql.language.printer.quote(value)


@st.composite
def prop(draw):
    scope = draw(st.sampled_from(["properties", "properties", "user", "event"]))
    return f"{scope}[{draw(quoted(draw(st.sampled_from(NAMES))))}]"


@st.composite
def value(draw):
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return draw(quoted(draw(st.sampled_from(["iOS", "pro", "2024-01-01T00:00:00", "1/1/2024",
                                                 "42", "false"]))))
    if kind == 1:
        return draw(st.sampled_from(["1", "-5", "1e3", "2.5E-2", "0", "1700000000"]))
    if kind == 2:
        return draw(st.sampled_from(["true", "false", "True", "FALSE"]))
    if kind == 3:
        return f"datetime({draw(value())})"
    if kind == 4:
        return draw(st.sampled_from(["NOW", "now"])) + draw(
            st.sampled_from([" - ", " -", "-"])) + "604800"
    if kind == 5:
        return f"[{draw(value())}, {draw(value())}]"
    return draw(prop())


@st.composite
def condition(draw, depth=0):
    kind = draw(st.integers(0, 7 if depth < 2 else 2))
    if kind == 0:
        op = draw(st.sampled_from(["==", "!=", ">", "<=", "in", "=", " = "]))
        return f"{draw(value())} {op} {draw(value())}"
    if kind == 6:  # Mixpanel's any(VAR, LIST, CONDITION), its variable, `=` and string(x, d)
        var = draw(st.sampled_from(["X", "item"]))
        op = draw(st.sampled_from(["==", "=", "!="]))
        test = f"{var}{op}{draw(value())}" if draw(st.booleans()) else draw(condition(depth + 1))
        return f"any({var}, {draw(value())}, {test})"
    if kind == 7:
        return f"string({draw(prop())}, {draw(value())}) == {draw(value())}"
    if kind == 1:
        return f"defined({draw(prop())})"
    if kind == 2:
        return draw(prop())
    if kind == 3:
        return draw(st.sampled_from(["not ", "NOT "])) + draw(condition(depth + 1))
    word = draw(st.sampled_from(["and", "or", "AND", "Or"]))
    left, right = draw(condition(depth + 1)), draw(condition(depth + 1))
    if draw(st.booleans()):
        right = left  # duplicates and contradictions
    return f"({left}) {word} ({right})" if draw(st.booleans()) else f"{left} {word} {right}"


@given(condition(), st.sampled_from(ENDPOINTS), st.booleans(), st.booleans())
def test_fixes_converge(text, endpoint, unsafe, style):
    options = LintOptions(endpoint=endpoint, extend_select=("F001",) if style else ())
    once, _, _ = fix_text(text, "<expr>", options, "mpql", unsafe=unsafe, single=True)
    twice, applied, _ = fix_text(once, "<expr>", options, "mpql", unsafe=unsafe, single=True)
    assert twice == once
    assert applied == 0
    if once != text:
        mpql.parse(once)  # a fix never breaks the syntax


@given(condition(), st.sampled_from(ENDPOINTS))
def test_fix_in_mpql_file_converges(text, endpoint):
    doc = f"# mpql: endpoint={endpoint}\n{text}\n\n{text}\n"
    once, _, _ = fix_text(doc, "f.mpql", LintOptions(), unsafe=True)
    twice, applied, _ = fix_text(once, "f.mpql", LintOptions(), unsafe=True)
    assert twice == once and applied == 0


def _expr_diags(text, endpoint):
    return lint_text(text, "<expr>", LintOptions(endpoint=endpoint), "mpql", single=True)


@given(condition(), st.sampled_from(["export", "engage"]), st.sampled_from(["'", '"']))
def test_python_positions_map_exactly(text, endpoint, q):
    # repr-style escaping chosen by Python itself, with the quote we pick
    body = text.replace("\\", "\\\\").replace(q, "\\" + q).replace("\t", "\\t")
    src = f"import mixpanel_utils as client\nclient.query({endpoint!r}, where={q}{body}{q})\n"
    func = "export" if endpoint == "export" else "engage"
    src = src.replace("client.query(", f"client.{func}(")
    inner = _expr_diags(text, endpoint)
    outer = lint_text(src, "q.py", LintOptions())
    assert [d.code for d in outer] == [d.code for d in inner]
    for a, b in zip(inner, outer):
        # the host text at the mapped span decodes to the expression text at the span
        host = b.span.slice(src)
        assert host.replace("\\\\", "\0").replace("\\" + q, q).replace("\\t", "\t") \
            .replace("\0", "\\") == a.span.slice(text)


@given(condition(), st.sampled_from(["export", "engage"]))
def test_json_positions_map_exactly(text, endpoint):
    src = json.dumps({"q": [{"endpoint": endpoint, "where": text}]}, indent=1)
    inner = _expr_diags(text, endpoint)
    outer = lint_text(src, "q.json", LintOptions())
    assert [d.code for d in outer] == [d.code for d in inner]
    for a, b in zip(inner, outer):
        assert json.loads('"' + b.span.slice(src) + '"') == a.span.slice(text)


@given(st.text(max_size=60), st.sampled_from(ENDPOINTS))
def test_check_never_raises(text, endpoint):
    for d in mpql.check(text, endpoint=endpoint):
        assert d.code and d.severity in ("error", "warning", "info")
        assert 0 <= d.span.start <= d.span.end <= len(text)
