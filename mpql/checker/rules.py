"""The rule catalogue: every code the checker and linter can report, with its documentation.

Codes are stable; names are kebab-case and may be used wherever a code is accepted
(``--select``, ``--ignore``, ``noqa``). Families:

    E1xx  syntax (reported by the parser, mpql/language/parser.py)
    S     scope: which properties exist where (endpoint, entity, schema)
    T     types: comparisons, arithmetic and logic across types
    D     datetime(): literals, Unix timestamps, datetime comparisons
    C     constant, contradictory and duplicate conditions
    L     lexing hazards (how Mixpanel's server tokenises what mpql accepts)
    U     forms Mixpanel's docs do not confirm (UNCONFIRMED, docs/mixpanel-reference.md §8)
    F     formatting style (opt-in)
    X     extraction from host files (Python, JSON)

Each rule's doc follows ruff's shape: what it does, why it is bad, an example, what to use
instead, and whether a fix exists (safe fixes run with ``--fix``; unsafe ones need
``--unsafe-fixes`` because they change what the filter selects). ``docs/rules/<CODE>.md`` is
generated from this table (``python -m mpql.checker.rules docs/rules``) and a test keeps it
in sync.
"""

from __future__ import annotations

import sys

import attrs

from ..language.parser import SYNTAX_CODES

__all__ = ["Rule", "RULES", "get_rule", "resolve_selectors", "render_rule_doc", "DEFAULT_OFF",
           "DOCS_BASE_URL", "docs_base_url", "rule_url"]

#: Where mpql's ``docs/`` folder is published: every rule URL in lint output (SARIF
#: ``helpUri``, JSON ``url``, the ``full`` format's last ``help`` line) is this base plus
#: ``rules/<CODE>.md`` (syntax codes: ``language.md#<anchor>``). The one place to change it; a
#: fork or an internal mirror sets ``MPQL_DOCS_URL`` instead (absolute, ending in ``docs/``).
DOCS_BASE_URL = "https://github.com/mpql/mpql/blob/main/docs/"


@attrs.frozen
class Rule:
    code: str
    name: str
    severity: str  # the default severity; some rules downgrade when evidence is weaker
    summary: str
    what: str
    why: str
    example: str
    use_instead: str
    fix: str | None = None  # "safe", "unsafe", "sometimes" or None
    default_enabled: bool = True

    @property
    def family(self) -> str:
        return self.code.rstrip("0123456789")


_R: list[Rule] = []


def _rule(code, name, severity, summary, what, why, example, use_instead, fix=None,
          default_enabled=True):
    _R.append(Rule(code, name, severity, summary, what.strip(), why.strip(), example.strip(),
                   use_instead.strip(), fix, default_enabled))


# --- S: scope ---------------------------------------------------------------------------------

_rule("S001", "distinct-id-without-dollar", "error",
      "`distinct_id` spelled without `$` in an event filter",
      "Flags `properties[\"distinct_id\"]` (and `event[\"distinct_id\"]`) in an event context "
      "(export, segmentation, funnels, retention, JQL).",
      "Mixpanel's reserved event property is `$distinct_id`; the raw export shows it as "
      "`distinct_id`, so people copy that spelling into filters. The spec lists the spelling "
      "in `where` as UNCONFIRMED (docs/mixpanel-reference.md §1.10); mpql follows Mixpanel's reserved-properties page "
      "and fixes to `$distinct_id`.",
      'properties["distinct_id"] == "u1"',
      'properties["$distinct_id"] == "u1"',
      fix="safe")
_rule("S002", "engage-distinct-id-filter", "warning",
      "filtering profiles by distinct id in a `where`",
      "Flags `properties[\"$distinct_id\"]` or `properties[\"distinct_id\"]` in an `engage` "
      "filter.",
      "`/engage` has dedicated `distinct_id` and `distinct_ids` parameters; a `where` on the id "
      "scans every profile, and engage results carry `$distinct_id` outside `$properties`.",
      'properties["$distinct_id"] == "u1"',
      "the query's distinct_id / distinct_ids parameter (mpql: Query.profiles(distinct_ids=[...]))")
