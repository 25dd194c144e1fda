"""Linter configuration: ``[tool.mpql]`` in ``pyproject.toml`` or the top level of
``mpql.toml`` (``[tool.mpql.lint]`` / ``[lint]`` may hold the lint keys too).

The nearest of ``mpql.toml`` and ``pyproject.toml`` (with a ``[tool.mpql]`` table) found in
the current directory or its parents is used; ``--config`` names one explicitly and
``--isolated`` ignores them. Keys (``-`` and ``_`` are interchangeable)::

    select, extend-select, ignore   codes, names, prefixes or ALL
    endpoint, param, behaviors      default context
    schema                          schema file, relative to the config file
    per-file-ignores                {glob: [codes]}
    severity                        {selector: error | warning | info}, e.g. {U004 = "error"}
    fail-on                         error | warning | info (default warning)
    baseline                        baseline file (see checker/baseline.py), relative to the
                                    config file
    extract.calls                   glob patterns of Python calls that take Mixpanel
                                    expressions (``["myapp.mp.query", "*.run_mixpanel"]``)
    extract.json                    globs of JSON files whose every where/on/selector key is
                                    an expression (``["queries/*.json"]``)

TOML is read with ``tomllib`` (Python 3.11+) or, on 3.10, with ``tomli`` (a runtime dependency
there); an install without it makes a config file an error that says so.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:  # pathlib is imported only when a config file is found (start-up time)
    from pathlib import Path

__all__ = ["find_config", "load_config", "KEYS"]

KEYS = ("select", "extend_select", "ignore", "endpoint", "param", "behaviors", "schema",
        "per_file_ignores", "fail_on", "severity", "baseline", "extract")
_EXTRACT_KEYS = ("calls", "json")


def _toml():
    try:
        import tomllib  # type: ignore[import-not-found]
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            return None
    return tomllib


def find_config(start) -> Path | None:
    """The nearest ``mpql.toml``, or ``pyproject.toml`` with a ``[tool.mpql…]`` table, in
    ``start`` or its parents. Walks with ``os.path`` and reads no TOML: ``mpql lint -e`` runs
    this on every start, usually under a pyproject.toml that has nothing for mpql."""
    folder = os.path.realpath(os.fspath(start))
    while True:
        candidate = os.path.join(folder, "mpql.toml")
        if os.path.isfile(candidate):
            return _path(candidate)
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                text = ""  # unreadable: not a config, keep looking
            if _MPQL_TABLE.search(text):
                return _path(candidate)
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


#: A table header ``[tool.mpql]``, ``[tool.mpql.lint]``, … at the start of a line (spaces and
#: quotes allowed as TOML allows them). ``[tool.mpql`` in a comment or a string elsewhere on
#: a line (a dependency's comment, say) does not make a pyproject.toml an mpql config.
_MPQL_TABLE = re.compile(r"""^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*(?:mpql|"mpql"|'mpql')[ \t]*[.\]]""",
                         re.MULTILINE)


def _path(name: str) -> Path:
    from pathlib import Path

    return Path(name)


def load_config(path: Path) -> dict:
    """The lint settings of a config file, with ``schema`` resolved against its folder."""
    toml = _toml()
    if toml is None:
        raise ConfigError(f"{path}: reading TOML config needs Python 3.11+ or the `tomli` "
                          "package (pip install tomli); or pass --isolated to ignore it")
    try:
        data = toml.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    except Exception as exc:  # tomllib.TOMLDecodeError: message has line and column
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("mpql", {})
    else:
        table = data
    settings = {}
    for source in (table, table.get("lint", {})):
        for key, value in source.items():
            if key == "lint" and source is table:
                continue
            norm = key.replace("-", "_")
            if norm not in KEYS:
                if source is table and isinstance(value, dict):
                    continue  # another command's table, e.g. [tool.mpql.sandbox]
                raise ConfigError(f"{path}: unknown key `{key}` in the mpql config; expected "
                                  "one of " + ", ".join(k.replace("_", "-") for k in KEYS))
            settings[norm] = value
    for key in ("select", "extend_select", "ignore"):
        if key in settings:
            value = settings[key]
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list):
                raise ConfigError(f"{path}: `{key.replace('_', '-')}` must be a list of codes")
            settings[key] = tuple(value)
    if "per_file_ignores" in settings:
        pfi = settings["per_file_ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError(f"{path}: `per-file-ignores` must map globs to lists of codes")
        for glob, codes in pfi.items():
            if not isinstance(codes, (str, list)):
                raise ConfigError(f"{path}: per-file-ignores `{glob}` must be a list of rule "
                                  f"codes, found {codes!r}")
        settings["per_file_ignores"] = {
            str(k): tuple([v] if isinstance(v, str) else v) for k, v in pfi.items()}
    if "extract" in settings:
        settings["extract"] = _extract(path, settings["extract"])
    _validate(path, settings)
    if "schema" in settings:
        settings["schema"] = str((path.parent / settings["schema"]).resolve())
    if "baseline" in settings:
        settings["baseline"] = str((path.parent / settings["baseline"]).resolve())
    if "behaviors" in settings and isinstance(settings["behaviors"], list):
        settings["behaviors"] = ",".join(settings["behaviors"])
    return settings


def _validate(path: Path, settings: dict) -> None:
    """Check every value's type and meaning here, so a bad config is one clear error naming
    the file and the key, not a crash or a finding on every expression."""
    from .engine import Context
    from .rules import resolve_selectors

    def bad(key: str, expected: str, found) -> ConfigError:
        return ConfigError(f"{path}: `{key.replace('_', '-')}` must be {expected}, "
                           f"found {found!r}")

    for key in ("endpoint", "param", "fail_on", "schema", "baseline"):
        if key in settings and not isinstance(settings[key], str):
            raise bad(key, "a string", settings[key])
    behaviors = settings.get("behaviors")
    if behaviors is not None and not isinstance(behaviors, str) and not (
            isinstance(behaviors, list) and all(isinstance(b, str) for b in behaviors)):
        raise bad("behaviors", "a list of behavior names", behaviors)
    if settings.get("fail_on", "warning") not in ("error", "warning", "info"):
        raise bad("fail_on", "error, warning or info", settings["fail_on"])
    try:
        Context.make(settings.get("endpoint"), settings.get("param"))
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if "severity" in settings:
        settings["severity"] = _severities(path, settings["severity"], resolve_selectors)
    groups = [(k, settings[k]) for k in ("select", "extend_select", "ignore") if k in settings]
    groups += [(f"per-file-ignores `{glob}`", codes)
               for glob, codes in settings.get("per_file_ignores", {}).items()]
    for key, codes in groups:
        if not all(isinstance(c, str) for c in codes):
            raise bad(key, "a list of rule codes", list(codes))
        try:
            resolve_selectors(codes)
        except ValueError as exc:
            raise ConfigError(f"{path}: `{key.replace('_', '-')}`: {exc}") from None


def _severities(path: Path, table, resolve_selectors) -> dict:
    """``{selector: severity}`` → ``{code: severity}``; a more specific selector wins over a
    prefix (``{"U" = "info", "U004" = "error"}``), whatever the order in the file."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: `severity` must map rule codes to error, warning or info "
                          f"(e.g. [tool.mpql.severity] U004 = \"error\"), found {table!r}")
    out: dict = {}
    ranked = []
    for selector, level in table.items():
        if level not in ("error", "warning", "info"):
            raise ConfigError(f"{path}: severity of `{selector}` must be error, warning or "
                              f"info, found {level!r}")
        try:
            codes = resolve_selectors([selector])
        except ValueError as exc:
            raise ConfigError(f"{path}: `severity`: {exc}") from None
        ranked.append((-len(codes), selector, codes, level))
    for _, _, codes, level in sorted(ranked, key=lambda r: r[0]):
        out.update(dict.fromkeys(codes, level))  # broad first, so narrow selectors win
    return out


def _extract(path: Path, table) -> dict:
    """``[tool.mpql.extract]``: ``calls`` and ``json``, each a list of glob strings."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: `extract` must be a table with `calls` and/or `json` "
                          f"(e.g. [tool.mpql.extract] calls = [\"myapp.mp.query\"]), found "
                          f"{table!r}")
    out = {}
    for key, value in table.items():
        norm = key.replace("-", "_")
        if norm not in _EXTRACT_KEYS:
            raise ConfigError(f"{path}: unknown key `extract.{key}`; expected calls or json")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            what = ("call names or glob patterns, e.g. [\"myapp.mp.query\"]" if norm == "calls"
                    else "file globs, e.g. [\"queries/*.json\"]")
            raise ConfigError(f"{path}: `extract.{key}` must be a list of {what}, found "
                              f"{value!r}")
        out[norm] = tuple(v.strip() for v in value)
    return out
