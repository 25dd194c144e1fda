"""Which string literals in a Python file are Mixpanel expressions.

A `where=` keyword or a ``"where"`` dict key is not, by itself, a Mixpanel expression:
pandas (``HDFStore.select(where=…)``, ``merge(on=…)``), Django (``QuerySet.extra(where=…)``),
sqlite-utils (``rows_where(where=…)``), Mongo filters and SQL builders use the same words.
Linting them produced nonsense findings and ``--fix`` rewrote other people's strings. So a
literal is an expression only when it reaches a call that is clearly Mixpanel:

* **mpql** itself: any call into ``mpql`` (``mpql.check``, ``mpql.parse``, ``Query.events``,
  ``Query.profiles``, ``Client.events``…). For the functions whose first argument is the
  expression (``check``, ``parse``, ``format``, ``evaluate``, ``compile_predicate``,
  ``explain``, ``events``, ``profiles``), that argument too.
* **Mixpanel client libraries** (``LIBRARIES``: mixpanel-utils ``MixpanelUtils``, its
  predecessor ``mixpanel_api.Mixpanel``, mixpanel-headless ``Workspace`` and its former name
  ``mixpanel_data``, mixpanel-query-py, mixpanel-jql selectors, mixpanel-export-stream,
  and the tracking SDK ``mixpanel.Mixpanel``): calls into them and on instances of their
  classes. A project's own ``mixpanel_helpers`` module is not a known library: name it in the
  config. Arguments that carry data rather than queries are skipped:
  positional arguments of ``track*``/``people_*``/``group_*``/``import*``/``alias``/``merge``
  methods (the profile values of ``people_set(value, query_params=…)``, the event properties
  of mixpanel-python's ``track``) and ``properties=``/``value=``/``meta=``/``profiles=``.
* **HTTP calls to Mixpanel**: ``requests``, ``httpx`` and ``aiohttp`` calls (module functions,
  ``Session``/``Client``/``AsyncClient``/``ClientSession`` instances) whose URL — a literal, an
  f-string, a ``+`` concatenation or a simple constant (module, class or local name, also
  ``self.X``), joined to the client's ``base_url`` — names a Mixpanel host (``mixpanel.com``
  and its ``eu.``/``in.``/``data.``/``data-eu.``… subdomains) or a Mixpanel API path
  (``/api/2.0/export``, ``/api/query/engage``…). The endpoint comes from the URL path, so the
  scope rules (S003 on export, S004 on engage) apply to the request actually made. A URL that
  cannot be read but is named for Mixpanel (``settings.MIXPANEL_EXPORT_URL``) counts too, with
  the endpoint its name gives.
* **User-configured calls** (``[tool.mpql.extract] calls``): glob patterns matched against
  the call's dotted name after import aliases and simple instance types are resolved
  (``from myapp import mp`` → ``mp.query(…)`` is ``myapp.mp.query``; ``c = myapp.Client()`` →
  ``c.run(…)`` is ``myapp.Client.run``).

Within such a call the expression is a ``where``/``on``/``selector``/``born_where`` keyword,
or a value under those keys in a dict given to the call — as a literal, through ``dict(…)``,
nested dicts and lists, or a variable bound in the same function (``params = {…}``,
``params["where"] = "…"``). A variable holding a string constant is followed to the literal.

The name resolution is deliberately simple (one file, assignments by scope, no type
inference): it never guesses that an unknown call is Mixpanel. What it cannot see can be
named in the config.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from typing import Iterator

__all__ = ["mixpanel_sites", "url_endpoint", "is_mixpanel_url", "KEYS", "LIBRARIES"]

#: Keys whose string value is an expression, and the parameter each stands for.
KEYS = {"where": "where", "selector": "where", "born_where": "born_where", "on": "on"}

_MP_HOST = re.compile(r"(?:^|[/@.])(?:[a-z0-9-]+\.)*mixpanel\.com(?=[:/?#{]|$)", re.I)
_MP_PATH = re.compile(r"(?:^|/)api/(?:2\.0|query)/(?:export|engage|segmentation|funnels|"
                      r"retention|jql)(?=[/?#{]|$)", re.I)
_ENDPOINT_IN_URL = re.compile(r"/(export|engage|segmentation|funnels|retention|jql)"
                              r"(?=[/?#{]|$)", re.I)
#: words in a library or configured method's name → endpoint
_ENDPOINT_WORDS = [("engage", "engage"), ("profile", "engage"), ("people", "engage"),
                   ("export", "export"), ("segmentation", "segmentation"),
                   ("funnel", "funnels"), ("retention", "retention"), ("jql", "jql")]
#: top-level modules of the Mixpanel client libraries users import (docs/lint.md lists them)
LIBRARIES = frozenset({"mixpanel", "mixpanel_utils", "mixpanel_api", "mixpanel_headless",
                       "mixpanel_data", "mixpanel_query", "mixpanel_jql", "mixpanel_export"})
_HTTP_MODULES = {"requests", "httpx", "aiohttp"}
_HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request",
                 "stream"}
# mpql functions whose first argument is an expression: module functions (`mpql.check`,
# `mpql.language.parse`, …) and the query constructors (`Query.events`, `Client.profiles`).
# Not every `events` method: `Sandbox.events(from_date, to_date)` takes dates.
_MPQL_EXPR_FUNCTIONS = {"check", "parse", "format", "evaluate", "compile_predicate",
                        "compile_expression", "explain"}
_MPQL_EXPR_MODULES = {"mpql", "checker", "language", "evaluator"}
_MPQL_EXPR_METHODS = {"events", "profiles"}
_MPQL_EXPR_CLASSES = {"Query", "Client"}
_DATA_METHOD = re.compile(r"^(track|people_|group_|import|alias|merge)")
_DATA_KEYWORDS = {"properties", "value", "values", "meta", "profiles"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)


def is_mixpanel_url(url: str) -> bool:
    return bool(_MP_HOST.search(url) or _MP_PATH.search(url))


def url_endpoint(url: str) -> str | None:
    """The Mixpanel endpoint a URL's path names (the last one), or None."""
    found = _ENDPOINT_IN_URL.findall(url)
    return found[-1].lower() if found else None


