"""Unit tests of the parser, AST and printer that the golden files and properties do not
cover: grammar strictness, lazy imports, the public API, spans, decisions documented in
docs/language.md."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mpql
from mpql.language import ast as A
from mpql.language.parser import FUNCTIONS, SYNTAX_CODES, grammar_path


def _lark(text: str, **options):
    from lark import Lark

    return Lark(text, parser="lalr", lexer="contextual", strict=True, **options)


class TestGrammar:
    def test_strict_mode_accepts_the_grammar(self):
        """strict=True (needs interegular) turns shift/reduce conflicts and terminal regex
        collisions into errors instead of silently resolving them."""
        _lark(grammar_path().read_text(encoding="utf-8"))

    def test_strict_mode_would_catch_a_conflict(self):
        """The check above can fail: the same grammar with an ambiguous rule is rejected."""
        from lark.exceptions import GrammarError

        text = grammar_path().read_text(encoding="utf-8").replace(
            "?start: expr", "?start: expr | expr MINUS expr")
        with pytest.raises(GrammarError, match="conflict"):
            _lark(text)

    def test_grammar_names_every_user_visible_terminal(self):
        from mpql.language.parser import TERMINAL_DESCRIPTIONS, get_parser

        names = {t.name for t in get_parser().terminals}
        assert not [n for n in names if n.startswith("__")], "anonymous terminals in errors"
        assert names - {"WS", "COMMENT"} <= set(TERMINAL_DESCRIPTIONS)


class TestImports:
    def _run(self, code: str) -> str:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        return out.stdout.strip()

    def test_import_mpql_does_not_import_lark(self):
        assert self._run("import sys, mpql; print('lark' in sys.modules)") == "False"

    def test_valid_parse_does_not_import_lark(self):
        """Valid text runs the generated tables (mpql.language._fast); only an error, whose
        explanation needs lark's exceptions, imports lark."""
        code = "import sys, mpql; mpql.parse('1'); print('lark' in sys.modules)"
        assert self._run(code) == "False"

    def test_a_syntax_error_imports_lark(self):
        code = ("import sys, mpql\ntry:\n    mpql.parse('1 +')\nexcept mpql.ParseError:\n"
                "    print('lark' in sys.modules)")
        assert self._run(code) == "True"

    def test_any_import_order_works(self):
        code = ("import mpql.diagnostics, mpql.language.printer, mpql.language.parser, mpql; "
                "print(mpql.format('1 +2'))")
        assert self._run(code) == "1 + 2"


class TestTableCache:
    """lark's parse tables are cached in a private directory, never in the shared temp dir
    (where lark's own cache=True file could be planted by another user and unpickled)."""

    def _parse_in_subprocess(self, tmp_path, cache_dir):
        import os

        tmp = tmp_path / "tmp"
        tmp.mkdir(exist_ok=True)
        env = {**os.environ, "MPQL_CACHE_DIR": str(cache_dir), "TMPDIR": str(tmp)}
        # An invalid expression: only the error path loads lark (and its table cache).
        code = ("import mpql\ntry:\n    mpql.parse('1 +')\nexcept mpql.ParseError as e:\n"
                "    print(e.code)")
        out = subprocess.run([sys.executable, "-c", code],
                             capture_output=True, text=True, env=env, check=True)
        assert out.stdout == "E106\n"
        assert list(tmp.iterdir()) == []  # nothing in the temp directory

    def test_cache_file_is_written_once_in_a_private_directory(self, tmp_path):
        import stat

        cache = tmp_path / "cache"
        self._parse_in_subprocess(tmp_path, cache)
        files = list(cache.iterdir())
        assert [f.name.startswith("lark-") for f in files] == [True]
        assert stat.S_IMODE(cache.stat().st_mode) == 0o700
        mtime = files[0].stat().st_mtime_ns
        self._parse_in_subprocess(tmp_path, cache)  # a hit: the file is read, not rewritten
        assert [(f.name, f.stat().st_mtime_ns) for f in cache.iterdir()] == \
            [(files[0].name, mtime)]

    def test_a_world_writable_directory_is_not_used(self, tmp_path):
        shared = tmp_path / "shared"
        shared.mkdir()
        shared.chmod(0o777)
        self._parse_in_subprocess(tmp_path, shared)
        assert list(shared.iterdir()) == []

    def test_the_name_depends_on_the_grammar(self, tmp_path, monkeypatch):
        from mpql.language.parser import cache_path

        monkeypatch.setenv("MPQL_CACHE_DIR", str(tmp_path))
        options = {"parser": "lalr", "transformer": object()}
        assert cache_path("a: B", options) == cache_path("a: B", {**options,
                                                                   "transformer": object()})
        assert cache_path("a: B", options) != cache_path("a: C", options)