_rule("S003", "profile-in-raw-export", "error",
      "`user[...]` in a raw export filter",
      "Flags `user[\"x\"]` when the endpoint is `export`.",
      "Raw export lines are events; they carry no profile, so a filter on a profile property "
      "matches nothing (UNCONFIRMED whether Mixpanel joins profiles here, docs/mixpanel-reference.md §1.10). mpql's "
      "planner can split such a query: fetch matching profiles from /engage, then filter the "
      "export by their distinct ids.",
      'user["plan"] == "pro"',
      'an engage query for the profiles, then an export filtered on properties["$distinct_id"]; '
      "or let `mpql plan` split it")
_rule("S004", "event-in-engage", "error",
      "`event[...]` in a profile query",
      "Flags `event[\"x\"]` when the endpoint is `engage`.",
      "`/engage` filters profiles; there is no event in scope, so the comparison is always "
      "undefined and no profile matches.",
      'event["$os"] == "iOS"',
      'properties["$os"] == "iOS" (the profile\'s last OS), or a behaviors[...] count')
_rule("S005", "behaviors-unavailable", "error",
      "`behaviors[...]` where no behaviors are defined",
      "Flags `behaviors[\"name\"]` outside `engage`, and in `engage` when the declared behaviors "
      "(`--behaviors`, directive `behaviors=`) do not include the name.",
      "`behaviors[...]` reads a count defined by the engage `behaviors` parameter (UNCONFIRMED in "
      "the official docs, docs/mixpanel-reference.md §1.10); elsewhere it is undefined.",
      'behaviors["purchased"] > 0   # in an export filter',
      "define the behavior in the engage request's `behaviors` parameter and query /engage")
_rule("S006", "wrong-entity-property", "warning",
      "a built-in property of the other entity (event vs profile)",
      "Flags Mixpanel default properties used on the wrong entity: profile properties such as "
      "`$last_seen`, `$email`, `$created` in an event filter, and event properties such as "
      "`mp_country_code`, `$insert_id`, `$current_url` in a profile filter.",
      "Mixpanel sets these on one entity only; on the other they are always missing, so the "
      "filter silently matches nothing (or everything, when negated).",
      'properties["mp_country_code"] == "US"   # in engage',
      'properties["$country_code"] == "US"   (profiles store the country as $country_code)',
      fix="sometimes")
_rule("S007", "unknown-property", "warning",
      "property not in the schema",
      "With a schema (`--schema`), flags properties that neither the schema nor Mixpanel's "
      "built-in table lists for that entity, with a \"did you mean\".",
      "A misspelt property is simply missing on every row: Mixpanel answers with nothing.",
      'properties["$brwoser"] == "Chrome"',
      'properties["$browser"] == "Chrome"',
      fix="unsafe")

# --- T: types ---------------------------------------------------------------------------------

_rule("T001", "cross-type-equality", "error",
      "`==`/`!=` between values of known different types",
      "Flags equality tests whose two sides have different known types.",
      "Mixpanel's `==` is false whenever the types differ and `!=` is true (docs/mixpanel-reference.md §1.6): "
      "`properties[\"age\"] == \"42\"` never matches a numeric age, and "
      "`boolean(x) != \"false\"` is always true.",
      'boolean(properties["signed up"]) != "false"',
      'boolean(properties["signed up"]) != false',
      fix="unsafe")
_rule("T002", "cross-type-ordering", "error",
      "`<`, `>`, `<=`, `>=` on values that cannot be ordered together",
      "Flags ordering comparisons whose operands are of different known types, or of a type "
      "that has no order (boolean, list).",
      "Ordering is defined for two numbers (and two datetimes); anything else is undefined, "
      "which filters every row out (docs/mixpanel-reference.md §1.6).",
      'properties["age"] > "18"   # age is a number',
      'properties["age"] > 18, or number(properties["age"]) > 18 for a string property')
