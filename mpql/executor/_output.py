"""Chunk-atomic JSONL output with a resume state file.

The executor hands this module one *unit* at a time (an export date chunk or an engage page),
in plan order, only after the unit's download completed and was validated. A unit is appended
to the output; at a *checkpoint* the output is made durable (``fsync``) and only then are the
units appended so far recorded in the state file — so the state file never claims more than
the output holds. Checkpoints happen at most once per ``checkpoint_every`` seconds (1 s) and
when a run stops (error, Ctrl-C) or completes: an fsync and a state replace per chunk cost
more than the download itself on a fast link, and a state that lags the output is safe (resume
truncates the output back to the state's offset and fetches the lagging units again).

Resume (``-o FILE --resume``) reads ``FILE.mpql-state``; if it belongs to the same query (the
plan's fingerprint), the output is truncated to the recorded length — which drops a unit that
was being written when the process died — and the units already committed are skipped. A run
killed at any instant and restarted therefore produces byte-identical output, provided Mixpanel
returns the same records for a unit (see docs/executor.md). The state file is replaced
atomically (write, fsync, rename, fsync the directory) and removed when the run completes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from typing import IO, BinaryIO

from mpql.errors import ConfigError, ExecutionError, InputError

__all__ = ["FileSink", "StreamSink", "state_path"]

STATE_VERSION = 1
TAIL = 4096  # the state records a hash of the output's last bytes, to notice a changed file


def state_path(path: str) -> str:
    return path + ".mpql-state"


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` atomically (a reader sees the old or the new state, never a mix).

    Not fsynced, on purpose: the output is fsynced *before* the state is replaced, so after
    a crash the state can only lag behind the output (resume then truncates a little more and
    fetches those units again — still identical output), never run ahead of it. A process
    kill loses nothing that was written; only a power cut can lose the rename, and an
    unreadable state file is reported, not trusted."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def _tail_hash(path: str, offset: int) -> str:
    """A hash of the ``TAIL`` bytes before ``offset``: cheap, and enough to notice an output
    that was truncated and rewritten, or replaced, between a run and its ``--resume``."""
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, offset - TAIL))
            data = fh.read(min(offset, TAIL))
    except OSError:
        return ""
    return hashlib.sha256(data).hexdigest()[:16]


def _copy(spool: IO[bytes], out: IO[bytes]) -> None:
    """Append a spool to ``out``; in the kernel (``os.sendfile``) when both are real files."""
    spool.seek(0)
    raw = getattr(spool, "_file", spool)  # SpooledTemporaryFile: the rolled-over file
    try:
        src, dst = raw.fileno(), out.fileno()
    except (AttributeError, OSError, ValueError):
        shutil.copyfileobj(spool, out, 1 << 20)
        return
    out.flush()
    size = os.fstat(src).st_size
    offset = 0
    while offset < size:
        sent = os.sendfile(dst, src, offset, size - offset)
        if sent == 0:  # pragma: no cover
            break
        offset += sent
    out.seek(0, os.SEEK_END)


class StreamSink:
    """Writes committed units to a binary stream (stdout). No resume."""

    resumed_units: tuple = ()

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.records = 0
        self.bytes = 0

    def commit(self, key: str, spool: IO[bytes], records: int) -> None:
        spool.seek(0)
        try:
            shutil.copyfileobj(spool, self.stream, 1 << 20)
            self.stream.flush()
        except BrokenPipeError:  # `mpql run | head`: the reader is gone; the CLI exits quietly
            raise
        except OSError as exc:
            raise ExecutionError(
                f"writing the output to {getattr(self.stream, 'name', 'the stream')} failed "
                f"({exc.strerror or exc}); records may be missing from it — free space or use "
                f"-o FILE --resume") from None
        self.records += records
        self.bytes += spool.tell()

    def finish(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise ExecutionError(f"writing the output failed ({exc.strerror or exc})") from None


class FileSink:
    """Writes committed units to ``path``; with ``resume``, continues a previous run."""

    def __init__(self, path: str, fingerprint: str, *, resume: bool = False,
                 checkpoint_every: float = 1.0) -> None:
        self.path = path
        self.checkpoint_every = checkpoint_every
        self._saved_at = time.monotonic()
        self._dirty = False
        self.state_file = state_path(path)
        self.fingerprint = fingerprint
        self.units: list[str] = []
        self.records = 0
        offset = 0
        state = self._load_state() if resume else None
        if state is not None:
            if state.get("fingerprint") != fingerprint:
                raise ConfigError(
                    f"{self.state_file}: this state file belongs to a different query (its "
                    f"plan differs from this run's); run without --resume to start over, or "
                    f"repeat the original command")
            offset = state["offset"]
            self.units = list(state["units"])
            self.records = state["records"]
            try:
                size = os.path.getsize(path)
            except OSError:
                size = -1
            if size < offset or (state.get("tail") is not None
                                 and _tail_hash(path, offset) != state["tail"]):
                found = f"found {max(size, 0)}" if size < offset else "they differ"
                raise InputError(
                    f"{path}: expected the {offset} bytes recorded in {self.state_file}, "
                    f"{found}; the output was modified or replaced after the interrupted run "
                    f"— run without --resume to start over")
        self.resumed_units = tuple(self.units)
        mode = "r+b" if state is not None else "wb"
        try:
            self._fh = open(path, mode)
            self._fh.truncate(offset)  # drops a unit that was half-written when the run died
            self._fh.seek(offset)
            self.bytes = offset
            self._committed = (offset, self.records, list(self.units))
            if state is None:
                self._save()
        except OSError as exc:
            raise InputError(f"{path}: cannot write the output ({exc.strerror or exc}); check "
                             f"the directory exists and is writable") from None

    def _load_state(self) -> dict | None:
        try:
            with open(self.state_file, "rb") as fh:
                state = json.loads(fh.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise InputError(f"{self.state_file}: unreadable resume state ({exc}); delete it "
                             f"and run without --resume") from None
        def count(v):
            return isinstance(v, int) and not isinstance(v, bool) and v >= 0

        if not (isinstance(state, dict) and state.get("version") == STATE_VERSION
                and isinstance(state.get("fingerprint"), str) and count(state.get("offset"))
                and count(state.get("records")) and isinstance(state.get("units"), list)
                and all(isinstance(u, str) for u in state["units"])
                and isinstance(state.get("tail", ""), str)):
            raise InputError(f"{self.state_file}: not a resume state this mpql wrote (a field "
                             f"is missing or has the wrong type); delete it and run without "
                             f"--resume")
        return state

    def _save(self) -> None:
        offset, records, units = self._committed
        state = {"version": STATE_VERSION, "fingerprint": self.fingerprint,
                 "offset": offset, "records": records, "units": units,
                 "tail": _tail_hash(self.path, offset)}
        _write_atomic(self.state_file, json.dumps(state).encode())

    def commit(self, key: str, spool: IO[bytes], records: int) -> None:
        try:
            _copy(spool, self._fh)
            self._fh.flush()
            # One attribute store publishes the commit, so a Ctrl-C between statements can
            # never leave a state that counts a unit's bytes without the unit (a duplicate
            # on resume): the checkpoint in `abort` sees the commit wholly or not at all.
            self._committed = (self._fh.tell(), self.records + records, self.units + [key])
            self.bytes, self.records, self.units = self._committed
            self._dirty = True
            if time.monotonic() - self._saved_at >= self.checkpoint_every:
                self.checkpoint()
        except OSError as exc:
            self._failed(exc)

    def checkpoint(self) -> None:
        """Make the output durable, then record the units committed so far."""
        if not self._dirty or self._fh.closed:
            return
        os.fsync(self._fh.fileno())
        self._save()
        self._dirty = False
        self._saved_at = time.monotonic()

    def _failed(self, exc: OSError):
        raise ExecutionError(
            f"{self.path}: writing the output failed ({exc.strerror or exc}); the chunks "
            f"written so far are kept — free space and rerun with --resume") from None

    def finish(self) -> None:
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:
            self._failed(exc)
        self._fh.close()
        try:
            os.remove(self.state_file)
        except FileNotFoundError:
            pass
        _fsync_dir(self.path)

    def abort(self) -> None:
        """Stop without completing: record what was committed and keep the state file so
        ``--resume`` can continue."""
        if not self._fh.closed:
            try:
                self.checkpoint()
            except OSError:  # the state then lags the output: still a correct resume
                pass
            try:
                self._fh.close()
            except OSError:  # e.g. disk full while flushing a unit that was never recorded
                pass
