"""Atomic file writes: a temporary file in the same folder, flushed, then renamed over the target."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: Path, data: str | bytes | Iterable[str], *, durable: bool = False) -> Path:
    """Readers see the old file or the new one, never a half-written one, even after a crash. Text
    given as an iterable of parts is written as it comes: a 100,000-job results.json never exists
    whole in memory, as a string or as its UTF-8 bytes. With `durable`, the folder is fsynced too:
    the new name itself survives a crash (before something that depends on it is let go)."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if isinstance(data, str | bytes):
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            else:
                for part in data:
                    handle.write(part.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if durable:
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    return path
