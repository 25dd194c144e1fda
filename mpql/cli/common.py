"""Helpers shared by subcommands: reading expressions from -e / files / stdin, and printing
diagnostics in the formats every command offers."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

import attrs

from ..errors import InputError, read_errors

if TYPE_CHECKING:  # pathlib only where files are read: `mpql lint -e` reads none
    from pathlib import Path

__all__ = ["Source", "read_sources", "read_file", "read_stdin", "reading", "add_input_arguments",
           "make_parser", "iter_lint_files"]

#: Directories never searched when a directory is given (virtualenvs, caches, VCS data).
SKIP_DIRS = {"__pycache__", "node_modules", "venv", "site-packages", "build", "dist"}


@attrs.frozen
class Source:
    """A unit of input: an expression given with -e, a file, or standard input."""

    name: str  # shown in diagnostics: "<expr>", "<stdin>" or the path
    text: str  # line endings normalised to "\n"
    path: Path | None = None
    #: the file's line ending ("\r\n" for a Windows file), for writing it back unchanged
    newline: str = "\n"
    #: the file started with a UTF-8 byte order mark (removed from ``text``, kept on write)
    bom: bool = False

    def write(self, text: str) -> None:
        """Rewrite the file with ``text``, keeping its line endings and byte order mark."""
        assert self.path is not None
        self.path.write_text(("\ufeff" if self.bom else "") + text, encoding="utf-8",
                             newline=self.newline)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter with the terminal width found without ``shutil``.

    argparse builds a formatter for every ``add_argument`` (to check the metavar), and the
    stock one imports ``shutil`` (with zlib, bz2, lzma: ~2 ms) for ``get_terminal_size``.
    This is the same computation — ``$COLUMNS``, else the size of the terminal on standard
    output, else 80 columns — so help text wraps exactly as before."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` (fallback 80), without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def make_parser(prog: str, description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=_HelpFormatter,
    )


def add_input_arguments(parser: argparse.ArgumentParser, *, many: bool = True,
                        paths_help: str | None = None) -> None:
    parser.add_argument(
        "-e", "--expr", action="append", default=[], metavar="EXPR",
        help="an expression given on the command line (repeatable)",
    )
    parser.add_argument(
        "paths", nargs="*" if many else "?", metavar="FILE",
        help=paths_help or "files to read (`-` for standard input); directories are searched "
                           "for *.mpql",
    )


def read_sources(exprs: list[str], paths, *, suffixes=(".mpql",)) -> list[Source]:
    """Sources in the order given. A directory contributes its files with ``suffixes``,
    sorted; an unreadable file raises InputError naming it."""
    if isinstance(paths, str):
        paths = [paths]
    paths = [p for p in (paths or []) if p is not None]
    sources = [Source("<expr>", e) for e in exprs]
    for raw in paths:
        if raw == "-":
            sources.append(Source("<stdin>", read_stdin()))
            continue
        from pathlib import Path

        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in suffixes)
            sources.extend(read_file(p) for p in found)
        else:
            sources.append(read_file(path))
    return sources


def read_stdin() -> str:
    """Standard input as text: strict UTF-8 whatever the locale (a stray byte is an error,
    not a lone surrogate reported as a "control character"), line endings normalised."""
    stream = getattr(sys.stdin, "buffer", None) if sys.stdin is not None else None
    if sys.stdin is None or sys.stdin.closed:
        raise InputError("<stdin>: standard input is closed; give -e EXPR or a FILE")
    try:
        data = stream.read() if stream is not None else sys.stdin.read()
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise InputError(f"<stdin>: not UTF-8 text (byte {exc.start}): {exc.reason}") from None
    except OSError as exc:
        raise InputError(f"<stdin>: cannot read: {exc.strerror}") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def reading(path: Path):
    """Turn the errors of reading ``path`` (inside the block) into one InputError naming it."""
    return read_errors(path)


def read_file(path: Path) -> Source:
    with reading(path), path.open(encoding="utf-8", newline="") as fh:
        raw = fh.read()  # newline="": keep "\r\n" to detect it
    # Like ruff, a rewritten file keeps the line ending of its first line.
    first = raw.find("\n")
    newline = "\r\n" if first > 0 and raw[first - 1] == "\r" else "\n"
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    # Windows editors write a BOM; Python and JSON parsers reject it inside the text, and
    # columns are counted without it, as editors do.
    bom = text.startswith("\ufeff")
    return Source(str(path), text[1:] if bom else text, path, newline, bom)


def iter_lint_files(paths, suffixes) -> list[Path]:
    """Files to lint: explicit files as given (any suffix), and the files with ``suffixes``
    under each directory, sorted, skipping hidden directories and SKIP_DIRS."""
    out: list[Path] = []
    if not paths:
        return out  # `lint -e`: no pathlib at all
    from pathlib import Path

    for raw in paths:
        if raw == "-":
            continue
        path = Path(raw)
        if path.is_dir():
            found = []
            # os.walk prunes skipped folders instead of listing node_modules and then
            # dropping it: `mpql lint` with no path walks the whole project.
            for folder, dirs, names in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
                found.extend(Path(folder) / n for n in names
                             if Path(n).suffix in suffixes and (Path(folder) / n).is_file())
            out.extend(sorted(found))
        elif not path.exists():
            raise InputError(f"{path}: no such file or directory")
        else:
            out.append(path)
    return out
