"""Regular expressions compiled on first use instead of at import.

Compiling a pattern costs 50–500 µs; mpql's modules hold dozens of them, most of which a
given command never uses (``mpql lint -e`` needs none of the Python/JSON extractor's). Each
pattern is a :class:`LazyRegex` with the methods of a compiled pattern.
"""

from __future__ import annotations

import re

__all__ = ["LazyRegex"]

#: The attributes copied onto the instance at first use, so later calls go straight to the
#: compiled pattern (no ``__getattr__`` in the way).
_FORWARDED = ("match", "fullmatch", "search", "finditer", "findall", "sub", "subn", "split",
              "pattern", "flags", "groups", "groupindex")


class LazyRegex:
    """``re.compile(pattern, flags)``, done when a method is first used."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str):
        if name.startswith("__") or name == "_args":
            raise AttributeError(name)
        compiled = re.compile(*self._args)
        for attr in _FORWARDED:
            setattr(self, attr, getattr(compiled, attr))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyRegex({self._args[0]!r}, {self._args[1]!r})"
