"""The words of a message shared by every notifier, and the two ways a value from the API is kept inert."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from audit.notify.message import Message
from audit.results.attention import ActionLine

_SHOWN = 160  # characters of a finding's message or a description a chat line keeps


def counts_line(message: Message) -> str:
    """`jobs: 3 drift, 1 invalid, 40 ok · new 1, ongoing 3, resolved 0`."""
    counts = ", ".join(f"{n} {name}" for name, n in message.counts.items() if n)
    changes = ", ".join(f"{name} {n}" for name, n in message.changes.items())
    return f"jobs: {counts or 'none'} · {changes}"


def where_line(message: Message) -> str:
    """Which run this is, and a warning when it ran against the embedded emulator."""
    line = f"audit {message.audit} · run {message.run_id} · {message.started_at}"
    return line + (" · against the embedded emulator, not the real service" if message.emulator else "")


def job_head(line: ActionLine) -> str:
    """`new drift transcode`: the words before a job's id (ours, never from the API)."""
    return " ".join((line.change or "new", line.outcome, line.job_type))


def since(line: ActionLine) -> str:
    """`failing since 2026-11-20, 10 nights` for an ongoing job, or "" (new, or not known)."""
    if not line.since or line.change != "ongoing":
        return ""
    return f"failing since {line.since}, {line.nights} night{'s' if line.nights != 1 else ''}"


def plain_job(line: ActionLine) -> str:
    """A job's whole line as plain text (e-mail, Slack and Feishu plain_text, the webhook's preview)."""
    extra = "; ".join(p for p in (since(line), f"owner {line.owner}" if line.owner else "") if p)
    return f"{job_head(line)} {line.job_id}: {short(line.said)}" + (f" ({extra})" if extra else "")


def markdown(message: Message, limit: int) -> str:
    """The message as the Markdown of DingTalk and WeCom robots, within `limit` UTF-8 bytes: every
    value not ours (ids, what is wrong, owners, the title) in code spans or made inert."""

    def job(line: ActionLine) -> str:
        extra = "; ".join(p for p in (since(line), f"owner {code(line.owner)}" if line.owner else "") if p)
        return f"- {job_head(line)} {code(line.job_id)}: {code(line.said)}" + (f" ({extra})" if extra else "")

    def render(kept: list[str], untold: int) -> str:
        # The statement of a failed run quotes the failure, and an audit's name is the manifest's.
        parts = [f"### {inert(message.title)}", ""]
        if message.failure is None:
            parts.append(f"**{inert(message.statement, 600)}**")
        else:  # the failure quotes the API: in a code span, where nothing of it formats
            parts += ["**FAILED: the audit could not finish**", "", code(message.failure, 600)]
        if message.failure is None:
            parts += ["", counts_line(message), inert(where_line(message), 300)]
        if kept or untold:
            parts += ["", f"#### Needs action ({message.needing})", *kept]
            if untold:
                parts.append(f"- and {untold} more")
        if message.report_url:
            parts += ["", f"[Open the report]({message.report_url})"]
        return "\n".join(parts)

    return fit([job(line) for line in message.jobs], message.more, render, limit)


def inert(text: str, width: int = _SHOWN) -> str:
    """Text from a manifest or the API outside a code span: one line, no angle brackets or brackets
    (no mention, tag or link can be made of it), no asterisk or tilde (no bold or strike-through)."""
    table = str.maketrans({"<": "‹", ">": "›", "[": "［", "]": "］", "`": "ˋ", "*": "∗", "~": "∼"})
    return short(text, width).translate(table)


def short(text: str, width: int = _SHOWN) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def code(text: str, width: int = _SHOWN) -> str:
    """A value inside a Markdown code span, and inert besides (robot Markdown dialects are not all
    CommonMark): no backquote to close the span, no tag or mention (WeCom's `<@user>`, `<font>`), no
    link."""
    shown = inert(text, width)
    return f"`{shown}`" if shown else ""


def fit(lines: Sequence[str], more: int, render: Callable[[list[str], int], str], limit: int) -> str:
    """`render(kept, untold)` for the longest prefix of `lines` whose rendering fits in `limit` UTF-8
    bytes (`untold`: jobs not named, said as "and N more"); a message is never split in several."""
    low, high = 0, len(lines)
    while low < high:  # the longest prefix that fits: renderings only grow with more lines
        middle = (low + high + 1) // 2
        if len(render(list(lines[:middle]), more + len(lines) - middle).encode("utf-8")) <= limit:
            low = middle
        else:
            high = middle - 1
    return render(list(lines[:low]), more + len(lines) - low)
