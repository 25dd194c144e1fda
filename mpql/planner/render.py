"""Plans for people and machines: ``explain`` (text), ``to_json``/``to_dict``, ``to_curl``.

``to_curl`` renders exactly the requests ``expand`` would send (so it is also a test of them),
in the layout of Mixpanel's documented curl examples, with ``"$MP_USERNAME:$MP_SECRET"`` (or
``"$MP_SECRET:"`` for a project secret) in double quotes so the shell fills them in from the
environment — a plan never holds a secret. Every other piece is single-quoted; the encoder
percent-encodes ``'``, so nothing in a URL or body can end the quoting. ``--globoff`` keeps
curl from reading the brackets of ``properties["…"]`` as a URL glob.
"""

from __future__ import annotations

import json
import shlex
from typing import Any, Mapping

import attrs

from ..language import parse
from ..language.printer import format_expr
from .model import Plan, Step

__all__ = ["explain", "to_json", "to_dict", "from_dict", "to_curl", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_RATE = {"query": "Query API: 60/hour, 5 concurrent; only page 0 counts",
         "export": "Export API: 60/hour, 3/second, 100 concurrent"}


def _serialised(attribute, value) -> bool:
    """Everything but the credentials (``Plan.auth``): a saved plan never holds a secret."""
    return attribute.name != "auth"


def to_dict(plan: Plan) -> dict:
    data = attrs.asdict(plan, filter=_serialised)
    # Record plans keep their JSON as before aggregates existed (saved plans, goldens).
    for key in ("aggregate", "local_aggregate"):
        if data.get(key) is None:
            data.pop(key, None)
    return {"format": "mpql-plan", "version": FORMAT_VERSION, **data}


def from_dict(data: Mapping) -> Plan:
    """The inverse of ``to_dict`` (e.g. a plan saved with ``mpql plan --format json``)."""
    from ..errors import InputError
    from .model import Consumes

    if not isinstance(data, Mapping) or data.get("format") != "mpql-plan":
        raise InputError("not an mpql plan: expected a JSON object with \"format\": \"mpql-plan\"")
    if data.get("version") != FORMAT_VERSION:
        raise InputError(f"mpql plan format version {data.get('version')!r} is not supported "
                         f"(this mpql reads version {FORMAT_VERSION})")
    try:
        steps = []
        for s in data["steps"]:
            s = dict(s)
            s["inputs"] = [Consumes(**c) for c in s.get("inputs", ())]
            s["consumes"] = Consumes(**s["consumes"]) if s.get("consumes") else None
            steps.append(Step(**s))
        rest = {k: data[k] for k in ("region", "auth_kind", "project_id", "summary", "notes",
                                     "aggregate")
                if k in data}
        if data.get("local_aggregate"):
            from .model import LocalAggregate

            rest["local_aggregate"] = LocalAggregate(**data["local_aggregate"])
        plan = Plan(steps=steps, **rest)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"malformed mpql plan: {exc}") from None
    for number, step in enumerate(plan.steps, 1):
        _check_step(step, number)
    return plan


#: The values a saved plan's step fields may take (a plan file may have been edited by hand;
#: the executor and the renderers rely on these).
_STEP_CHOICES = {
    "method": ("GET", "POST"), "encoding": ("query", "form"),
    "rate_class": ("query", "export"), "pagination": (None, "page"),
    "chunking": (None, "none", "day", "week", "month"),
}


def _is_days_chunk(value: str) -> bool:
    from ..errors import PlanError
    from .query import check_chunk

    try:
        check_chunk(value)
    except PlanError:
        return False
    return value != "auto"  # resolved when planning, never stored in a plan


