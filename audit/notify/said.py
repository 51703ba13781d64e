"""Which channels a command may name, and how every command says what became of each."""

from __future__ import annotations

from collections.abc import Sequence

from audit.common.channels import ChannelSpec
from audit.common.errors import UserError
from audit.results.parts import NotificationRecord


def check_chosen(chosen: Sequence[str], specs: Sequence[ChannelSpec]) -> None:
    """Every name of --notify/--channel must be a channel of the manifest."""
    names = [spec.name for spec in specs]
    for name in chosen:
        if name not in names:
            known = ", ".join(names) or "none"
            raise UserError(f"--notify {name}: no such channel in the manifest's notify: ({known})")


def record_lines(records: Sequence[NotificationRecord]) -> list[str]:
    """`notified oncall (dingtalk, on new): sent`, one line per channel."""
    lines = []
    for record in records:
        why = f" ({record.why})" if record.why else ""
        lines.append(f"notify {record.channel} ({record.type}, on {record.on}): {record.status}{why}")
    return lines
