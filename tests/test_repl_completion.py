"""The REPL's completion brain and multi-line decision, tested as pure functions of text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpql.language import ast as A
from mpql.language import parse
from mpql.language.parser import FUNCTIONS
from mpql.repl.catalog import EVENT, PROFILE, Catalog
from mpql.repl.completion import Suggestion, accepts, complete, input_status

EVENTS = [
    {"event": "Signup", "properties": {"$os": "Mac OS X", "plan": "pro", "time": 1700000000,
                                       "$browser": "Chrome", "say \"hi\"": 1}},
    {"event": "Login", "properties": {"$os": "Windows", "plan": "free", "time": 1700000001}},
    {"event": "Login", "properties": {"$os": "Mac OS X", "plan": "pro", "time": 1700000002}},
]
PROFILES = [{"$distinct_id": "u1", "$properties": {"customer_id": "C-1", "$email": "a@b.c",
                                                  "$last_seen": "2024-01-02T03:04:05"}}]


@pytest.fixture(scope="module")
def cat():
    return Catalog.from_records(EVENTS, PROFILES)


def texts(suggestions):
    return [s.text for s in suggestions]


def apply(text, suggestion):
    """The text after accepting ``suggestion`` with the cursor at the end of ``text``."""
    assert suggestion.start <= 0
    return text[: len(text) + suggestion.start] + suggestion.text


# -- what may come next ---------------------------------------------------------------------


def test_empty_input_offers_every_way_to_start_an_expression(cat):
    got = texts(complete("", cat))
    for accessor in A.SCOPES:
        assert f"{accessor}[" in got
    for fn in FUNCTIONS:
        assert f"{fn}(" in got
    assert {"not", "true", "false", "NOW"} <= set(got)
    assert "and" not in got and "==" not in got  # cannot start an expression


def test_after_a_value_offers_operators_and_connectives_not_values(cat):
    got = texts(complete('properties["plan"] ', cat))
    assert {"and", "or", "in", "==", "!=", "<", ">=", "+", "*"} <= set(got)
    assert "properties[" not in got and "not" not in got


def test_partial_word_is_completed_and_replaced(cat):
    [s] = complete("pro", cat)
    assert s.text == "properties[" and s.start == -3 and s.kind == "accessor"
    got = complete("not d", cat)
    assert texts(got) == ["defined(", "datetime("]
    assert all(s.start == -1 for s in got)


def test_keywords_follow_the_users_case(cat):
    assert texts(complete('properties["a"] == 1 AN', cat)) == ["AND"]
    assert texts(complete('properties["a"] == 1 an', cat)) == ["and"]
    assert texts(complete('properties["a"] == 1 o', cat)) == ["or"]


def test_not_is_offered_where_the_grammar_accepts_it_only(cat):
    # `1 + not x` is not in the language: after `+` a unary operand must follow.
    assert "not" not in texts(complete("1 + ", cat))
    assert "not" in texts(complete("1 == 1 and ", cat))


def test_invalid_prefix_gives_no_suggestions(cat):
    assert complete("1 2 ", cat) == []
    assert complete("properties[1", cat) == []


def test_no_completion_inside_comments_or_numbers(cat):
    assert complete("# pro", cat) == []
    assert complete("1e", cat) == []


# -- property names, with types and counts --------------------------------------------------


def test_property_names_after_an_accessor_bracket(cat):
    got = complete("properties[", cat)
    assert texts(got)[:3] == ['"$os"]', '"plan"]', '"time"]']  # most common first
    by_name = {s.display: s for s in got}
    assert by_name["time"].meta == "number, 3 events"
    assert by_name["$browser"].meta == "string, 1 event"


def test_property_names_inside_an_open_string_match_by_prefix_then_substring(cat):
    got = complete('properties["o', cat)
    assert [s.display for s in got] == ["$os", "$browser"]
    assert apply('properties["o', got[0]) == 'properties["$os"]'
    assert all(s.start == -1 for s in got)


def test_property_names_are_escaped_for_the_quote_typed(cat):
    [s] = complete('properties["say', cat)
    assert apply('properties["say', s) == 'properties["say \\"hi\\""]'
    parse(apply('properties["say', s) + " == 1")  # the result is valid mpql
    [s] = complete("properties['say", cat)
    assert apply("properties['say", s) == "properties['say \"hi\"']"
    assert parse(apply("properties['say", s)) == A.Property("properties", 'say "hi"')


def test_user_accessor_offers_profile_properties_with_types(cat):
    got = complete('user["', cat)
    assert {s.display for s in got} == {"customer_id", "$email", "$last_seen"}
    assert {s.display: s.meta for s in got}["$last_seen"] == "datetime, 1 profile"


def test_endpoint_decides_what_properties_means(cat):
    assert {s.display for s in complete('properties["', cat, "engage")} == {
        "customer_id", "$email", "$last_seen"}
    assert complete('event["', cat, "engage") == []
    assert complete('behaviors["', cat) == []  # behaviour names come from the query


def test_without_a_catalog_only_grammar_suggestions(cat):
    assert complete('properties["', None) == []
    assert "properties[" in texts(complete("", None))


# -- values ----------------------------------------------------------------------------------


def test_values_seen_for_the_property_after_equals(cat):
    got = complete('properties["$os"] == ', cat)
    assert texts(got)[:2] == ['"Mac OS X"', '"Windows"']  # values first, most common first
    assert got[0].meta == "2×"
    got = complete('properties["$os"] == "W', cat)
    assert texts(got) == ['Windows"']
    assert apply('properties["$os"] == "W', got[0]) == 'properties["$os"] == "Windows"'


def test_values_inside_a_list_after_in(cat):
    got = complete('properties["plan"] in ["pro", "', cat)
    assert set(texts(got)) == {'pro"', 'free"'}


# -- commands ----------------------------------------------------------------------------------


def test_commands_and_their_arguments(cat):
    import mpql.repl.engine  # noqa: F401  (registers the command table)

    assert texts(complete(":e", cat)) == [":endpoint"]
    assert set(texts(complete(":", cat))) >= {":help", ":load", ":plan", ":run", ":quit"}
    assert texts(complete(":endpoint en", cat)) == ["engage"]
    assert texts(complete(":help pl", cat)) == ["plan"]


# -- property: every suggestion keeps the text completable ------------------------------------

PREFIXES = ["", "not ", 'properties["$os"] ', 'properties["$os"] == ', "(", "defined(",
            'user["', 'properties["', '1 + ', '[1, ', 'properties["plan"] in [']


@settings(deadline=None)
@given(st.sampled_from(PREFIXES), st.data())
def test_property_accepting_any_suggestion_leaves_a_valid_prefix(prefix, data):
    suggestions = complete(prefix, Catalog.from_records(EVENTS, PROFILES))
    if not suggestions:
        return
    s = data.draw(st.sampled_from(suggestions))
    after = apply(prefix, s)
    # Accepting a suggestion never makes the text invalid: the parser can still go on.
    assert accepts(after if s.kind in ("accessor", "function") else after + " ") is not None


# -- incomplete vs invalid --------------------------------------------------------------------


@pytest.mark.parametrize("text, status", [
    ("", "empty"),
    ("   \n  ", "empty"),
    ("# just a comment", "empty"),
    ("# one comment\n  # and another", "empty"),
    ('"# not a comment"', "complete"),
    (":help", "command"),
    ("  :load x.jsonl", "command"),
    ('properties["a"] == 1', "complete"),
    ('properties["a"] == 1 and', "incomplete"),
    ('properties["a"] == 1 and\n# more to come\n', "incomplete"),
    ("(1 + 2", "incomplete"),
    ("[1, 2,", "incomplete"),
    ("defined(", "incomplete"),
    ("not", "incomplete"),
    # invalid: more typing cannot fix these, so they are submitted and the error is shown
    ("1 2", "complete"),
    ('"unterminated', "complete"),
    ("properties[\"a\"] === 1", "complete"),
    ("a)", "complete"),
    ('any(X, properties["a"], Y == 1)', "complete"),  # E126: shown at once
    # Mixpanel's own spellings
    ("properties[\"a\"] = 1", "complete"),
    ('any(X, properties["a"],', "incomplete"),
    ('string(properties["a"], ', "incomplete"),
])
def test_input_status(text, status):
    assert input_status(text) == status


@settings(deadline=None)
@given(st.text(alphabet='pr()[]"ab =!<>+-*/%,.01 andortuefsin#\n', max_size=30))
def test_property_complete_input_either_parses_or_fails_for_a_reason_other_than_its_end(text):
    from mpql.errors import ParseError

    status = input_status(text)
    if status != "incomplete":
        return
    # "incomplete" must mean the parser ran out of input, never a bad token in the middle.
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.code in ("E105", "E106", "E107")


@settings(deadline=None)
@given(st.text(alphabet='# \n"\'ab1=()', max_size=20))
def test_property_empty_means_the_parser_finds_no_expression(text):
    from mpql.errors import ParseError

    if text.lstrip().startswith(":"):
        return
    try:
        parse(text)
        code = None
    except ParseError as exc:
        code = exc.code
    assert (input_status(text) == "empty") == (code == "E107")


def test_catalog_counts_types_and_values():
    cat = Catalog.from_records(EVENTS, PROFILES)
    f = cat.get(EVENT, "$os")
    assert (f.count, f.type, f.top_values(1)) == (3, "string", [("Mac OS X", 2)])
    assert cat.get(PROFILE, "$last_seen").type == "datetime"
    cat.add_schema({"plan": "string", "new_prop": "number"}, EVENT)
    assert cat.get(EVENT, "new_prop").type == "number" and cat.get(EVENT, "new_prop").count == 0
    assert cat.sorted_fields(EVENT)[-1].name == "new_prop"  # declared-only fields come last


_SCALARS = st.one_of(st.booleans(), st.integers(-3, 3), st.sampled_from([0.5, 1.0, -2.5]),
                     st.sampled_from(["a", "b", "2024-01-02T03:04:05", "1"]), st.none())
_RECORDS = st.lists(st.fixed_dictionaries({
    "event": st.sampled_from(["A", "B"]),
    "properties": st.dictionaries(st.sampled_from(["x", "y", "$z"]),
                                  st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3)),
                                  max_size=3),
}), max_size=12)


@settings(deadline=None)
@given(_RECORDS)
def test_property_catalog_fast_path_equals_observing_each_value(records):
    from mpql.repl.catalog import Field

    cat = Catalog.from_records(records)
    reference: dict = {}
    for record in records:
        for name, value in record["properties"].items():
            reference.setdefault(name, Field(EVENT, name)).observe(value)
    assert set(cat.names(EVENT)) == set(reference)
    assert cat.records[EVENT] == len(records)
    for name, ref in reference.items():
        got = cat.get(EVENT, name)
        assert (got.count, got.type_counts(), got.high_cardinality) == \
            (ref.count, ref.type_counts(), ref.high_cardinality)
        assert sorted(map(repr, got.top_values(1000))) == sorted(map(repr, ref.top_values(1000)))


def test_true_and_1_are_different_values():
    cat = Catalog.from_records([{"event": "e", "properties": {"x": True}},
                                {"event": "e", "properties": {"x": 1}}])
    assert sorted(map(repr, cat.get(EVENT, "x").top_values())) == ["(1, 1)", "(True, 1)"]


def test_variables_of_open_any_calls_are_offered_in_their_condition(cat):
    got = complete('any(X, properties["tags"], ', cat)
    assert got[0] == Suggestion("X", 0, "variable", "X", "element of the enclosing any(...)")
    inner = [s.text for s in complete('any(X, properties["a"], any(Yy, [1], Y', cat)]
    assert inner == ["Yy"]
    # closed any(...): its variable is out of scope
    after = complete('any(X, properties["a"], X == 1) and ', cat)
    assert all(s.kind != "variable" for s in after)
    # `=` is never suggested (it is accepted, but the checker asks for `==`)
    assert "=" not in [s.text for s in complete('any(X, properties["a"], X ', cat)]
    assert [s.text for s in complete("an", cat)] == ["any("]
