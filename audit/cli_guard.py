"""The guard every subcommand runs in: one line and an exit status for any error, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

from audit.common.errors import ExitStatus
from audit.common.terminal import Echo


def guard(command: Callable[[Echo, Echo], ExitStatus], verbose: int = 0) -> NoReturn:
    """Runs one command with printers for stdout and stderr; its return value is the exit status.

    Every command goes through here: a UserError becomes one line on stderr and its exit code, any
    other exception one line and exit 1 (the traceback only with -v), never a traceback by default.
    Each subcommand imports its module inside `command`, so `--help` loads none of them and mypy
    checks every `execute` call.
    """
    from audit.common.errors import UserError
    from audit.common.terminal import Printer

    _logging(verbose)
    echo, err = Printer(err=False), Printer(err=True)
    try:
        code = command(echo, err)
    except UserError as exc:
        err(f"vod-audit: {exc}")
        sys.exit(exc.exit_code)
    except Exception as exc:
        # A bug, not bad input: one line by default, the traceback with -v.
        if verbose:
            raise
        err(f"vod-audit: internal error: {type(exc).__name__}: {exc} (run again with -v for details)")
        sys.exit(ExitStatus.ERROR)
    sys.exit(code)


def _logging(verbose: int) -> None:
    import logging

    from audit.common.terminal import PrintableFormatter

    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO, handlers=[handler])
