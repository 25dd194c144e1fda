"""Credentials for Mixpanel's Query and Export APIs, built so that the secret cannot leak.

``ServiceAccount`` (recommended: HTTP Basic ``username:secret`` plus ``project_id`` in every
request) and ``ProjectSecret`` (deprecated: Basic ``secret:`` with an empty password; Mixpanel
retires it on 2027-03-03, docs/mixpanel-reference.md §5.1). Neither shows its secret in ``repr``/``str``, error
messages or plans: a plan records only ``auth_kind`` and ``project_id``, and ``Plan.to_curl``
writes ``$MP_USERNAME:$MP_SECRET`` placeholders.
"""

from __future__ import annotations

import re
import warnings

import attrs

from ..errors import ConfigError

__all__ = ["ServiceAccount", "ProjectSecret", "RETIREMENT_DATE"]

#: The day Mixpanel stops accepting project-secret authentication [S9, S16].
RETIREMENT_DATE = "2027-03-03"

_ID = re.compile(r"^[0-9]+$")


def _project_id(value) -> str:
    if isinstance(value, bool) or value is None:
        raise ConfigError(f"project_id must be a number such as 1234567, got {value!r}")
    text = str(value).strip()
    if not _ID.match(text):
        raise ConfigError(
            f"project_id must be the numeric project id (Project Settings → Overview), got "
            f"{text!r}"
        )
    return text


def _optional_id(value):
    return None if value is None else _project_id(value)


def _nonempty(what: str):
    def check(_instance, _attribute, value):
        if not isinstance(value, str) or not value:
            # Never echo the value: it may be a secret.
            raise ConfigError(f"{what} must be a non-empty string")

    return check


@attrs.frozen(repr=False)
class ServiceAccount:
    """A Mixpanel service account: ``username``, ``secret``, ``project_id`` (required: a
    service account can reach several projects) and optional ``workspace_id`` (data view)."""

    username: str = attrs.field(validator=_nonempty("ServiceAccount username"))
    secret: str = attrs.field(validator=_nonempty("ServiceAccount secret"))
    project_id: str = attrs.field(converter=_project_id)
    workspace_id: str | None = attrs.field(default=None, converter=_optional_id)

    kind = "service_account"

    def __repr__(self) -> str:
        ws = f", workspace_id={self.workspace_id!r}" if self.workspace_id else ""
        return (f"ServiceAccount(username={self.username!r}, secret='***', "
                f"project_id={self.project_id!r}{ws})")

    __str__ = __repr__

    def basic_auth(self) -> tuple[str, str]:
        """``(user, password)`` for HTTP Basic auth."""
        return (self.username, self.secret)

    def query_params(self) -> dict:
        params = {"project_id": self.project_id}
        if self.workspace_id:
            params["workspace_id"] = self.workspace_id
        return params

    @classmethod
    def from_env(cls, environ=None) -> "ServiceAccount":
        """From ``MP_USERNAME``, ``MP_SECRET``, ``MP_PROJECT_ID`` (and ``MP_WORKSPACE_ID``)."""
        import os

        env = os.environ if environ is None else environ
        missing = [k for k in ("MP_USERNAME", "MP_SECRET", "MP_PROJECT_ID") if not env.get(k)]
        if missing:
            raise ConfigError(
                "service-account credentials need " + ", ".join(missing) + " in the environment"
            )
        return cls(env["MP_USERNAME"], env["MP_SECRET"], env["MP_PROJECT_ID"],
                   env.get("MP_WORKSPACE_ID") or None)


@attrs.frozen(repr=False)
class ProjectSecret:
    """Deprecated project-secret auth (retiring 2027-03-03). Emits a DeprecationWarning."""

    secret: str = attrs.field(validator=_nonempty("ProjectSecret secret"))
    project_id: str | None = attrs.field(default=None, converter=_optional_id)

    kind = "project_secret"

    def __attrs_post_init__(self) -> None:
        warnings.warn(
            "project-secret authentication is deprecated and Mixpanel retires it on "
            f"{RETIREMENT_DATE}; create a service account (Organization Settings → Service "
            "Accounts) and use mpql.ServiceAccount(username, secret, project_id)",
            DeprecationWarning,
            stacklevel=3,
        )

    def __repr__(self) -> str:
        pid = f", project_id={self.project_id!r}" if self.project_id else ""
        return f"ProjectSecret(secret='***'{pid})"

    __str__ = __repr__

    def basic_auth(self) -> tuple[str, str]:
        return (self.secret, "")

    def query_params(self) -> dict:
        # Not needed with a project secret, but harmless and it pins the project if given.
        return {"project_id": self.project_id} if self.project_id else {}