def _words_endpoint(name: str) -> str | None:
    lowered = name.lower()
    for word, endpoint in _ENDPOINT_WORDS:
        if word in lowered:
            return endpoint
    return None


def mixpanel_sites(tree: ast.Module, calls: tuple = ()) -> Iterator[tuple]:
    """(value node, key, site settings) for every expression found; ``key`` is one of KEYS,
    ``site`` holds ``endpoint`` when known. A literal sent to several endpoints (a constant
    used for an engage and an export request) is yielded once per endpoint, so each request's
    scope rules apply; the linter merges identical findings."""
    model = _Model(tree, tuple(calls))
    seen: dict = {}
    for node in model.calls:
        site = model.classify(node)
        if site is None:
            continue
        for value, key, endpoint in model.scan_call(node, site):
            value = model.follow_string(value, node)
            entry = seen.setdefault(id(value), (value, key, []))
            if endpoint not in entry[2]:
                entry[2].append(endpoint)
    for value, key, endpoints in seen.values():
        known = [e for e in endpoints if e] or [None]
        for endpoint in known:
            yield value, key, ({"endpoint": endpoint} if endpoint else {})


def _dotted(node) -> str | None:
    """``a.b.c`` for a chain of names, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class _Model:
    def __init__(self, tree: ast.Module, patterns: tuple):
        self.patterns = patterns
        self.parent: dict = {}
        self.aliases: dict = {}
        self.calls: list = []
        # (scope node id, dotted target) → list of assigned value nodes
        self.assigned: dict = {}
        # (scope node id, name) → list of (key, value) from `name["key"] = value`
        self.items: dict = {}
        # One top-down pass: a node's ancestors all have their parent recorded before the
        # node itself is looked at, which is all the scope lookups in _bind need.
        stack = [tree]
        parent = self.parent
        while stack:
            node = stack.pop()
            for field in node._fields:
                value = getattr(node, field, None)
                if isinstance(value, ast.AST):
                    parent[id(value)] = node
                    stack.append(value)
                elif isinstance(value, list):
                    for item in value:
                        if isinstance(item, ast.AST):
                            parent[id(item)] = node
                            stack.append(item)
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        self.aliases.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Call):
                self.calls.append(node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if node.value is None:
                    if isinstance(node, ast.AnnAssign):
                        self._bind(node.target, node.annotation, node, annotation=True)
                    continue
                for target in targets:
                    self._bind(target, node.value, node)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                self._bind(node.optional_vars, node.context_expr, node)
            elif isinstance(node, ast.arg) and node.annotation is not None:
                self._bind(ast.Name(node.arg), node.annotation, node, annotation=True,
                           scope=self._scope_of(node))
        self.calls.sort(key=lambda c: (c.lineno, c.col_offset))  # source order
        self._resolving: set = set()

    # -- scopes and bindings -----------------------------------------------------------------

    def _scope_of(self, node):
        """The nearest enclosing function, lambda, class or module."""
        current = self.parent.get(id(node))
        while current is not None and not isinstance(current, _SCOPES):
            current = self.parent.get(id(current))
        return current

    def _scope_for(self, node, dotted: str):
        """Where a name is bound: ``self.x``/``cls.x`` in the enclosing class, other names in
        the enclosing function (then the module: see ``_lookup``)."""
        scope = self._scope_of(node)
        if dotted.split(".")[0] in ("self", "cls"):
            while scope is not None and not isinstance(scope, (ast.ClassDef, ast.Module)):
                scope = self._scope_of(scope)
        return scope

    def _bind(self, target, value, at, annotation=False, scope=None):
        if isinstance(target, ast.Subscript):
            name = _dotted(target.value)
            key = target.slice
            if name and isinstance(key, ast.Constant) and isinstance(key.value, str):
                scope = self._scope_for(at, name)
                self.items.setdefault((id(scope), name), []).append((key.value, value))
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            return  # unpacking: not a simple binding
        name = _dotted(target)
        if name is None:
            return
        scope = scope if scope is not None else self._scope_for(at, name)
        wrapped = ("annotation", value) if annotation else value
        self.assigned.setdefault((id(scope), name), []).append(wrapped)

    def _lookup(self, name: str, at) -> list:
        """Values bound to ``name`` as seen from node ``at``: its own scope first, then the
        enclosing ones up to the module (``self.X`` also finds a class attribute ``X``)."""
        scope = self._scope_for(at, name)
        while scope is not None:
            found = self.assigned.get((id(scope), name))
            if found:
                return found
            if isinstance(scope, ast.ClassDef) and "." in name \
                    and name.split(".")[0] in ("self", "cls"):
                found = self.assigned.get((id(scope), name.split(".", 1)[1]))
                if found:
                    return found
            scope = self._scope_of(scope) if not isinstance(scope, ast.Module) else None
        return []

    def _items(self, name: str, at) -> list:
        scope = self._scope_for(at, name)
        while scope is not None:
            found = self.items.get((id(scope), name))
            if found:
                return found
            scope = self._scope_of(scope) if not isinstance(scope, ast.Module) else None
        return []

    # -- names and types -----------------------------------------------------------------------

    def qualname(self, node, at=None) -> str | None:
        """The dotted name a callee resolves to: import aliases applied, a variable holding an
        instance (``x = mod.Class()``, ``with mod.Client() as x``, ``x: mod.Class``) replaced
        by its class, a call replaced by what it calls (``requests.Session().get``)."""
        at = at if at is not None else node
        tail: list = []  # attributes after calls, innermost last (a loop: chains can be long)
        while True:
            if isinstance(node, ast.Call):
                node = node.func
            elif isinstance(node, ast.Attribute) and _dotted(node) is None:
                tail.append(node.attr)
                node = node.value
            else:
                break
        dotted = _dotted(node)
        if dotted is None:
            return None
        parts = dotted.split(".")
        base = None
        for cut in range(len(parts), 0, -1):  # the longest prefix that is a typed instance
            typed = self._instance_type(".".join(parts[:cut]), at)
            if typed:
                base = ".".join([typed] + parts[cut:])
                break
        if base is None:
            head = self.aliases.get(parts[0], parts[0])
            base = ".".join([head] + parts[1:])
        return ".".join([base] + list(reversed(tail)))

    def _instance_type(self, dotted: str, at) -> str | None:
        if dotted in self._resolving:
            return None
        self._resolving.add(dotted)
        try:
            for value in reversed(self._lookup(dotted, at)):
                if isinstance(value, tuple):  # an annotation names the class itself
                    return self.qualname(value[1], at)
                if isinstance(value, ast.Call):
                    return self.qualname(value.func, value)
                if isinstance(value, (ast.Name, ast.Attribute)):  # x = other_client
                    return self.qualname(value, value)
            return None
        finally:
            self._resolving.discard(dotted)

    def _instance_call(self, dotted: str, at) -> ast.Call | None:
        for value in reversed(self._lookup(dotted, at)):
            if isinstance(value, ast.Call):
                return value
        return None

    def string(self, node, at=None, depth: int = 0) -> str | None:
        """A string node's value as far as it is known statically (unknown parts as ``{}``),
        or None when nothing is known."""
        at = at if at is not None else node
        if depth > 8:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append(str(v.value))
                else:
                    inner = self.string(getattr(v, "value", None), at, depth + 1)
                    parts.append(inner if inner is not None else "{}")
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            left = self.string(node.left, at, depth + 1)
            if isinstance(node.op, ast.Mod):
                return left
            right = self.string(node.right, at, depth + 1)
            if left is None and right is None:
                return None
            return (left if left is not None else "{}") + (right if right is not None else "{}")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "format":
                return self.string(func.value, at, depth + 1)
            name = (self.qualname(func, at) or "").rsplit(".", 1)[-1]
            if name in ("urljoin", "join") and node.args:
                parts = [self.string(a, at, depth + 1) for a in node.args]
                if all(p is None for p in parts):
                    return None
                return "/".join((p if p is not None else "{}").strip("/") for p in parts)
            return None
        if isinstance(node, (ast.Name, ast.Attribute)):
            dotted = _dotted(node)
            if dotted is None or dotted in self._resolving:
                return None
            self._resolving.add(dotted)
            try:
                for value in reversed(self._lookup(dotted, at)):
                    if not isinstance(value, tuple):
                        found = self.string(value, value, depth + 1)
                        if found is not None:
                            return found
            finally:
                self._resolving.discard(dotted)
        return None

    # -- which calls are Mixpanel ------------------------------------------------------------

    def classify(self, call: ast.Call) -> dict | None:
        """Site settings (``kind``, ``endpoint``, ``method``) for a Mixpanel call, else None."""
        q = self.qualname(call.func, call)
        if not q:
            return None
        parts = q.split(".")
        top, method = parts[0], parts[-1]
        endpoint = None
        for kw in call.keywords:
            if kw.arg == "endpoint" and isinstance(kw.value, ast.Constant) \
                    and isinstance(kw.value.value, str):
                endpoint = kw.value.value
        if top == "mpql":
            owner = parts[-2] if len(parts) > 1 else ""
            expr_first = (method in _MPQL_EXPR_FUNCTIONS and owner in _MPQL_EXPR_MODULES) or (
                method in _MPQL_EXPR_METHODS and owner in _MPQL_EXPR_CLASSES)
            if endpoint is None and expr_first and method == "profiles":
                endpoint = "engage"
            return {"kind": "mpql", "endpoint": endpoint, "method": method,
                    "expr_first": expr_first}
        if top in LIBRARIES:
            if endpoint is None:
                endpoint = "jql" if top == "mixpanel_jql" else _words_endpoint(method)
            return {"kind": "library", "endpoint": endpoint, "method": method}
        if top in _HTTP_MODULES and method.lower() in _HTTP_METHODS:
            url = self._request_url(call, method.lower())
            if url is not None and is_mixpanel_url(url):
                return {"kind": "http", "endpoint": endpoint or url_endpoint(url),
                        "method": method}
            return None
        if any(fnmatch.fnmatchcase(q, p) for p in self.patterns):
            return {"kind": "configured", "endpoint": endpoint or _words_endpoint(method),
                    "method": method}
        return None

    def _request_url(self, call: ast.Call, method: str) -> str | None:
        url_node = None
        for kw in call.keywords:
            if kw.arg == "url":
                url_node = kw.value
        if url_node is None:
            index = 1 if method in ("request", "stream") else 0
            if len(call.args) > index:
                url_node = call.args[index]
        url = self.string(url_node, call) if url_node is not None else None
        base = self._base_url(call)
        if base is not None and (url is None or "://" not in url):
            url = base.rstrip("/") + "/" + (url or "").lstrip("/")
        if (url is None or not is_mixpanel_url(url)) and url_node is not None:
            # A URL kept elsewhere (`from settings import MIXPANEL_EXPORT_URL`) cannot be
            # read, but its name says what it is: a pseudo URL carries the endpoint its name
            # gives (`…EXPORT…` → export), or none.
            names = " ".join(_dotted(n) or "" for n in ast.walk(url_node)
                             if isinstance(n, (ast.Name, ast.Attribute)))
            if "mixpanel" in names.lower():
                endpoint = _words_endpoint(names)
                return "https://mixpanel.com/" + (f"api/2.0/{endpoint}" if endpoint else "")
        return url

    def _base_url(self, call: ast.Call) -> str | None:
        """``base_url=`` of the client a method is called on (``httpx.Client(base_url=…)``)."""
        func = call.func
        if not isinstance(func, ast.Attribute):
            return None
        owner = func.value
        made = owner if isinstance(owner, ast.Call) else None
        if made is None:
            dotted = _dotted(owner)
            made = self._instance_call(dotted, call) if dotted else None
        if made is None:
            return None
        for kw in made.keywords:
            if kw.arg == "base_url":
                return self.string(kw.value, made)
        return None

    # -- where the expressions are in a Mixpanel call ----------------------------------------

    def scan_call(self, call: ast.Call, site: dict) -> Iterator[tuple]:
        endpoint = site["endpoint"]
        data_method = site["kind"] == "library" and _DATA_METHOD.match(site["method"])
        args = list(call.args)
        if site["kind"] == "mpql" and site["expr_first"] and args:
            param = "where"
            for kw in call.keywords:
                if kw.arg == "param" and isinstance(kw.value, ast.Constant) \
                        and kw.value.value in ("where", "on"):
                    param = kw.value.value
            yield args.pop(0), param, endpoint
        for kw in call.keywords:
            if kw.arg in KEYS:
                yield kw.value, kw.arg, endpoint
            elif kw.arg is None or (site["kind"] != "library" or kw.arg not in _DATA_KEYWORDS):
                yield from self.scan_value(kw.value, endpoint, call, 0)
        if not data_method:
            for arg in args:
                yield from self.scan_value(arg, endpoint, call, 0)

    def scan_value(self, node, endpoint, at, depth) -> Iterator[tuple]:
        """Expressions inside an argument: dicts (also through a variable), lists, dict()."""
        if depth > 6:
            return
        if isinstance(node, ast.Dict):
            own = endpoint
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "endpoint" \
                        and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    own = value.value
            for key, value in zip(node.keys, node.values):
                if key is None:  # {**base, ...}
                    yield from self.scan_value(value, own, at, depth + 1)
                elif isinstance(key, ast.Constant) and key.value in KEYS:
                    yield value, key.value, own
                else:
                    yield from self.scan_value(value, own, at, depth + 1)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for item in node.elts:
                yield from self.scan_value(item, endpoint, at, depth + 1)
        elif isinstance(node, ast.Starred):
            yield from self.scan_value(node.value, endpoint, at, depth + 1)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "dict":
            for kw in node.keywords:
                if kw.arg in KEYS:
                    yield kw.value, kw.arg, endpoint
                elif kw.arg is None:
                    yield from self.scan_value(kw.value, endpoint, at, depth + 1)
            for arg in node.args:
                yield from self.scan_value(arg, endpoint, at, depth + 1)
        elif isinstance(node, (ast.Name, ast.Attribute)):
            dotted = _dotted(node)
            if dotted is None or dotted in self._resolving:
                return
            self._resolving.add(dotted)
            try:
                for value in self._lookup(dotted, at):
                    if not isinstance(value, tuple) and isinstance(
                            value, (ast.Dict, ast.Call, ast.List, ast.Tuple)):
                        yield from self.scan_value(value, endpoint, value, depth + 1)
                for key, value in self._items(dotted, at):
                    if key in KEYS:
                        yield value, key, endpoint
            finally:
                self._resolving.discard(dotted)

    def follow_string(self, value, at):
        """A variable holding a string constant (``WHERE = '…'``) → that literal, so the
        finding and the fix land where the text is written."""
        if isinstance(value, (ast.Name, ast.Attribute)):
            dotted = _dotted(value)
            if dotted:
                found = self._lookup(dotted, value)
                literal = [v for v in found if isinstance(v, (ast.Constant, ast.JoinedStr,
                                                              ast.BinOp))]
                if len(found) == 1 and literal:
                    return literal[0]
        return value