_rule("T003", "string-ordering", "warning",
      "ordering comparison on strings",
      "Flags `<`, `>`, `<=`, `>=` where both sides are strings, e.g. `> \"eighteen\"`.",
      "Mixpanel documents ordering only for numbers; for two strings the result is UNCONFIRMED "
      "(docs/mixpanel-reference.md §1.6), so such filters are at best lexicographic and at worst undefined.",
      'properties["age"] > "eighteen"',
      'number(properties["age"]) > 18')
_rule("T004", "non-numeric-arithmetic", "error",
      "arithmetic on values that are not numbers",
      "Flags `-`, `*`, `/`, `%`, unary minus, `floor`/`round`/`ceil` on non-numbers, `+` "
      "mixing a string and a number, and division or modulo by the literal 0.",
      "All of these yield undefined in Mixpanel (docs/mixpanel-reference.md §1.6), so the comparison around them "
      "never matches.",
      'properties["$os"] - 1 > 0',
      'number(properties["count"]) - 1 > 0')
_rule("T005", "impossible-in", "error",
      "`in` whose right side cannot contain the left",
      "Flags `in` when the right side is a number, boolean or datetime; when a non-string is "
      "looked up in a string; and when no item of a list literal has the left side's type.",
      "`in` is a substring test on two strings or a membership test on a list; any other "
      "combination is undefined or always false (docs/mixpanel-reference.md §1.6).",
      'properties["plan"] in [1, 2]   # plan is a string',
      'properties["plan"] in ["1", "2"]')
_rule("T006", "non-boolean-where", "error",
      "a `where` filter that is not a boolean",
      "Flags a `where` expression whose type is not boolean: a string, number, list, a cast "
      "such as `string(...)`, or a bare property (a warning when its type is unknown).",
      "A filter must evaluate to true or false. A bare `properties[\"x\"]` only works when "
      "x holds JSON `true`/`false`; anything else filters every row out.",
      'properties["email"]',
      'defined(properties["email"])  or  properties["opted_in"] == true')
_rule("T007", "non-boolean-logic-operand", "error",
      "`and`/`or`/`not` applied to a non-boolean",
      "Flags operands of `and`, `or` and `not` whose type is known and not boolean (a warning "
      "for a bare property of unknown type).",
      "Mixpanel's `and`/`or` accept booleans and undefined and raise an error on any other "
      "operand; `not` of a non-boolean is undefined (docs/mixpanel-reference.md §1.6).",
      'properties["plan"] and properties["age"] > 30',
      'defined(properties["plan"]) and properties["age"] > 30')
_rule("T008", "failing-cast", "error",
      "a cast that can only produce undefined",
      "Flags `number(\"…\")` of a literal that is not a decimal number.",
      "`number()` of an unparseable string is undefined (docs/mixpanel-reference.md §1.7); the test around it never "
      "matches.",
      'number("forty-two") == 42',
      "number(\"42\") == 42, or the literal 42")
_rule("T009", "non-literal-list-item", "error",
      "list literal with a non-literal item",
      "Flags items of `[...]` that are not string, number or boolean literals.",
      "Mixpanel's grammar allows only literals inside a list (docs/mixpanel-reference.md §1.3); properties or "
      "expressions in a list are not evaluated.",
      'properties["a"] in [properties["b"], "x"]',
      'properties["a"] == properties["b"] or properties["a"] == "x"')
_rule("T010", "any-over-non-list", "warning",
      "`any(X, …)` over a value that is not a list",
      "Flags `any(X, items, condition)` whose `items` is known not to be a list: a string, "
      "number, boolean or datetime literal, a cast such as `string(...)`, or a property the "
      "schema types that way.",
      "`any` tries the elements of a list. Mixpanel's hot-shard docs pair "
      "`any(X, p, X=\"v\")` with `string(p, \"undefined\") == \"v\"` for scalar values, "
      "which suggests `any` never matches a scalar; what it does with one is UNCONFIRMED "
      "(mpql's evaluator: undefined, `Semantics.any_non_list`).",
      'any(X, properties["plan"], X == "pro")   # plan is a string',
      'properties["plan"] == "pro"')
