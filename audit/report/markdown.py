"""summary.md: a few lines and a small table, fit for a CI step summary."""

from __future__ import annotations

import re
from pathlib import Path

from audit.common.atomic import write_atomic
from audit.common.findings import warning_words
from audit.common.terminal import printable
from audit.common.words import counted
from audit.results.attention import DISCOVERY_WORDS, discovered, needing_action
from audit.results.parts import WaiverRecord
from audit.results.record import JobResult, RunRecord, waiver_lines

TOP_FINDINGS = 10
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def escape(text: str) -> str:
    """Markdown-inert text, one line: emphasis, code, link, table and HTML characters neutralised."""
    flat = " ".join(text.split())
    return _SPECIAL.sub(r"\\\1", flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def render(run: RunRecord) -> str:
    where = "the embedded emulator (not the real service)" if run.emulator else escape(run.endpoint)
    lines = [
        f"## vod-audit: {run.verdict}",
        "",
        f"**{escape(run.statement)}**",
        "",
        f"{len(run.results)} of {counted(run.planned, 'job')} audited against {where}; "
        f"{counted(run.calls, 'call')}, {counted(run.retries, 'retry', 'retries')}, {run.throttles} throttled.",
        "",
        "| outcome | jobs |",
        "|---|---:|",
        *(f"| {name} | {count} |" for name, count in run.counts.items()),
    ]
    if run.warnings:
        warned = sum(1 for r in run.results if r.warnings)
        lines += [
            "",
            f"{run.warnings} warning{'s' if run.warnings != 1 else ''} in {warned} job{'s' if warned != 1 else ''} "
            f"({warning_words(f.kind for r in run.results for f in r.warnings)}; they change no outcome).",
        ]
    changes = run.changes
    lines += [
        "",
        f"Since the last run: {changes.get('new', 0)} new, {changes.get('resolved', 0)} resolved, "
        f"{changes.get('ongoing', 0)} ongoing.",
    ]
    # One list, each job once: new first, then ongoing (a first night's findings are all new).
    failing = needing_action(run)
    if failing:
        lines += ["", "### Needs action", ""]
        lines += [_job_line(r) for r in failing[:TOP_FINDINGS]]
        if len(failing) > TOP_FINDINGS:
            lines.append(f"- and {len(failing) - TOP_FINDINGS} more (see report.html)")
    lines += _discovery(run)
    notes = waiver_lines(run, escape)
    if notes or run.waivers:
        lines += ["", "### Waivers", "", *(f"- {note}" for note in notes)]
    if run.waivers:
        lines += [
            "",
            "| job | scope | reason | owner | expires | state | waived this run |",
            "|---|---|---|---|---|---|---:|",
            *(_waiver_row(w) for w in run.waivers),
        ]
    return "\n".join(lines) + "\n"


def _discovery(run: RunRecord) -> list[str]:
    """What each media source found and cost, then the jobs discovery has findings about, by kind."""
    if not run.discovery:
        return []
    lines = ["", "### Discovery", ""]
    for found in run.discovery:
        calls = ", ".join(f"{escape(op)} {n}" for op, n in found.calls.items())
        lines.append(
            f"- {code(found.source)} ({escape(found.provider)}, {escape(found.window)}): {found.media} media, "
            f"{counted(found.jobs, 'job')} listed, {found.added} named by no list; calls {calls or 'none'}"
            + (f"; {counted(len(found.notes), 'note')} on the answers (results.json)" if found.notes else "")
        )
    for kind, results in discovered(run).items():
        named = ", ".join(code(f"{r.job_type} {r.job_id}") for r in results[:TOP_FINDINGS])
        more = f" and {len(results) - TOP_FINDINGS} more" if len(results) > TOP_FINDINGS else ""
        lines.append(f"- **{kind}**, {DISCOVERY_WORDS[kind]} ({len(results)}): {named}{more}")
    return lines


def _job_line(result: JobResult) -> str:
    said = result.counted[0].message if result.counted else result.outcome.value
    change = f" ({result.change})" if result.change in ("new", "ongoing") else ""
    return f"- **{result.outcome.value}**{change} {escape(result.job_type)} {code(result.job_id)}: {escape(said)}"


def _waiver_row(waiver: WaiverRecord) -> str:
    cells = [
        code(waiver.job),
        escape(waiver.scope),
        escape(waiver.reason),
        escape(waiver.owner or ""),
        waiver.expires,
    ]
    return "| " + " | ".join([*cells, waiver.state, str(waiver.waived)]) + " |"


def code(text: str) -> str:
    """A code span that stays one: no line break can end it (escapes are not read inside one, so what
    would break it is shown escaped or dropped)."""
    return f"`{printable(' '.join(text.split())).replace('`', '')}`"


class MarkdownReport:
    name = "md"

    def write(self, run: RunRecord, out: Path) -> list[Path]:
        return [write_atomic(out / "summary.md", render(run))]
