"""The happy-path parser: lark's LALR(1) tables (generated into ``_tables.py`` by
``mpql.language.tablegen``) run by a small driver, with one compiled master regex per
contextual-lexer state. No lark import.

It accepts exactly what lark's parser accepts and builds the same tree: the tables, the
terminal patterns and their order, and the shaping of each reduction's children (lark's child
filters, ``?rule`` inlining, ``[x]`` placeholders) are all read off lark at generation time,
and the reductions call the same ``_ToAst`` callbacks. When the input is not valid (no token
matches, or the table has no action for a token), it raises ``Mismatch`` and the caller re-runs
lark's parser, whose exceptions drive the friendly E1xx diagnostics — errors are the slow path.
A callback's own error (``_ConvertError``: unknown function, bad escape …) propagates as is:
it is raised at the same reduction lark would reach (tests/test_language_fast.py checks both
parsers agree on the golden corpus and on random text).
"""

from __future__ import annotations

import re

from . import _tables as T

__all__ = ["Mismatch", "Token", "make_parser"]


class Mismatch(Exception):
    """The text is not in the language: let lark's parser explain why."""


class Token:
    """A lexed token, with the attributes of lark's ``Token`` that the callbacks read."""

    __slots__ = ("type", "value", "start_pos", "end_pos")

    def __init__(self, type_, value, start_pos, end_pos):
        self.type = type_
        self.value = value
        self.start_pos = start_pos
        self.end_pos = end_pos

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Token({self.type!r}, {self.value!r}, {self.start_pos})"


class _Tree:
    """An internal ``__rule`` result (e.g. the repetition in ``arguments``); its parent's
    child filter splices the children in, as lark does."""

    __slots__ = ("children",)

    def __init__(self, children):
        self.children = children


def _shaper(flt, expand1, fn):
    """A reduction callback that shapes children as lark's wrapper chain does: child filter
    (outermost), then single-child inlining, then the user callback (or a ``_Tree``)."""
    inner = fn if fn is not None else _Tree
    if expand1:
        base = inner

        def inner(children):
            return children[0] if len(children) == 1 else base(children)

    if flt is None:
        return inner
    include, append_none = flt

    def filtered(children):
        out = []
        for i, expand, nones in include:
            if nones:
                out += [None] * nones
            if expand:
                out += children[i].children
            else:
                out.append(children[i])
        if append_none:
            out += [None] * append_none
        return inner(out)

    return filtered


def make_parser(callbacks):
    """``text -> (value, number of tokens)`` for the grammar's start symbol, reductions
    calling methods of ``callbacks`` (an ``_ToAst``). Raises ``Mismatch`` on text lark would
    reject."""
    actions = T.ACTIONS
    start, end_state = T.START, T.END
    ignore = frozenset(T.IGNORE)
    # lark's contextual lexer has one master regex per set of acceptable terminals, but
    # compiling ~20 of them costs more than a whole `mpql lint -e` run's parsing. Every
    # state's terminal order is the root order restricted (tablegen checks it), so the root
    # regex finds the same token whenever the terminal it matches is acceptable in the
    # state; only when it is not (`or` where only a name can stand) is the state's own regex
    # compiled and consulted.
    def source(names):
        return "|".join(f"(?P<{name}>{T.TERMINALS[name]})" for name in names)

    root_match = None
    accepted = tuple(frozenset(T.LEXERS[k]) for k in T.STATE_LEXER)
    compiled: list = [None] * len(T.LEXERS)
    state_lexer = T.STATE_LEXER

    def state_match(state, text, pos):
        k = state_lexer[state]
        if compiled[k] is None:
            compiled[k] = re.compile(source(T.LEXERS[k])).match
        return compiled[k](text, pos)

    # Rules: (origin, size, reduce function or None for "inline the single child").
    rules = []
    for origin, size, flt, expand1, name in T.RULES:
        fn = getattr(callbacks, name) if name is not None else None
        if expand1 and flt is None and size == 1:
            rules.append((origin, size, None))
        elif flt is None and not expand1 and fn is not None:
            rules.append((origin, size, fn))
        else:
            rules.append((origin, size, _shaper(flt, expand1, fn)))
    rules = tuple(rules)
    unit_memo: dict = {}

    def unit_chain(key):
        below, state, typ = key
        while True:
            act = actions[state].get(typ)
            if act is None or act >= 0 or state == end_state:
                break
            origin, _size, fn = rules[-1 - act]
            if fn is not None:
                break
            state = actions[below][origin]
        unit_memo[key] = state
        return state

    def parse(text):
        nonlocal root_match
        if root_match is None:
            # Whitespace before a token is taken in the same match (the optional prefix):
            # no other terminal can start with whitespace, so this finds the same tokens at
            # half the matches (the tests compare against lark on random text).
            skip = f"(?:{T.TERMINALS['WS']})?" if "WS" in ignore else ""
            root_match = re.compile(f"{skip}(?:{source(T.ROOT)})").match
        n = len(text)
        pos = 0
        states = [start]
        values = []
        state = start
        count = 0
        while True:
            # Next token, lexed with the current state's lexer (lark's contextual lexer).
            while True:
                if pos >= n:
                    typ = "$END"
                    tok = None
                    break
                m = root_match(text, pos)
                if m is None or m.lastgroup not in accepted[state]:
                    m = state_match(state, text, pos)
                    if m is None:
                        raise Mismatch
                typ = m.lastgroup
                end = m.end()
                if typ in ignore:
                    pos = end
                    continue
                start_pos = m.start(typ)
                tok = Token(typ, text[start_pos:end], start_pos, end)
                pos = end
                count += 1
                break
            act = actions[state].get(typ)
            if act is None:
                raise Mismatch
            while act < 0:
                origin, size, fn = rules[-1 - act]
                if fn is None:
                    # `?rule: child` chains (atom → unary → … → expr) leave the value alone
                    # and only move the top state; where a chain ends depends only on the
                    # state below, the top state and the lookahead, so it is memoised.
                    key = (states[-2], state, typ)
                    state = unit_memo.get(key)
                    if state is None:
                        state = unit_chain(key)
                    states[-1] = state
                else:
                    children = values[-size:]
                    del states[-size:]
                    del values[-size:]
                    values.append(fn(children))
                    state = actions[states[-1]][origin]
                    states.append(state)
                if tok is None and state == end_state:
                    return values[-1], count
                act = actions[state].get(typ)
                if act is None:
                    raise Mismatch
            if tok is None:  # pragma: no cover - the tables never shift $END
                raise Mismatch
            state = act
            states.append(state)
            values.append(tok)

    return parse