_rule("T011", "condition-as-on", "warning",
      "an `on` breakdown that is a condition",
      "Flags an `on` expression (the segment-by value of /segmentation, /funnels, /retention) "
      "whose type is boolean: a comparison, `in`, `defined(...)`, `and`/`or`/`not`.",
      "`on` is a value, not a filter: every event is put in the segment named after the "
      "expression's value, so a condition splits events into \"true\" and \"false\" (and "
      "undefined) instead of filtering them. It is usually a filter written in the wrong "
      "parameter.",
      'on: properties["$browser"] == "Chrome"',
      'where: properties["$browser"] == "Chrome", on: properties["$os"]  (or on: '
      'properties["$browser"] to compare browsers)')

# --- D: datetime ------------------------------------------------------------------------------

_rule("D001", "datetime-not-iso", "error",
      "`datetime(\"…\")` literal not in ISO 8601 form",
      "Flags string literals given to `datetime()` that are not dates at all (an error: "
      "exactly the literals on which mpql's evaluator gives undefined — one recogniser "
      "decides both, see docs/semantics.md), and dates in a form Mixpanel does not document "
      "— anything but `YYYY-MM-DD` and `YYYY-MM-DDTHH:MM:SS`, e.g. a one-digit day, a space "
      "for the `T`, a timezone offset or a fraction of a second (a warning).",
      "Mixpanel reads only ISO 8601 strings; `datetime(\"1/1/2024\")` is undefined and every "
      "comparison with it is false. Engage reads the literal in the project's timezone "
      "(docs/mixpanel-reference.md §1.7).",
      'datetime("2024/01/31")',
      'datetime("2024-01-31T00:00:00")',
      fix="sometimes")
_rule("D002", "datetime-non-positive", "error",
      "`datetime(n)` with n ≤ 0",
      "Flags `datetime()` of a number literal that is zero or negative.",
      "Numbers ≤ 0 yield undefined (docs/mixpanel-reference.md §1.7), so the comparison silently matches nothing.",
      "datetime(0)",
      'datetime("1970-01-01T00:00:00") if you mean the epoch; otherwise a positive timestamp')
_rule("D003", "datetime-number-unit", "info",
      "how a number given to `datetime()` is read",
      "Notes whether `datetime(n)` reads n as Unix seconds (1 … 4294967295) or milliseconds "
      "(larger), and the date that gives; a warning when that date is before 2000 or after 2100.",
      "The seconds/milliseconds switch is by magnitude (docs/mixpanel-reference.md §1.7): a millisecond value below "
      "4294967296 (before 1970-02-19 in ms) is read as seconds, and a seconds value typed with "
      "three extra digits lands in another century.",
      "datetime(1700000)",
      'datetime(1700000000)  or  datetime("2023-11-14T22:13:20")')
_rule("D004", "datetime-vs-string", "warning",
      "datetime property compared with a bare date string",
      "Flags comparisons of a datetime value with a string literal that looks like a date.",
      "The sides have different types, so the comparison is false or undefined (docs/mixpanel-reference.md §1.12 "
      "pitfall 3); Mixpanel's own libraries always wrap the literal in `datetime()`.",
      'properties["$created"] > "2024-01-01T00:00:00"',
      'properties["$created"] > datetime("2024-01-01T00:00:00")',
      fix="safe")
_rule("D005", "datetime-vs-number", "error",
      "datetime compared with a number",
      "Flags comparisons between a datetime and a number (including `NOW` and `NOW` "
      "arithmetic: `NOW` is Unix seconds, a number).",
      "Different types: `==` is always false, `!=` always true, and `<`, `>`, `<=`, `>=` "
      "are undefined, so such a comparison never matches (docs/semantics.md, Operators). A Unix "
      "timestamp must go through `datetime(n)` (seconds, or milliseconds above 4294967295). "
      "The fix wraps the number in `datetime()`; it is unsafe because the filter then selects "
      "records where it selected none, and a number that is not such a timestamp is misread.",
      'properties["$last_seen"] > NOW - 604800',
      'properties["$last_seen"] > datetime(NOW - 604800)',
      fix="unsafe")
