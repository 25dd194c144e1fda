"""The embedded sandbox: a Mixpanel-compatible HTTP server on loopback, with sample data.

It serves ``/api/query/engage`` and ``/api/2.0/engage`` (GET and form POST) and
``/api/2.0/export`` (GET, JSONL streamed from disk) with Mixpanel's parameters, pagination,
gzip, error statuses, authentication and rate limits, plus scriptable fault injection. It is
the default target of the CLI when no credentials are set, and the ground truth of every
executor test: ``Sandbox.events()`` / ``Sandbox.profiles()`` compute locally what the server
answers over HTTP. docs/sandbox.md is the reference.

Public API::

    Sandbox(data_dir=None, *, port=0, faults=None, time_scale=1.0, limits=None, …)
    Credentials, RequestRecord          what .credentials and .requests hold
    Limits                              rate-limit quotas (Mixpanel's by default)
    Fault, parse_faults                 the fault spec language
    Dataset, generate, write_dataset, default_dataset
    sandbox_today                       "today": $MPQL_SANDBOX_TODAY (tests pin it) or UTC today
"""

from ._data import Dataset, default_dataset, generate, sandbox_today, write_dataset
from ._faults import Fault, parse_faults
from ._limits import Limits
from ._server import (
    DEFAULT_PROJECT_ID,
    Credentials,
    RequestRecord,
    Sandbox,
)

__all__ = [
    "DEFAULT_PROJECT_ID",
    "Credentials",
    "Dataset",
    "Fault",
    "Limits",
    "RequestRecord",
    "Sandbox",
    "default_dataset",
    "generate",
    "parse_faults",
    "sandbox_today",
    "write_dataset",
]
