"""Errors a user can act on: printed as one clear line, never as a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or configuration; the CLI prints the message and exits 1."""

    exit_code = 1
