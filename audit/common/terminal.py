"""Text for a terminal: control characters neutralised, and a closed pipe is never an error."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable
from typing import TextIO

Echo = Callable[[str], None]  # prints one line: what every command is handed for stdout and stderr

# C0 and C1 controls but tab and newline (escape sequences clear screens, set titles, move the
# cursor to fake a verdict), and the invisible Unicode marks that reorder or hide text.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every unsafe character shown as an escape (`\\x1b`, `\\u202e`)."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


class Printer:
    """Writes lines to stdout or stderr, made printable; once the reader has gone (`| head -1`, a
    closed terminal), drops the rest quietly so that the command still ends with its own exit code."""

    def __init__(self, *, err: bool) -> None:
        self._err = err
        self._gone = False

    def __call__(self, line: str) -> None:
        if self._gone:
            return
        stream = sys.stderr if self._err else sys.stdout
        try:
            stream.write(printable(line) + "\n")
            stream.flush()
        except OSError:  # a closed pipe, or a terminal that has gone (EIO after SIGHUP)
            self._gone = True
            # Python flushes stdout again at exit; pointing it at /dev/null keeps that quiet too.
            silence(stream)


def silence(stream: TextIO) -> None:
    """Points `stream` at /dev/null: what is still buffered, and Python's flush at exit, go nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError):
        pass  # not a real file (a test's capture): nothing will flush it at exit
    finally:
        os.close(devnull)


# A URL's query string and userinfo: where a credentials URI, a signed URL or a webhook carries its token.
_URL_SECRETS = re.compile(r"(?P<query>\?[^\s\"'<>]+)|(?P<user>(?<=//)[^/\s@\"']+@)")


_WITHHELD: set[str] = set()  # secrets read at run time (webhook URLs and their parts), never logged


def withhold(*secrets: str) -> None:
    """From now on no log line of this process shows any of `secrets` (webhook URLs carry their token
    in the path, which urllib3 logs at debug)."""
    _WITHHELD.update(s for s in secrets if len(s) >= 8)


class PrintableFormatter(logging.Formatter):
    """Log lines made printable: messages quote server answers, which are not ours to trust. Lines of
    other libraries (urllib3 logs every request line at debug) lose URL query strings and userinfo:
    our own log lines are redacted where written, theirs cannot be."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if not record.name.startswith("audit"):
            line = _URL_SECRETS.sub(lambda m: "?(query withheld)" if m["query"] else "(withheld)@", line)
        for secret in sorted(_WITHHELD, key=len, reverse=True):
            line = line.replace(secret, "(withheld)")
        return printable(line)
