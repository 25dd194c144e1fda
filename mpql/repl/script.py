"""Non-interactive mode: ``mpql repl < script.txt``.

Reads inputs from a text stream exactly as the interactive REPL would receive them: a line
starting with ``:`` is a command; an expression continues over the following lines while it is
incomplete (a trailing operator, an open bracket); a blank line ends an incomplete expression
anyway (so its error is shown); ``#`` lines are comments. Each input is echoed after a prompt
(unless ``echo=False``) and answered, so the output reads as a transcript. An error never ends
the run.

Exit code (docs/repl.md): 0 when every input succeeded (warnings are fine), 1 when at least one
failed (an error-severity diagnostic, a failed command, a record that could not be evaluated),
2 when an input had a syntax error (the exit code of a syntax error in every mpql command;
the script still runs to its end) or hit an internal error (a bug, reported on stderr, not
in the transcript; the script goes on), or for a usage or start-up error (handled by the
CLI), 130 when interrupted.
"""

from __future__ import annotations

from .completion import input_status
from .engine import Session

__all__ = ["run_script", "PROMPT", "CONTINUATION"]

PROMPT = "mpql> "
CONTINUATION = " ...> "


def run_script(lines, session: Session, *, echo: bool = True) -> int:
    """Feed ``lines`` (an iterable of strings, e.g. a file) to ``session``; the exit code."""
    buffer: list[str] = []
    gap = [False]  # a blank line goes between one exchange and the next comment or prompt

    def spaced(text: str, style: str) -> None:
        if gap[0]:
            session.out.write("")
            gap[0] = False
        session.out.write(text, style)

    def flush() -> None:
        text = "\n".join(buffer)
        buffer.clear()
        if echo:
            for i, line in enumerate(text.split("\n")):
                spaced((PROMPT if i == 0 else CONTINUATION) + line, "echo")
        session.submit(text)
        gap[0] = echo
        if session.interrupted:
            raise KeyboardInterrupt  # Ctrl-C ends a script (exit 130), not just one input

    for raw in lines:
        line = raw.rstrip("\r\n")
        if not buffer:
            if not line.strip():
                continue
            if line.lstrip().startswith("#"):
                if echo:
                    spaced(line, "dim")
                continue
        buffer.append(line)
        text = "\n".join(buffer)
        if input_status(text) == "incomplete" and line.strip():
            continue
        flush()
        if session.quit:
            break
    if buffer and not session.quit:
        flush()
    if session.syntax_errors or session.internal_errors:
        return 2
    return 0 if session.failures == 0 else 1
