"""Reading input files safely: regular files only, never blocking on a FIFO, never past a size cap."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

# Far above any manifest, CSV list, data file or results.json a run needs (a 100,000-job
# results.json is about 100 MB), and below what would exhaust memory.
MAX_INPUT = 512 << 20


class NotReadable(OSError):
    """The path names no regular file of a readable size; `strerror` says why in words."""


def open_input(path: str | os.PathLike[str], limit: int = MAX_INPUT) -> BinaryIO:
    """A regular file opened for reading, or NotReadable (a device, FIFO or socket, or over `limit`).

    The file is opened without blocking, so a FIFO with no writer cannot hang the command, and its
    kind is checked on the open descriptor, so nothing can swap it in between.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise
    except OSError as exc:
        raise NotReadable(exc.errno or errno.EIO, exc.strerror or str(exc)) from None
    stream = os.fdopen(descriptor, "rb")
    info = os.fstat(descriptor)
    problem = None
    if stat.S_ISDIR(info.st_mode):
        stream.close()
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        problem = NotReadable(errno.EINVAL, "not a regular file (a device, pipe or socket)")
    elif info.st_size > limit:
        problem = NotReadable(errno.EFBIG, f"larger than {limit >> 20} MiB")
    if problem is not None:
        stream.close()
        raise problem
    return stream


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a regular file, read in blocks (event logs and results.json can be large)."""
    digest = hashlib.sha256()
    with open_input(path) as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ids_in(text: str) -> list[str]:
    """One id per line, in order, each once; blank lines and `#` comments skipped (--ids, media_file)."""
    lines = (line.strip() for line in text.splitlines())
    return list(dict.fromkeys(line for line in lines if line and not line.startswith("#")))


def read_input(path: str | os.PathLike[str], limit: int = MAX_INPUT) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; NotReadable otherwise (see open_input)."""
    with open_input(path, limit) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:  # it grew while being read
        raise NotReadable(errno.EFBIG, f"larger than {limit >> 20} MiB")
    return data


def read_secret(variable: str | None, file: str | None, env: Mapping[str, str], named: str) -> str | None:
    """A secret from an environment variable or a file (bounded, stripped), never from a command
    line; None when neither is named. ValueError says what is wrong with it, never its value;
    `named` says whose it is in that sentence ("the channel's URL", "the AuthKey")."""
    if variable is not None:
        value = env.get(variable, "").strip()
        if not value:
            raise ValueError(f"environment variable {variable} ({named}) is not set")
        return value
    if file is None:
        return None
    try:
        value = read_input(Path(file)).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {file} ({named}): {getattr(exc, 'strerror', None) or exc}") from None
    if not value:
        raise ValueError(f"{file} ({named}) is empty")
    return value
