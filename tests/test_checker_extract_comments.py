"""Comments in host files: `noqa` and `# mpql:` directives are found with the language layer's
`comment_start`, so a `#` inside a string literal (with quotes and escapes) is not a comment."""

from hypothesis import given, strategies as st

from mpql.checker.extract import _directives, noqa_map
from mpql.language.source import comment_start


def test_noqa_after_a_string_holding_a_hash_and_escaped_quotes():
    text = 'properties["a#b"] == 1  # mpql: noqa: W201\n' \
           'properties["x\\"#"] == "y"  # mpql: noqa\n' \
           "properties['#'] == 2\n"
    assert noqa_map(text) == {1: {"W201"}, 2: None}


def test_directive_not_found_inside_a_string():
    text = 'properties["# mpql: endpoint=export"] == 1\n# mpql: endpoint=engage\n'
    found = list(_directives(text))
    assert found == [(text.index("# mpql: endpoint=engage"), {"endpoint": "engage"})]


def test_unterminated_string_hides_the_rest_of_the_line():
    assert noqa_map('properties["a # mpql: noqa\n') == {}


@given(st.text(alphabet='ab"\'\\# ', max_size=30))
def test_comment_start_is_a_hash_outside_strings(line):
    at = comment_start(line)
    if at is not None:
        assert line[at] == "#"
        # the prefix before it closes every string it opens
        assert comment_start(line[:at] + "#") == at
