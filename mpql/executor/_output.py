"""Chunk-atomic JSONL output with a resume state file.

The executor hands this module one *unit* at a time (an export date chunk or an engage page),
in plan order, only after the unit's download completed and was validated. A unit is appended
to the output and made durable, and only then recorded in the state file — so the state file
never claims more than the output holds.

Resume (``-o FILE --resume``) reads ``FILE.mpql-state``; if it belongs to the same query (the
plan's fingerprint), the output is truncated to the recorded length — which drops a unit that
was being written when the process died — and the units already committed are skipped. A run
killed at any instant and restarted therefore produces byte-identical output, provided Mixpanel
returns the same records for a unit (see docs/executor.md). The state file is replaced
atomically (write, fsync, rename, fsync the directory) and removed when the run completes.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import IO, BinaryIO

from mpql.errors import ConfigError, ExecutionError, InputError

__all__ = ["FileSink", "StreamSink", "state_path"]

STATE_VERSION = 1


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
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


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
        shutil.copyfileobj(spool, self.stream, 1 << 20)
        self.stream.flush()
        self.records += records
        self.bytes += spool.tell()

    def finish(self) -> None:
        self.stream.flush()


class FileSink:
    """Writes committed units to ``path``; with ``resume``, continues a previous run."""

    def __init__(self, path: str, fingerprint: str, *, resume: bool = False) -> None:
        self.path = path
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
            offset = int(state["offset"])
            self.units = list(state["units"])
            self.records = int(state.get("records", 0))
            try:
                size = os.path.getsize(path)
            except OSError:
                size = -1
            if size < offset:
                raise InputError(
                    f"{path}: expected at least {offset} bytes (as recorded in "
                    f"{self.state_file}), found {max(size, 0)}; the output was modified or "
                    f"removed after the interrupted run — run without --resume to start over")
        self.resumed_units = tuple(self.units)
        mode = "r+b" if state is not None else "wb"
        try:
            self._fh = open(path, mode)
            self._fh.truncate(offset)  # drops a unit that was half-written when the run died
            self._fh.seek(offset)
            self.bytes = offset
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
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise InputError(f"{self.state_file}: unknown resume state format; delete it and "
                             f"run without --resume")
        return state

    def _save(self) -> None:
        state = {"version": STATE_VERSION, "fingerprint": self.fingerprint,
                 "offset": self.bytes, "records": self.records, "units": self.units}
        _write_atomic(self.state_file, json.dumps(state).encode())

    def commit(self, key: str, spool: IO[bytes], records: int) -> None:
        try:
            _copy(spool, self._fh)
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self.bytes = self._fh.tell()
            self.records += records
            self.units.append(key)
            self._save()
        except OSError as exc:
            raise ExecutionError(
                f"{self.path}: writing the output failed ({exc.strerror or exc}); the chunks "
                f"written so far are kept — free space and rerun with --resume") from None

    def finish(self) -> None:
        self._fh.close()
        try:
            os.remove(self.state_file)
        except FileNotFoundError:
            pass
        _fsync_dir(self.path)

    def abort(self) -> None:
        """Stop without completing: keep the state file so ``--resume`` can continue."""
        if not self._fh.closed:
            self._fh.close()