class TestApi:
    def test_public_names(self):
        for name in ("parse", "format", "MpqlError", "ParseError", "ast"):
            assert name in mpql.__all__
        assert issubclass(mpql.ParseError, mpql.MpqlError)

    def test_parse_rejects_non_strings(self):
        with pytest.raises(TypeError, match="takes a str"):
            mpql.parse(b'properties["a"]')

    def test_format_accepts_text_or_node(self):
        node = mpql.parse('properties["a"]==1')
        assert mpql.format(node) == mpql.format('properties["a"]==1') == 'properties["a"] == 1'
        with pytest.raises(ValueError, match="unknown style"):
            mpql.format(node, style="ugly")

    def test_parse_error_carries_a_diagnostic(self):
        with pytest.raises(mpql.ParseError) as info:
            mpql.parse('properties["a"] === 1')
        err = info.value
        assert (err.code, err.diagnostic.line, err.diagnostic.column) == ("E101", 1, 17)
        assert err.diagnostic.name == SYNTAX_CODES["E101"] == "assignment-for-comparison"
        assert str(err) == "E101 `===` is not an operator (line 1, column 17)"

    def test_codes_are_unique_and_named(self):
        assert len(set(SYNTAX_CODES.values())) == len(SYNTAX_CODES)
        assert all(c.startswith("E1") and len(c) == 4 for c in SYNTAX_CODES)


class TestSpans:
    def test_spans_cover_the_source(self):
        text = ' ( properties["a"] + 1 ) * 2 == user["b"] '
        node = mpql.parse(text)
        assert node.span.slice(text) == '( properties["a"] + 1 ) * 2 == user["b"]'
        assert node.left.left.span.slice(text) == 'properties["a"] + 1'
        assert node.right.span.slice(text) == 'user["b"]'

    def test_negative_literal_span_includes_the_sign(self):
        text = "x == - 5".replace("x", 'properties["a"]')
        assert mpql.parse(text).right.span.slice(text) == "- 5"

    def test_top_level_parentheses_are_not_a_node(self):
        assert mpql.parse("((1))") == A.Number(1)
        assert type(mpql.parse('(properties["a"])')) is A.Property


class TestDecisions:
    """Behaviour docs/language.md documents as a decision."""

    def test_keywords_are_case_insensitive(self):
        assert mpql.parse("TRUE AND NOT False OR now") == mpql.parse("true and not false or NOW")

    def test_function_and_accessor_names_are_case_sensitive(self):
        for text in ('DEFINED(properties["a"])', 'Properties["a"]'):
            with pytest.raises(mpql.ParseError):
                mpql.parse(text)

    def test_single_quotes_and_exponents_are_accepted_for_the_checker(self):
        node = mpql.parse("properties['a'] == 1e3")
        assert node == A.Compare("==", A.Property("properties", "a"), A.Number(1000))
        assert mpql.format(node) == 'properties["a"] == 1000'

    def test_minus_forms(self):
        assert mpql.parse("-5") == A.Number(-5)
        assert mpql.parse("-(5)") == A.Neg(A.Number(5))
        assert mpql.parse("NOW -1") == A.Arith("-", A.Now(), A.Number(1))
        assert mpql.format("NOW -1", style="wire") == "NOW - 1"

    def test_function_arity(self):
        assert set(FUNCTIONS) == {"defined", "boolean", "number", "string", "datetime", "list",
                                  "floor", "round", "ceil", "has_prefix", "any"}
        assert FUNCTIONS["datetime"] == (1, 1)  # two-argument casts are rejected (E111)
        assert FUNCTIONS["string"] == (1, 2)  # string(x, default): Mixpanel's hot-shard docs
        assert FUNCTIONS["any"] == (3, 3)

    def test_whitespace_before_call_parenthesis(self):
        assert mpql.parse('defined (properties["a"])') == mpql.parse('defined(properties["a"])')

    def test_precedence(self):
        node = mpql.parse('not "a" in properties["b"] and 1 + 2 * 3 > 4 or false')
        assert isinstance(node, A.Or)
        assert isinstance(node.left, A.And)
        assert isinstance(node.left.left, A.Not) and isinstance(node.left.left.operand, A.In)
        cmp = node.left.right
        assert cmp.left == A.Arith("+", A.Number(1), A.Arith("*", A.Number(2), A.Number(3)))

    def test_arithmetic_is_left_associative(self):
        assert mpql.parse("1 - 2 - 3") == A.Arith("-", A.Arith("-", A.Number(1), A.Number(2)),
                                                  A.Number(3))

    def test_comments_are_ignored(self):
        assert mpql.parse('# lead\nproperties["a"] # trail\n== 1 # end') == \
            mpql.parse('properties["a"] == 1')


