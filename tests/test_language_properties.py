"""Property-based tests of the language core (hypothesis).

The default run uses the bounded ``ci`` profile (tests/conftest.py); ``make fuzz`` runs the
same properties with the large ``fuzz`` profile.

1. Any text parses to an ``Expr`` or raises ``MpqlError`` whose span lies inside the text —
   never another exception; and whatever parses, prints and parses back to the same tree.
2. Generated trees: ``parse(format(e, style)) == e`` for both styles; printing is idempotent.
3. Any unicode string survives quoting as a property name or a string value.
4. Strings generated from the grammar itself (``hypothesis.extra.lark``) always parse.
"""

from __future__ import annotations

import json
import re
import string

from hypothesis import assume, given, note
from hypothesis import strategies as st

import mpql
from mpql.language import ast as A
from mpql.language.parser import FUNCTIONS, MAX_DEPTH, grammar_path
from mpql.language.printer import quote

# ---------------------------------------------------------------------------------------------
# 1. Robustness on arbitrary text

# Fragments that reach deep into the parser far more often than random characters do.
TOKENS = [
    "properties", "user", "event", "behaviors", "property", "[", "]", "(", ")", ",", '"a"',
    '"', "'", "'b'", '"\\u00e9"', '"\\q"', "\\", "==", "!=", "=", ">", ">=", "<", "<=", "<>",
    "=>", "+", "-", "*", "/", "%", "and", "or", "not", "in", "AND", "Or", "true", "false",
    "NOW", "null", "contains", "defined", "datetime", "has_prefix", "floor", "any", "zone",
    "1", "0", "-5", "1.5", "1e3", "1e999", "9" * 400, ".", "#", "#c\n", " ", "  ", "\n", "\t",
    "&&", "||", "!", "%22", "%5B", "+==+", ";", "{", "}", "\x00", "\x1b", "\u2028", "é", "🎉",
    # any(VAR, LIST, CONDITION), its variable, `=`, string(x, default)
    "any(X, ", "any(", "X", "Y", "X=", "x", "string(", ', "undefined")', "===",
]

token_soup = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)
deep = st.builds(
    lambda opener, n, core: opener * n + core + (")" * n if opener.endswith("(") else ""),
    st.sampled_from(["(", "not ", "-", "floor(", "[", "- ", "defined("]),
    st.integers(min_value=1, max_value=400),
    st.sampled_from(['properties["a"]', "1", "", "true", ")"]),
)
huge_numbers = st.builds(
    lambda digits, frac, exp: digits + frac + exp,
    st.text("0123456789", min_size=1, max_size=600),
    st.sampled_from(["", ".", ".5", ".000001"]),
    st.sampled_from(["", "e10", "e308", "e309", "E-400", "e+99999"]),
).map(lambda n: f'properties["n"] == {n}')
any_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=string.printable, max_size=80),
    st.text(alphabet=st.characters(max_codepoint=0x40), max_size=40),  # control characters
    token_soup,
    deep,
    huge_numbers,
)


@given(any_text)
def test_any_text_parses_or_raises_a_located_mpql_error(text):
    try:
        node = mpql.parse(text)
    except mpql.MpqlError as exc:
        d = exc.diagnostic
        note(d.render())
        assert 0 <= d.span.start <= d.span.end <= len(text)
        assert d.source == text
        assert 1 <= d.line and 1 <= d.column
        assert d.code in mpql.language.parser.SYNTAX_CODES
        assert d.render()  # rendering never fails either
        return
    assert isinstance(node, A.Expr)
    assert node.span is None or 0 <= node.span.start <= node.span.end <= len(text)
    # Whatever parses can be printed, and the print is faithful.
    for style in ("pretty", "wire"):
        assert mpql.parse(mpql.format(node, style=style)) == node


def test_long_operator_chains_are_not_nesting():
    text = " or ".join(f'properties["p"] == {i}' for i in range(3000))

    node = mpql.parse(text)

    assert len(A.disjuncts(node)) == 3000
    assert mpql.format(node) == text
    assert mpql.parse(mpql.format(node, style="wire")) == node


def test_nesting_limit_is_exact():
    ok = "not " * (MAX_DEPTH - 1) + "true"
    too_deep = "not " * MAX_DEPTH + "true"

    assert mpql.format(mpql.parse(ok)) == ok
    try:
        mpql.parse(too_deep)
    except mpql.ParseError as exc:
        assert exc.code == "E121"
    else:  # pragma: no cover
        raise AssertionError("expected E121")


