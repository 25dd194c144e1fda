"""Reaching the layers other parts of mpql provide (checker, evaluator, planner, executor,
sandbox) from the REPL: imported when first needed, and a clear "not available yet" when a build
lacks one, instead of pretending."""

from __future__ import annotations

from importlib import import_module

from ..errors import MpqlError

__all__ = ["Unavailable", "layer"]


class Unavailable(MpqlError):
    """A layer this command needs is not part of this build of mpql (yet)."""


def layer(module: str, what: str, *names: str):
    """``module`` if it exists and defines ``names``; else Unavailable saying what is missing."""
    try:
        mod = import_module(module)
    except ImportError as exc:
        if exc.name and not module.startswith(exc.name):
            raise  # a real import error inside the layer: show it, do not hide it
        mod = None
    missing = [n for n in names if mod is None or not hasattr(mod, n)]
    if mod is None or missing:
        needs = ", ".join(f"{module}.{n}" for n in missing) if missing else module
        raise Unavailable(f"{what} is not available yet: it needs {needs}, which this build "
                          "of mpql does not have")
    return mod
