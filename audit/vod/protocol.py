"""Facts of the GetJobDetail operation that both sides of the wire (client and emulator) rely on."""

from __future__ import annotations

ACTION = "GetJobDetail"
VERSION = "2017-03-21"

# "You can call this operation up to 15 times per second per account." (GetJobDetail reference, QPS limit)
DOCUMENTED_QPS = 15.0
