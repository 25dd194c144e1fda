"""Converters for attrs fields: plain Python functions in place of the builtins.

``attrs.field(converter=tuple)`` makes attrs read the converter's signature when the class is
defined; for a builtin that means parsing its text signature (``inspect`` → ``tokenize`` and
its large regex), ~1.5 ms the first time — at import, so on every ``mpql`` start. A Python
function's signature comes from its code object and costs next to nothing.
"""

from __future__ import annotations


def to_tuple(value) -> tuple:
    return tuple(value)


def to_dict(value) -> dict:
    return dict(value)


def to_frozenset(value) -> frozenset:
    return frozenset(value)