# ---------------------------------------------------------------------------------------------
# 2. Generated trees round-trip through both printing styles

names = st.text(max_size=12)
leaves = st.one_of(
    st.builds(A.Property, st.sampled_from(A.SCOPES), names),
    st.builds(A.String, st.text(max_size=12)),
    st.builds(A.Number, st.integers(min_value=-(10**20), max_value=10**20)),
    st.builds(A.Number, st.floats(allow_nan=False, allow_infinity=False)),
    st.builds(A.Boolean, st.booleans()),
    st.just(A.Now()),
)


def _calls(children):
    def make(name, args):
        lo, hi = FUNCTIONS[name]
        return A.Call(name, args[:hi] + [A.Number(1)] * max(0, lo - len(args)))

    names = sorted(set(FUNCTIONS) - {"any"})  # any(...) is an Any node (_anys)
    return st.builds(make, st.sampled_from(names), st.lists(children, max_size=2))


VAR_NAMES = ["X", "x", "item", "el_2", "$v", "é", "Any", "notX", "andy"]


def _anys(children):
    """``Any`` nodes whose condition uses the variable: `NOW` leaves of the generated condition
    become the variable (every generated sub-tree is closed, so the result is too). The name
    avoids those of nested ``any``s, which would shadow it."""

    def make(var_index, items, predicate):
        inner = {n.var for n in A.walk(predicate) if isinstance(n, A.Any)}
        var = next(v for v in VAR_NAMES[var_index:] + VAR_NAMES if v not in inner)
        predicate = A.transform(predicate, lambda n: A.Var(var) if isinstance(n, A.Now) else n)
        return A.Any(var, items, predicate)

    return st.builds(make, st.integers(0, len(VAR_NAMES) - 1), children, children)


def _extend(children):
    return st.one_of(
        st.builds(A.ListLiteral, st.lists(children, max_size=3)),
        _calls(children),
        _anys(children),
        st.builds(A.Neg, children),
        st.builds(A.Not, children),
        st.builds(A.Arith, st.sampled_from(A.ARITH_OPS), children, children),
        st.builds(A.Compare, st.sampled_from(A.COMPARE_OPS), children, children),
        st.builds(A.In, children, children),
        st.builds(A.And, children, children),
        st.builds(A.Or, children, children),
    )


trees = st.recursive(leaves, _extend, max_leaves=25)


@given(trees, st.sampled_from(["pretty", "wire"]))
def test_generated_trees_round_trip(tree, style):
    text = mpql.format(tree, style=style)
    note(text)

    parsed = mpql.parse(text)

    assert parsed == tree
    assert mpql.format(parsed, style=style) == text  # idempotent
    assert mpql.format(text, style=style) == text


@given(trees)
def test_spans_cover_their_text(tree):
    """Every parsed node's span re-parses to the node itself (spans are exact)."""
    text = mpql.format(tree)
    for node in A.walk(mpql.parse(text)):
        if A.free_vars(node):
            continue  # a piece using an any(...)'s variable is not valid on its own
        piece = node.span.slice(text)
        if isinstance(node, A.Number) and node.value < 0 and piece.startswith("-"):
            pass  # `-5` is one literal spanning the sign
        assert mpql.parse(piece) == node, piece


# ---------------------------------------------------------------------------------------------
# 3. Escaping round-trips any unicode string


@given(st.text())
def test_any_string_round_trips_through_quote(value):
    quoted = quote(value)

    assert mpql.parse(quoted) == A.String(value)
    assert mpql.parse(f"user[{quoted}]") == A.Property("user", value)
    assert json.loads(quoted) == value  # the escapes are JSON's
    assert "\n" not in quoted and "\r" not in quoted  # one line, always


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_any_string_round_trips_as_property_name_in_an_expression(name):
    node = A.Compare("==", A.Property("properties", name), A.String(name))

    assert mpql.parse(mpql.format(node)) == node
    assert mpql.parse(mpql.format(node, style="wire")) == node


# ---------------------------------------------------------------------------------------------
# 4. Grammar-based generation


