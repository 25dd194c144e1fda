"""The executor: runs plans against Mixpanel (or the sandbox) reliably.

Public API::

    Client(auth=None, region=None, *, base_url=None, timeout=(10, 600), retry=None, limits=None)
        .run(plan)            -> iterator of records (dicts), as each chunk/page completes
        .write(plan, out, resume=False, dedupe=False, limit=None) -> RunResult
        .events(...), .profiles(...)   plan a Query for this client and run it
    RetryPolicy    full-jitter backoff, Retry-After, attempts, deadline
    Limits         pacing (3/s, 60/h, 5 concurrent …) and parallelism
    Credentials    credentials from code or MP_* variables (secret never shown)

Module map: ``_auth`` (credentials, redaction), ``_retry`` (policy), ``_pacer`` (rate limits),
``_transport`` (one request with retries and typed errors), ``_jsonl`` (byte-level JSONL
framing and stream-failure detection), ``_output`` (chunk-atomic output, resume state),
``_client`` (plans → units → records), ``_progress`` (stderr progress line).
"""

from ._auth import Credentials
from ._client import Client, RunResult
from ._pacer import Limits
from ._retry import RetryPolicy

__all__ = ["Client", "Credentials", "Limits", "RetryPolicy", "RunResult"]
