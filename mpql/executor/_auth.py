"""Credentials: where they come from, how they are sent, and how they are kept out of sight.

Sources, in order: an ``auth`` object passed in code (the planner's ``ServiceAccount`` /
``ProjectSecret``, or anything with the same attributes), then the environment variables
Mixpanel's own CLI uses: ``MP_USERNAME`` + ``MP_SECRET`` + ``MP_PROJECT_ID`` (service account),
or ``MP_SECRET`` alone (deprecated project secret), plus ``MP_REGION`` and ``MP_WORKSPACE_ID``.

The secret lives only in a ``Credentials`` object whose repr masks it, and is only ever written
into the ``Authorization`` header. Everything that describes a request for a human (errors,
logs, progress, curl equivalents) goes through ``redact``.
"""

from __future__ import annotations

import base64
import os
from typing import Any, Mapping

import attrs

from mpql.errors import ConfigError

__all__ = ["Credentials", "redact", "ENV_VARS"]

ENV_VARS = ("MP_USERNAME", "MP_SECRET", "MP_PROJECT_ID", "MP_REGION", "MP_WORKSPACE_ID")
REGIONS = ("us", "eu", "in")
MASK = "***"


@attrs.frozen(repr=False)
class Credentials:
    """``kind`` is "service_account" (Basic ``username:secret`` + ``project_id`` in the query)
    or "project_secret" (Basic ``secret:``, deprecated by Mixpanel, retiring 2027-03-03)."""

    kind: str
    secret: str = attrs.field(eq=False)
    username: str | None = None
    project_id: str | None = None
    workspace_id: str | None = None

    def __repr__(self) -> str:
        who = f"username={self.username!r}, " if self.username else ""
        return (f"Credentials(kind={self.kind!r}, {who}secret={MASK!r}, "
                f"project_id={self.project_id!r})")

    __str__ = __repr__

    def authorization(self) -> str:
        pair = f"{self.username}:{self.secret}" if self.kind == "service_account" \
            else f"{self.secret}:"
        return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in output (the secret and its header form)."""
        values = [self.secret, self.authorization(), self.authorization().split(" ", 1)[1]]
        return tuple(v for v in values if v)

    def planner_auth(self):
        """The planner's form of these credentials (``ServiceAccount`` / ``ProjectSecret``),
        for ``Query.plan(auth=...)``."""
        from mpql.planner import ProjectSecret, ServiceAccount

        if self.kind == "service_account":
            return ServiceAccount(self.username, self.secret, self.project_id,
                                  workspace_id=self.workspace_id)
        return ProjectSecret(self.secret)

    @classmethod
    def from_auth(cls, auth: Any) -> "Credentials":
        if isinstance(auth, Credentials):
            return auth
        secret = getattr(auth, "secret", None)
        if not secret:
            raise ConfigError(
                f"auth: expected a ServiceAccount or ProjectSecret with a secret, "
                f"found {type(auth).__name__}")
        username = getattr(auth, "username", None)
        project_id = getattr(auth, "project_id", None)
        workspace_id = getattr(auth, "workspace_id", None)
        if username:
            if project_id in (None, ""):
                raise ConfigError("auth: a service account needs a project_id "
                                  "(Mixpanel rejects service-account requests without one)")
            return cls("service_account", secret, str(username), str(project_id),
                       None if workspace_id is None else str(workspace_id))
        return cls("project_secret", secret, None,
                   None if project_id is None else str(project_id), None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Credentials | None":
        """Credentials from ``MP_*`` variables, or ``None`` when ``MP_SECRET`` is not set."""
        env = os.environ if environ is None else environ
        secret = env.get("MP_SECRET", "")
        username = env.get("MP_USERNAME", "")
        project_id = env.get("MP_PROJECT_ID", "")
        workspace_id = env.get("MP_WORKSPACE_ID") or None
        if not secret:
            if username:
                raise ConfigError("MP_USERNAME is set but MP_SECRET is not: set both "
                                  "(service account) or neither (use the sandbox)")
            return None
        if username:
            if not project_id:
                raise ConfigError("MP_PROJECT_ID: a service account (MP_USERNAME) needs the "
                                  "numeric project id; find it in Project Settings")
            return cls("service_account", secret, username, project_id, workspace_id)
        return cls("project_secret", secret, None, project_id or None, None)


from mpql.planner.auth import region_from_env  # noqa: E402 - one reading of MP_REGION


def redact(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