class TestAst:
    def test_equality_ignores_spans_and_hash_agrees(self):
        a, b = mpql.parse(' properties["a"]==1'), A.Compare(
            "==", A.Property("properties", "a"), A.Number(1))
        assert a == b and hash(a) == hash(b) and a.span != b.span

    def test_walk_transform_conjuncts(self):
        node = mpql.parse('properties["a"] == 1 and user["b"] and not event["c"]')
        props = [n.name for n in A.walk(node) if isinstance(n, A.Property)]
        assert props == ["a", "b", "c"]
        renamed = A.transform(node, lambda n: A.Property("user", n.name)
                              if isinstance(n, A.Property) else n)
        assert mpql.format(renamed) == 'user["a"] == 1 and user["b"] and not user["c"]'
        assert len(A.conjuncts(node)) == 3 and A.disjuncts(node) == [node]

    def test_validation(self):
        with pytest.raises(ValueError):
            A.Property("people", "x")
        with pytest.raises(TypeError):
            A.Number(True)
        with pytest.raises(ValueError):
            A.Number(float("nan"))
        with pytest.raises(TypeError):
            A.And(A.Boolean(True), "x")


def test_ast_primer_examples_run():
    """The examples in docs/ast.md are doctests."""
    import doctest
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "docs" / "ast.md"
    result = doctest.testfile(str(path), module_relative=False, verbose=False)
    assert result.attempted >= 8 and result.failed == 0


def test_string_end_and_comment_start_skip_strings_and_escapes():
    from mpql.language.source import comment_start, string_end

    assert string_end('"a\\"b" x', 0) == 5  # the escaped quote does not close it
    assert string_end("'a\nb'", 0) == 2  # unterminated: stops at the newline
    assert string_end('"ab\\', 0) == 4  # a backslash at the very end
    assert comment_start('properties["a#b"] == 1  # note') == 24
    assert comment_start("'#' == '\\'#'") is None
    assert comment_start("1 # a # b") == 2


def test_transform_and_fold_handle_long_chains_without_recursion():
    # transform used to recurse once per level: a 5 000-term `or` chain (one nesting level for
    # the parser) raised RecursionError in the planner, which rewrites filters with it.
    chain = mpql.parse(" or ".join(f'properties["a"] == {i}' for i in range(5000)))
    bumped = A.transform(chain, lambda n: A.Number(n.value + 1)
                         if isinstance(n, A.Number) else n)
    assert [n.right.value for n in A.disjuncts(bumped)] == list(range(1, 5001))
    assert A.transform(chain, lambda n: n) is chain  # nothing changed: the same tree
    assert A.fold(chain, lambda n, subs: 1 + sum(subs)) == len(list(A.walk(chain)))


def test_transform_visits_children_first_left_to_right_and_reuses_unchanged_nodes():
    tree = mpql.parse('has_prefix("a", "b") or [1, 2] == properties["p"]')
    seen = []
    same = A.transform(tree, lambda n: seen.append(mpql.format(n)) or n)
    assert same is tree
    assert seen == ['"a"', '"b"', 'has_prefix("a", "b")', "1", "2", "[1, 2]",
                    'properties["p"]', '[1, 2] == properties["p"]', mpql.format(tree)]