_rule("D006", "string-property-vs-datetime", "warning",
      "string property compared with a datetime",
      "Flags a property whose declared type is string compared with a datetime value.",
      "Dates stored as strings compare as strings; Mixpanel's libraries wrap the property in "
      "`datetime()` so that both sides are datetimes (docs/mixpanel-reference.md §1.7).",
      'properties["signup_date"] >= datetime("2024-01-01")',
      'datetime(properties["signup_date"]) >= datetime("2024-01-01")',
      fix="safe")

# --- C: constants ------------------------------------------------------------------------------

_rule("C001", "constant-condition", "warning",
      "a condition that is always true or always false",
      "Flags conditions built only from literals (`1 == 1`, `\"a\" in \"abc\"`, `true`), which "
      "do not depend on the data.",
      "A constant part either filters nothing out or everything; it is usually a leftover or a "
      "property reference that lost its accessor.",
      'properties["plan"] == "pro" and "pro" == "pro"',
      'properties["plan"] == "pro"')
_rule("C002", "contradictory-conditions", "error",
      "`and` of conditions that cannot hold together",
      "Flags `x == \"a\" and x == \"b\"`, `x == \"a\" and x != \"a\"`, and empty numeric ranges "
      "such as `x > 5 and x < 3`.",
      "The filter can never match: Mixpanel returns zero rows without an error.",
      'properties["plan"] == "pro" and properties["plan"] == "team"',
      'properties["plan"] == "pro" or properties["plan"] == "team"  (or `in ["pro", "team"]`)')
_rule("C003", "tautological-conditions", "warning",
      "`or` of conditions of which one always holds",
      "Flags `x != \"a\" or x != \"b\"` and `x == \"a\" or x != \"a\"`.",
      "At least one side is true for every row (including rows without x), so the filter "
      "selects everything; usually `and` was meant.",
      'properties["plan"] != "free" or properties["plan"] != "trial"',
      'properties["plan"] != "free" and properties["plan"] != "trial"')
_rule("C004", "duplicate-condition", "warning",
      "the same condition twice in one `and`/`or` chain",
      "Flags a conjunct or disjunct that repeats an earlier one.",
      "The repeat changes nothing; often a copy-paste where another property was meant.",
      'defined(properties["a"]) and defined(properties["a"])',
      'defined(properties["a"])',
      fix="safe")

_rule("C005", "any-variable-unused", "warning",
      "`any(X, …)` whose condition never uses `X`",
      "Flags `any(X, items, condition)` when `condition` does not mention the variable `X`.",
      "Without the variable the condition says nothing about the elements: the `any` is just "
      "\"the list is not empty, and the condition holds\". Usually the variable was misspelt "
      "or a property was written where the element was meant.",
      'any(X, properties["tags"], properties["tag"] == "vip")',
      'any(X, properties["tags"], X == "vip")')

# --- L: lexing --------------------------------------------------------------------------------

_rule("L001", "minus-lexed-as-sign", "error",
      "binary `-` written so that Mixpanel reads a negative number",
      "Flags `x -5`: a space before `-` and none after it (an error, documented by Mixpanel's "
      "own library for `NOW -604800`), and `x-5` without spaces (a warning; UNCONFIRMED).",
      "Mixpanel's lexer reads `-604800` as a negative literal, so `NOW -604800` is two values "
      "side by side: a syntax error on the server, while mpql's parser reads a subtraction.",
      "datetime(NOW -604800)",
      "datetime(NOW - 604800)",
      fix="safe")

# --- U: unconfirmed forms ---------------------------------------------------------------------

_rule("U001", "single-quoted-string", "warning",
      "single-quoted string",
      "Flags strings written with single quotes.",
      "Mixpanel's docs only show double-quoted strings; single quotes are UNCONFIRMED (docs/mixpanel-reference.md §8).",
      "properties['$os'] == 'iOS'",
      'properties["$os"] == "iOS"',
      fix="safe")
