"""Exit statuses every command returns, and errors a user can act on (one clear line, never a traceback)."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """What a `vod-audit` process exits with; the docs' "Exit codes" table says the same."""

    OK = 0  # the tool worked and the gate passed (or the command found nothing wrong)
    ERROR = 1  # the tool could not do its work: bad input, configuration, credentials, a bug
    FINDINGS = 2  # the gate failed on findings (run), a file differs (verify), a body is invalid
    INCOMPLETE = 3  # jobs without an answer: errors only, or a run stopped early
    ABORTED = 130  # a second Ctrl-C abandoned the run at once


class UserError(Exception):
    """Bad input or configuration; the CLI prints the message and exits with `exit_code` (1)."""

    exit_code = ExitStatus.ERROR
