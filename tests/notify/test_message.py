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
        MESSAGE,
        verdict="FAILED",
        statement="FAILED: the audit could not finish: cannot read <x>.yaml",
        failure="cannot read <x>.yaml **now** ~~gone~~",
        jobs=(),
        needing=0,
    )
    # Issue #38: the failure quotes the API, so it stands in a code span where nothing of it formats.
    said = markdown(failed, 4096)
    assert "**FAILED: the audit could not finish**\n\n`cannot read ‹x›.yaml ∗∗now∗∗ ∼∼gone∼∼`" in said


# Issue #38, items 13 and 17: a failure quoting the API at length neither formats, links nor mentions
# in any platform's message, and every platform still takes it (within its limits).
def test_a_long_hostile_failure_stays_inert_and_within_every_platforms_limits():
    import json

    from audit.common.channels import ChannelSpec
    from audit.notify import CHANNELS
    from audit.notify.channel import Secrets
    from audit.notify.message import failed_run

    hostile = (
        "InvalidParameter: <!channel> <https://evil.example|click here> **bold** ~~gone~~ " + "x" * 29_000
    )
    limits = {
        "dingtalk": 4096,
        "wecom": 4096,
        "feishu": 20_000,
        "slack": None,
        "email": None,
        "webhook": None,
    }
    for kind, limit in limits.items():
        spec = ChannelSpec(
            name=kind, type=kind, url_env="U", to=("a@example.com",) if kind == "email" else ()
        )
        message = failed_run(spec, "nightly", hostile)
        url = "smtps://mail.example" if kind == "email" else "https://hooks.example/x"
        outgoing = CHANNELS[kind](spec).prepare(message, Secrets(url, "s"), 1_700_000_000.0)
        if limit is not None:
            assert len(outgoing.body) <= limit, kind
        if kind == "slack":
            body = json.loads(outgoing.body)
            assert "<!channel>" not in body["text"] and "<https://" not in body["text"]
            assert all(len(b["text"]["text"]) <= 3000 for b in body["blocks"] if b["type"] == "section")
        if kind in ("dingtalk", "wecom"):
            text = json.loads(outgoing.body)["markdown"]["text" if kind == "dingtalk" else "content"]
            outside = text.split("`")[0::2]  # what is not inside a code span
            assert not any(
                mark in part for part in outside for mark in ("<!channel>", "**bold**", "~~gone~~")
            )