_rule("U002", "exponent-number", "warning",
      "number written with an exponent",
      "Flags number literals such as `1e3` or `2.5E-2`.",
      "Scientific notation is UNCONFIRMED in Mixpanel's expression language (docs/mixpanel-reference.md §1.4).",
      'properties["amount"] > 1e3',
      'properties["amount"] > 1000',
      fix="safe")
_rule("U003", "has-prefix-outside-jql", "warning",
      "`has_prefix()` outside JQL",
      "Flags `has_prefix(...)` when the endpoint is known and is not `jql`.",
      "`has_prefix` appears only in a JQL example; other endpoints are UNCONFIRMED, and Engage's "
      "reduced grammar has no prefix test at all (docs/mixpanel-reference.md §1.8).",
      'has_prefix(properties["$current_url"], "https://")',
      '"https://" in properties["$current_url"] (a substring test), or JQL')
_rule("U004", "now-outside-engage", "warning",
      "`NOW` outside `engage`",
      "Flags the `NOW` macro when the endpoint is known and is not `engage`.",
      "`NOW` is documented for Engage selectors only; elsewhere it is UNCONFIRMED (docs/mixpanel-reference.md §1.7).",
      "properties[\"$time\"] > datetime(NOW - 86400)   # export",
      'a literal: properties["$time"] > datetime("2024-05-01T00:00:00") (mpql\'s builder can '
      "compute it)")
_rule("U005", "user-accessor-in-engage", "warning",
      "`user[...]` in a profile query (opt-in)",
      "Flags `user[\"x\"]` when the endpoint is `engage`. Off by default: the Engage API "
      "documentation and widely copied guides filter profiles with `user[...]` (e.g. "
      "`user[\"customer_id\"] == \"hubspot-user-12345\"`), and mpql's planner sends that "
      "spelling as written. Select it (`--extend-select U005`, or `extend-select = "
      "[\"U005\"]` in the config) to enforce one spelling in a codebase.",
      "In `/engage`, `properties[...]` already means a profile property and the official "
      "client libraries write it; Mixpanel's docs show `user[...]` too, but do not say that "
      "both are accepted everywhere (UNCONFIRMED, docs/mixpanel-reference.md §1.10). A team that wants one spelling "
      "can turn this rule on.",
      'user["$email"] == "a@b.c"',
      'properties["$email"] == "a@b.c"',
      fix="safe", default_enabled=False)
_rule("U006", "event-accessor-outside-export", "warning",
      "`event[...]` outside the export endpoint",
      "Flags `event[\"x\"]` in segmentation, funnels or retention filters.",
      "`event[...]` is documented only \"for the Event Export API\" (docs/mixpanel-reference.md §1.10).",
      'event["$os"] == "iOS"   # segmentation',
      'properties["$os"] == "iOS"',
      fix="unsafe")
_rule("U007", "engage-unsupported-operation", "warning",
      "operation outside Engage's reduced grammar",
      "Flags `floor`, `round`, `ceil`, `has_prefix`, `any(...)`, `*`, `/` and `%` in an "
      "`engage` filter. "
      "(`boolean()` is not flagged: mixpanel-utils uses it in engage selectors.)",
      "Engage re-parses `where` with a smaller grammar (comparisons, `in`, `and`/`or`/`not`, "
      "`+`/`-`, `defined`, `number`, `string`, `list`, `datetime`, `NOW`) and no test on the "
      "items of a list; other operations are UNCONFIRMED there (docs/mixpanel-reference.md §1.8).",
      'floor(properties["age"]) == 30',
      'properties["age"] >= 30 and properties["age"] < 31')
_rule("U008", "keyword-case", "warning",
      "keyword not in its documented case",
      "Flags `AND`, `Or`, `NOT`, `True`, `In`, lowercase `now` and similar.",
      "Mixpanel's examples use lowercase keywords and `NOW`; case-insensitivity is UNCONFIRMED "
      "(docs/mixpanel-reference.md §8). mpql accepts any case; the server may not.",
      'properties["a"] == 1 AND properties["b"] == True',
      'properties["a"] == 1 and properties["b"] == true',
      fix="safe")
