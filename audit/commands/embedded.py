"""`--emulator DATA` on `run` and `import`: the embedded emulator served in-process while the command runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from audit.calls.connection import Fixed
from audit.emulator.config import EmulatorConfig
from audit.emulator.data import read_data_file
from audit.emulator.server import Emulator
from audit.vod.keys import Credentials


@contextmanager
def embedded(data: str | None) -> Iterator[Fixed | None]:
    """With a data file, the emulator on a free loopback port and its own key (real credentials are
    never sent to it), stopped on the way out; without one, None: the real service is audited."""
    if not data:
        yield None
        return
    config = EmulatorConfig(port=0)
    found = read_data_file(data)
    emulator = Emulator(found.jobs, config, found.media).start()
    try:
        own = Credentials.of(config.access_key_id, config.access_key_secret, source="emulator")
        yield Fixed(emulator.url, own, f"emulator:{Path(data).resolve()}")
    finally:
        emulator.stop()