def _check_step(step: Step, number: int) -> None:
    from ..errors import InputError

    def bad(name, expected):
        return InputError(f"malformed mpql plan: step {number} {name} must be {expected}, "
                          f"found {getattr(step, name)!r}")

    for name, allowed in _STEP_CHOICES.items():
        value = getattr(step, name)
        if name == "chunking" and isinstance(value, str) and _is_days_chunk(value):
            continue  # "Nd" (N days), as auto chunking plans them
        if not (value is None or isinstance(value, str)) or value not in allowed:
            raise bad(name, "one of " + ", ".join(repr(a) for a in allowed)
                      + (", or 'Nd' (N days, 1 to 366)" if name == "chunking" else ""))
    if not isinstance(step.endpoint, str) or not step.endpoint:
        raise bad("endpoint", "an endpoint name (engage, export, segmentation, …)")
    if not isinstance(step.url, str):
        raise bad("url", "a string")
    if not isinstance(step.params, Mapping) or not all(isinstance(k, str) for k in step.params):
        raise bad("params", "an object")
    if not isinstance(step.json_params, (list, tuple)) or \
            not all(isinstance(k, str) for k in step.json_params):
        raise bad("json_params", "a list of names")
    for name in ("max_url_length", "limit"):
        value = getattr(step, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise bad(name, "a whole number ≥ 1 (or null)")
    if step.endpoint == "export":
        from .query import _date

        for name in ("from_date", "to_date"):
            value = step.params.get(name)
            if not isinstance(value, str):
                raise InputError(f"malformed mpql plan: step {number} (export) params.{name} "
                                 f"must be a date written YYYY-MM-DD, found {value!r}")
            _date(f"step {number} params.{name}", value)


def to_json(plan: Plan, indent: int | None = 2) -> str:
    return json.dumps(to_dict(plan), ensure_ascii=False, indent=indent)


def _value(step: Step, name: str, value: Any) -> str:
    if name in step.json_params:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if name == "where":
        try:
            return format_expr(parse(value))  # pretty, easier to read than the wire form
        except Exception:  # pragma: no cover - the planner only stores valid wheres
            return str(value)
    return str(value)


def explain(plan: Plan) -> str:
    from .query import chunk_label, date_chunks

    auth = {"service_account": "service account", "project_secret": "project secret (deprecated)"}
    who = auth.get(plan.auth_kind, plan.auth_kind)
    if plan.project_id:
        who += f", project {plan.project_id}"
    n = len(plan.steps)
    lines = [f"plan: {plan.summary}" if plan.summary else "plan:",
             f"      {n} step{'s' if n != 1 else ''}, region {plan.region}, {who}"]
    for i, step in enumerate(plan.steps):
        lines.append("")
        lines.append(f"step {i + 1}  {step.method} {step.url}")
        lines.append(f"  why:      {step.why}")
        width = max((len(k) for k in step.params), default=0)
        first = True
        for k, v in step.params.items():
            label = "params:" if first else ""
            lines.append(f"  {label:<9} {k.ljust(width)} = {_value(step, k, v)}")
            first = False
        enc = ("form-encoded POST body; " + ", ".join(step.url_params) + " in the URL"
               if step.encoding == "form" else "percent-encoded URL query (spaces as %20)")
        lines.append(f"  encoding: {enc}")
        if step.pagination == "page":
            lines.append("  pages:    page 0, then session_id + page 1, 2, … until a page is "
                         "shorter than page_size")
        if step.endpoint == "export":
            chunks = date_chunks(step.params["from_date"], step.params["to_date"], step.chunking)
            what = f"{chunk_label(step.chunking)} chunks" if step.chunking else "one range"
            lines.append(f"  chunks:   {len(chunks)} request{'s' if len(chunks) != 1 else ''}"
                         f" ({what})")
        if step.limit is not None:
            lines.append(f"  limit:    {step.limit} records in total")
        lines.append(f"  rate:     {_RATE.get(step.rate_class, step.rate_class)}")
        for c in step.inputs:
            lines.append(f"  consumes: {c.placeholder} = properties[\"{c.property}\"] in "
                         f"[$distinct_id of step {c.step + 1}]"
                         + (f" (step {c.step + 1} lists the profiles where the condition is "
                            "NOT true)" if c.negated else ""))
            lines.append(f"            strategy {c.strategy}"
                         + (", split into batches" if c.splittable else ", one request")
                         + (f", falling back to {c.fallback}" if c.fallback else "")
                         + f": {c.reason}")
        if not step.output:
            lines.append("  output:   not part of the result (feeds a later step)")
    local = plan.local_aggregate
    if local is not None:
        lines.append("")
        lines.append(f"then     aggregate locally: /{local.function} computed by "
                     f"mpql.aggregates from the events of step"
                     f"{'s' if len(local.events_steps) != 1 else ''} "
                     + ", ".join(str(i + 1) for i in local.events_steps)
                     + (f" (profiles from step {local.profiles_step + 1})"
                        if local.profiles_step is not None else "")
                     + f", buckets in {local.timezone}")
        lines.append(f"  why:      {local.why}")
        width = max((len(k) for k in local.params), default=0)
        for j, (k, v) in enumerate(local.params.items()):
            shown = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
            lines.append(f"  {'params:' if j == 0 else '':<9} {k.ljust(width)} = {shown}")
    elif plan.aggregate is not None:
        lines.append("")
        lines.append(f"answer:   the JSON body of /{plan.aggregate} (Mixpanel computes it)")
    if plan.notes:
        lines.append("")
        lines.extend(f"note: {note}" for note in plan.notes)
    return "\n".join(lines)


def _sq(text: str) -> str:
    return f"'{text}'" if "'" not in text else shlex.quote(text)


def _curl_url(plan: Plan, url: str) -> str:
    if plan.auth_kind == "service_account" and not plan.project_id and "project_id=" not in url:
        # No project id known: let the shell supply it.
        sep = "&" if "?" in url else "?"
        return _sq(url + sep + "project_id=") + '"$MP_PROJECT_ID"'
    return _sq(url)


def to_curl(plan: Plan, ids: Mapping[int, Any] | None = None) -> str:
    from .expand import expand

    user = '"$MP_USERNAME:$MP_SECRET"' if plan.auth_kind == "service_account" else '"$MP_SECRET:"'
    blocks = ["#!/bin/sh",
              f"# mpql plan: {plan.summary}" if plan.summary else "# mpql plan",
              "# Credentials come from the environment: "
              + ("MP_SECRET (the project secret)" if plan.auth_kind != "service_account"
                 else "MP_USERNAME, MP_SECRET" + ("" if plan.project_id
                                                  else ", MP_PROJECT_ID"))]
    for i, step in enumerate(plan.steps):
        sample = {}
        for c in step.inputs:
            given = (ids or {}).get(c.step)
            sample[c.step] = given if given is not None else [f"DISTINCT_ID_FROM_STEP_{c.step + 1}"]
        expansion = expand(step, sample, predicate_factory=lambda e: (lambda r: True))
        blocks.append("")
        head = f"# step {i + 1}: {step.endpoint}"
        if step.inputs and not ids:
            head += " (ids of earlier steps shown as DISTINCT_ID_FROM_STEP_N)"
        blocks.append(head)
        if step.pagination == "page":
            blocks.append("# page 0; further pages add session_id=<from the response>&page=N")
        if expansion.keep is not None:
            blocks.append("# the results must then be filtered by distinct id locally "
                          "(mpql run does this)")
        for req in expansion.requests:
            # --globoff: curl reads `[...]` and `{...}` in a URL as glob ranges and exits 3
            # ("bad range") on `properties["$distinct_id"]`; the guide's own command fails so.
            parts = [f"curl --globoff --request {req.method}",
                     f"--url {_curl_url(plan, req.url)}",
                     f"--user {user}"]
            parts += [f"--header {_sq(f'{k}: {v}')}" for k, v in req.headers.items()]
            if req.body is not None:
                parts.append(f"--data {_sq(req.body)}")
            blocks.append(" \\\n     ".join(parts))
        if not expansion.requests:
            blocks.append("# nothing to request: " + expansion.reason)
    local = plan.local_aggregate
    if local is not None:
        blocks.append("")
        blocks.append(f"# then: compute the /{local.function} answer from the events of step"
                      f"{'s' if len(local.events_steps) != 1 else ''} "
                      + ", ".join(str(i + 1) for i in local.events_steps)
                      + " — curl cannot; mpql.aggregates (or plan.local_aggregate.run) does")
    return "\n".join(blocks) + "\n"
