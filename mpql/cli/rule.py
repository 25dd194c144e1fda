"""``mpql rule CODE`` prints a lint rule's documentation; ``mpql rule --all`` lists every
rule (code, name, default severity, fix availability, summary)."""

from __future__ import annotations

import json

from ..errors import InputError
from .common import make_parser


def build_parser(prog):
    p = make_parser(prog, "Explain a lint rule (by code or name), or list them all.")
    p.add_argument("rule", nargs="?", metavar="CODE", help="a code (T001) or name")
    p.add_argument("--all", action="store_true", help="list every rule")
    p.add_argument("--format", choices=("text", "json"), default="text")
    return p


def run(args) -> int:
    from ..checker.rules import RULES, get_rule, render_rule_doc

    if args.all or not args.rule:
        if not args.all:
            raise InputError("name a rule (e.g. `mpql rule T001`) or pass --all")
        rules = [r for r in RULES.values()]
        if args.format == "json":
            print(json.dumps([_as_dict(r) for r in rules], indent=2))
            return 0
        for r in rules:
            mark = {"safe": "[*]", "unsafe": "[~]", "sometimes": "[*]"}.get(r.fix, "   ")
            off = " (off by default)" if not r.default_enabled else ""
            print(f"{r.code:5} {mark} {r.severity:7} {r.name:34} {r.summary}{off}")
        print("\n[*] safe fix available   [~] unsafe fix (--unsafe-fixes)")
        return 0
    rule = get_rule(args.rule)
    if rule is None:
        import difflib

        names = list(RULES) + [r.name for r in RULES.values()]
        guess = difflib.get_close_matches(args.rule, names, n=1)
        hint = f" (did you mean `{guess[0]}`?)" if guess else ""
        raise InputError(f"unknown rule `{args.rule}`{hint}; `mpql rule --all` lists them")
    if args.format == "json":
        print(json.dumps(_as_dict(rule), indent=2))
    else:
        print(render_rule_doc(rule))
    return 0


def _as_dict(rule) -> dict:
    return {"code": rule.code, "name": rule.name, "severity": rule.severity,
            "summary": rule.summary, "fix": rule.fix, "default_enabled": rule.default_enabled,
            "what": rule.what, "why": rule.why, "example": rule.example,
            "use_instead": rule.use_instead}