def test_line_col_is_the_same_with_and_without_the_index():
    # Long texts use a cached line index (a file with thousands of diagnostics used to be
    # rescanned from its start for each one); it must agree with the plain scan.
    from mpql import diagnostics as D

    text = "".join(f"line {i}\n" if i % 7 else "\n" for i in range(2000)) + "tail"
    assert len(text) > D._INDEX_FROM
    for offset in [0, 1, 6, 7, 8, 500, 5000, len(text) - 1, len(text), len(text) + 5, -3]:
        clamped = max(0, min(offset, len(text)))
        start = text.rfind("\n", 0, clamped) + 1
        assert D.line_col(text, offset) == (text.count("\n", 0, clamped) + 1, clamped - start + 1)


def test_a_diagnostic_in_a_long_file_renders_its_own_line():
    text = "\n\n".join(f'properties["p{i}"] == {i}' for i in range(2000)) + '\n\nuser["x"] === 1\n'
    try:
        mpql.parse(text.split("\n\n")[-1])
    except mpql.ParseError as exc:
        d = exc.diagnostic.with_source(text, text.rindex("user"), "f.mpql")
    assert d.render().splitlines()[1:4] == ["    --> f.mpql:4001:11", "     |",
                                          '4001 | user["x"] === 1']


class TestMixpanelSpellings:
    """any(VAR, LIST, CONDITION), string(x, default) and `=`: written by Mixpanel's own docs
    (docs/language.md, "Mixpanel's own spellings")."""

    HOT_SHARD = ('((defined (properties["k"])) AND ((any(X, properties["k"], X="v")) OR '
                 '(string(properties["k"], "undefined") == "v")))')

    def test_hot_shard_selector_parses_to_the_expected_tree(self):
        k = A.Property("properties", "k")
        want = A.And(
            A.Call("defined", (k,)),
            A.Or(A.Any("X", k, A.Compare("==", A.Var("X"), A.String("v"))),
                 A.Compare("==", A.Call("string", (k, A.String("undefined"))), A.String("v"))))
        assert mpql.parse(self.HOT_SHARD) == want

    def test_single_equals_is_equality_and_prints_as_double(self):
        node = mpql.parse('properties["plan"] = "Ent"')
        assert node == mpql.parse('properties["plan"] == "Ent"')
        assert mpql.format(node) == mpql.format(node, style="wire") == 'properties["plan"] == "Ent"'

    def test_spans_of_any_and_its_variable(self):
        text = 'any(item, user["t"], item == 1)'
        node = mpql.parse(text)
        assert node.span.slice(text) == text
        var = node.predicate.left
        assert isinstance(var, A.Var) and var.span.slice(text) == "item"
        assert node.items.span.slice(text) == 'user["t"]'

    def test_any_node_traversal(self):
        node = mpql.parse('any(X, properties["a"], X > 1 and X < 5)')
        assert A.children(node) == (node.items, node.predicate)
        assert [type(n).__name__ for n in A.walk(node)][:3] == ["Any", "Property", "And"]
        renamed = A.transform(node, lambda n: A.Property("user", n.name)
                              if isinstance(n, A.Property) else n)
        assert renamed.items == A.Property("user", "a") and renamed.var == "X"
        assert A.fold(node, lambda n, subs: 1 + sum(subs)) == len(list(A.walk(node)))
        assert hash(node) == hash(mpql.parse('any(X, properties["a"], X > 1 and X < 5)'))
        assert node != mpql.parse('any(Y, properties["a"], Y > 1 and Y < 5)')  # names matter
        assert repr(node).startswith("Any(var='X', items=Property(")
        assert A.free_vars(node) == [] and A.free_vars(node.predicate) == [A.Var("X"), A.Var("X")]

    @pytest.mark.parametrize("name", ["and", "NOT", "true", "Now", "null", "undefined",
                                      "properties", "defined", "any", "1x", "a-b", ""])
    def test_reserved_or_invalid_variable_names_are_refused(self, name):
        with pytest.raises(ValueError):
            A.Var(name)
        with pytest.raises(ValueError):
            A.Any(name, A.Property("properties", "a"), A.Boolean(True))

    def test_any_is_never_a_call(self):
        with pytest.raises(ValueError, match="Any"):
            A.Call("any", (A.Number(1),))

    def test_variable_names_follow_the_lexer(self):
        for name in ("X", "x1", "$el", "élément", "_", "Any", "notX", "NULLABLE"):
            node = A.Any(name, A.Property("properties", "a"), A.Compare("==", A.Var(name), A.Number(1)))
            assert mpql.parse(mpql.format(node)) == node