def _generation_grammar():
    """The real grammar with the NAME alternatives narrowed to valid names.

    NAME is deliberately wide (any identifier, so that typos get "did you mean"), which makes
    most generated names invalid. Here the property/call/bare-name alternatives are replaced
    by the valid accessors and functions with the right arity; every other rule and terminal
    is the shipped grammar's.
    """
    from lark import Lark

    text = grammar_path().read_text(encoding="utf-8")
    replaced = {
        "| NAME LSQB STRING RSQB               -> property":
            "| SCOPE LSQB STRING RSQB",
        "| NAME LPAR [arguments] RPAR          -> call":
            "| FUNC1 LPAR expr RPAR | FUNC2 LPAR expr COMMA expr RPAR"
            " | ANYF LPAR ANYVAR COMMA expr COMMA expr RPAR",
        "| NAME                                -> bare_name": "",
    }
    for old, new in replaced.items():
        assert old in text, f"grammar changed: update the generation grammar ({old!r})"
        text = text.replace(old, new)
    text = re.sub(r"^NAME:.*$", "", text, flags=re.MULTILINE)
    # from_lark picks among a rule's alternatives uniformly, and this grammar recurses at every
    # precedence level, so almost every draw would grow without bound (and be discarded).
    # Extra pass-through alternatives (distinct rules: lark merges identical alternatives)
    # make the non-recursive choice likelier; the language generated is unchanged.
    extra = []
    for rule in ("and_expr", "not_expr", "comparison", "sum", "product", "unary", "atom"):
        copies = [f"gen_{rule}_{i}" for i in range(6)]
        text, n = re.subn(rf"^(\s*\|\s*){rule}\s*$", rf"\g<1>{rule} | {' | '.join(copies)}",
                          text, flags=re.MULTILINE)
        assert n == 1, f"grammar changed: no pass-through alternative `| {rule}`"
        extra += [f"{c}: {rule}" for c in copies]
    leaves = [f"gen_leaf_{i}" for i in range(12)]
    text = text.replace("?atom: STRING                              -> string",
                        "?atom: STRING | " + " | ".join(leaves))
    extra += [f"{leaf}: STRING | NUMBER | TRUE | FALSE | NOW | SCOPE LSQB STRING RSQB"
              for leaf in leaves]
    text += "\n" + "\n".join(extra) + "\n"
    one = [f for f, (lo, hi) in FUNCTIONS.items() if lo <= 1 <= hi]
    two = [f for f, (lo, hi) in FUNCTIONS.items() if lo <= 2 <= hi]
    text += "\nSCOPE: " + " | ".join(f'"{s}"' for s in A.SCOPES)
    text += "\nFUNC1: " + " | ".join(f'"{f}"' for f in one)
    text += "\nFUNC2: " + " | ".join(f'"{f}"' for f in two)
    text += '\nANYF: "any"\nANYVAR: "X" | "Y"\n'  # variables the condition leaves unused
    return Lark(text, parser="earley", lexer="basic")


def _padded(*words):
    # Keywords drawn next to other words need a separator (`true and x`, not `trueandx`).
    return st.sampled_from(words).flatmap(
        lambda w: st.sampled_from([w, w.upper(), w.capitalize()])
    ).map(lambda w: f" {w} ")


_numbers = st.one_of(
    st.integers(min_value=0, max_value=10**18).map(str),
    st.floats(min_value=0, max_value=1e300, allow_nan=False).map(repr).map(
        lambda r: r.replace("inf", "1")),
    st.sampled_from(["0.5", ".5", "5.", "1e3", "2E-5", "007"]),
)


def _grammar_strings():
    from hypothesis.extra.lark import from_lark

    return from_lark(
        _generation_grammar(),
        start="start",
        explicit={
            "STRING": st.one_of(st.text(max_size=8).map(quote),
                                st.sampled_from(["'single'", "'it\\'s'", '"\\u00e9"'])),
            "NUMBER": _numbers,
            "AND": _padded("and"), "OR": _padded("or"), "NOT": _padded("not"),
            "IN": _padded("in"), "TRUE": _padded("true"), "FALSE": _padded("false"),
            "NOW": _padded("now"),
            "WS": st.sampled_from([" ", "  ", "\t", "\n", "\r\n"]),
            "EQ": st.just("="),
            "COMMENT": st.sampled_from(["# note\n", "#\n", "# and or ( [ \"\n"]),
        },
    )


# Built lazily (on the first draw), so collecting this module stays fast.
@given(st.deferred(_grammar_strings))
def test_grammar_generation(text):
    try:
        node = mpql.parse(text)
    except mpql.ParseError as exc:
        # Generation does not bound depth; everything else must parse.
        assume(exc.code != "E121")
        # ANYVAR is one name, so nested any(...)s shadow it: an error by design.
        assume(not (exc.code == "E126" and "already the variable" in exc.diagnostic.message))
        raise AssertionError(exc.diagnostic.render()) from None
    assert mpql.parse(mpql.format(node)) == node

