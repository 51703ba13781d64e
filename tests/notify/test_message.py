"""Issue #27: the Markdown robots get, line by line: ongoing jobs say since when, owners and names stay inert."""

from __future__ import annotations

from dataclasses import replace

from audit.notify.message import Message
from audit.notify.text import markdown
from audit.results.attention import ActionLine


def line(**fields: object) -> ActionLine:
    values: dict[str, object] = {
        "change": "ongoing",
        "outcome": "drift",
        "job_type": "transcode",
        "job_id": "j1",
        "said": "Status is TranscodeFail",
        "description": "",
        "since": "2026-11-20",
        "nights": 10,
        "owner": "",
    }
    values.update(fields)
    return ActionLine(**values)  # type: ignore[arg-type]


MESSAGE = Message(
    title="nightly [see](https://evil.example)",
    audit="video <@all>",
    run_id="r1",
    started_at="2026-11-29T01:00:00Z",
    event="new",
    verdict="FAIL",
    statement="FAIL: 2 jobs with findings (1 new); gate --fail-on any: failed, exit 2",
    jobs=(line(), line(change="new", job_id="j2", owner="media <@all>", since="2026-11-29", nights=1)),
    needing=2,
)


def test_each_job_line_says_what_it_knows_and_nothing_formats():
    text = markdown(MESSAGE, 4096)
    assert (
        "- ongoing drift transcode `j1`: `Status is TranscodeFail` (failing since 2026-11-20, 10 nights)"
        in text
    )
    assert "- new drift transcode `j2`: `Status is TranscodeFail` (owner `media ‹@all›`)" in text
    for dangerous in ("<@all>", "](https://evil.example)"):
        assert dangerous not in text
    failed = replace(
        MESSAGE, verdict="FAILED", statement="FAILED: cannot read <x>.yaml", failure="x", jobs=(), needing=0
    )
    assert "**FAILED: cannot read ‹x›.yaml**" in markdown(failed, 4096)