_rule("U009", "list-cast-outside-engage", "warning",
      "`list()` outside `engage`",
      "Flags `list(...)` when the endpoint is known and is not `engage`.",
      "The `list()` cast is only evidenced in Engage's grammar; its semantics are undocumented "
      "(docs/mixpanel-reference.md §1.7).",
      'list(properties["tags"])',
      '"tag" in properties["tags"]')

_rule("U010", "single-equals", "warning",
      "`=` used for equality",
      "Flags a comparison written with a single `=`.",
      "The documented operator is `==` (docs/mixpanel-reference.md §1.3). Mixpanel's own pages write `=` "
      "(mixpanel-utils README: `properties[\"plan\"] = \"Ent\"`; hot-shard docs: "
      "`any(X, …, X=\"v\")`), so mpql reads it as `==`, but the grammar does not document it; "
      "mpql always sends `==`.",
      'properties["plan"] = "Ent"',
      'properties["plan"] == "Ent"',
      fix="safe")

# --- F: format --------------------------------------------------------------------------------

_rule("F001", "non-canonical-format", "info",
      "expression not in canonical format (opt-in)",
      "Flags expressions that differ from `mpql fmt`'s output. Off unless selected "
      "(`--select F001`); expressions containing comments are skipped.",
      "One spelling per filter keeps diffs small and makes the hazards above (spacing around "
      "`-`, quotes, keyword case) impossible.",
      "properties['a']==1 AND NOT defined(properties[\"b\"])",
      'properties["a"] == 1 and not defined(properties["b"])',
      fix="safe", default_enabled=False)

# --- X: extraction ----------------------------------------------------------------------------

_rule("X001", "not-checkable", "info",
      "expression built at run time",
      "Notes expressions passed to a Mixpanel call in Python (`where=`/`on=`/`selector=` "
      "arguments or dict values; see docs/lint.md, \"Extraction\") that are built with an "
      "f-string, `%`, `.format()` or `+` concatenation. Strings given to other libraries "
      "(pandas, Django, SQL builders) are not Mixpanel expressions and are never reported.",
      "Only literal text can be checked; mpql does not guess what a template produces. Build "
      "expressions with mpql's builder (values are escaped) or check them at run time with "
      "`mpql.check()`.",
      'client.export(where=f\'properties["plan"] == "{plan}"\')',
      'client.export(where=mpql.prop("plan") == plan)')
_rule("X002", "unreadable-host-file", "error",
      "a Python or JSON file that cannot be parsed",
      "Reports a `.py` or `.json` file that is not valid Python or JSON, so no expressions could "
      "be extracted from it — when it could hold Mixpanel expressions (it mentions `mixpanel`, "
      "`mpql` or a Mixpanel API path, a JSON file also an `\"endpoint\"` key, or the config "
      "names calls or JSON files to extract); other files are not mpql's to judge. Also a "
      "`# mpql:` directive or context the linter cannot use "
      "(an unknown key or endpoint), and a `# mpql: noqa: CODE` whose code names no rule.",
      "Silently skipping the file would hide every filter in it from the linter; a misspelt "
      "directive or noqa code would be ignored without a word.",
      '{"endpoint": "export", "where": "properties[\\"a\\"] == 1",}   # trailing comma',
      "valid JSON / Python")

RULES: dict[str, Rule] = {r.code: r for r in _R}
_BY_NAME: dict[str, Rule] = {r.name: r for r in _R}
DEFAULT_OFF = frozenset(r.code for r in _R if not r.default_enabled)

_SYNTAX_DOC = ("A syntax error found by the parser. See docs/language.md for the catalogue of "
               "syntax codes and what each means; the message and help line say how to fix it.")
for _code, _name in SYNTAX_CODES.items():
    RULES.setdefault(_code, Rule(_code, _name, "error", f"syntax: {_name.replace('-', ' ')}",
                                 _SYNTAX_DOC, "Mixpanel rejects or misreads the expression.",
                                 "", "", None))
    _BY_NAME.setdefault(_name, RULES[_code])


def docs_base_url() -> str:
    """``DOCS_BASE_URL``, or ``MPQL_DOCS_URL`` from the environment when it is set."""
    import os

    base = os.environ.get("MPQL_DOCS_URL", "").strip() or DOCS_BASE_URL
    return base if base.endswith("/") else base + "/"


def rule_url(code: str) -> str:
    """The absolute URL of a code's documentation: ``<base>rules/<CODE>.md`` for lint rules,
    the code's section of ``<base>language.md`` for syntax codes (E1xx)."""
    rule = RULES.get(code)
    base = docs_base_url()
    if rule is None:
        return base + "lint.md#rules"
    if code in SYNTAX_CODES:
        # GitHub's heading anchor of "### E101 assignment-for-comparison"
        return f"{base}language.md#{code.lower()}-{rule.name}"
    return f"{base}rules/{code}.md"


def get_rule(code_or_name: str) -> Rule | None:
    key = code_or_name.strip()
    return RULES.get(key.upper()) or _BY_NAME.get(key.lower())


def resolve_selectors(selectors, *, what: str = "selector") -> set[str]:
    """Codes matched by selectors: full codes, names, prefixes (``T``, ``D00``) or ``ALL``.
    Raises ValueError naming an unknown selector."""
    out: set[str] = set()
    for raw in selectors or ():
        for sel in str(raw).split(","):
            sel = sel.strip()
            if not sel:
                continue
            if sel.upper() == "ALL":
                out.update(RULES)
                continue
            rule = get_rule(sel)
            if rule is not None:
                out.add(rule.code)
                continue
            matched = {c for c in RULES if c.startswith(sel.upper())}
            if not matched:
                raise ValueError(f"unknown rule {what} `{sel}`: expected a code (T001), a "
                                 "name (cross-type-equality), a prefix (T) or ALL")
            out.update(matched)
    return out


def render_rule_doc(rule: Rule) -> str:
    """Markdown doc for one rule (what `mpql rule CODE` prints and docs/rules/ holds)."""
    fix = {"safe": "Fix: safe (applied by `--fix`).",
           "unsafe": "Fix: unsafe (applied by `--fix --unsafe-fixes`; it changes what the "
                     "filter selects).",
           "sometimes": "Fix: available in some cases (see below), safe.",
           None: "Fix: none."}[rule.fix]
    if rule.code == "S006":
        fix = "Fix: only for `mp_country_code` ↔ `$country_code`; unsafe."
    if rule.code == "D001":
        fix = ("Fix: safe, when the literal has one unambiguous reading (`2024/01/31`, "
               "`2024-1-9`, `2024-01-31 10:00:00`); none for `1/2/2024`.")
    lines = [
        f"# {rule.code} `{rule.name}`",
        "",
        f"{rule.summary[0].upper() + rule.summary[1:]}. Default severity: **{rule.severity}**."
        + ("" if rule.default_enabled else
           f" Off by default: select it with `--extend-select {rule.code}` (or "
           f"`extend-select = [\"{rule.code}\"]` in the config)."),
        "",
        "## What it does",
        "",
        rule.what,
        "",
        "## Why is this bad?",
        "",
        rule.why,
    ]
    if rule.example:
        lines += ["", "## Example", "", "```", rule.example, "```"]
    if rule.use_instead:
        lines += ["", "## Use instead", "", "```", rule.use_instead, "```"]
    lines += ["", "## Fix", "", fix, ""]
    return "\n".join(lines)


def _write_docs(target) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for rule in _R:
        (target / f"{rule.code}.md").write_text(render_rule_doc(rule), encoding="utf-8")


if __name__ == "__main__":  # python -m mpql.checker.rules docs/rules
    from pathlib import Path

    _write_docs(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules"))
