"""Issue #27: when each channel hears of a run, and where its secrets may come from and go to."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from audit.common.findings import Outcome
from audit.notify.message import trigger_holds
from audit.notify.send import Options, Unresolved, resolve, tell_run
from tests.notify.capture import Capture, answer
from tests.notify.records import failing, spec


def test_each_trigger_holds_when_its_event_happened():
    new, ongoing = failing(2), failing(2, change="ongoing")
    clean = replace(new, results=())
    errors = replace(new, results=(replace(new.results[0], outcome=Outcome.ERROR, findings=()),))
    cut = replace(ongoing, incomplete=True)
    expect = {
        "new": (new,),
        "findings": (new, ongoing, cut),
        "failure": (errors, cut),
        "always": (new, ongoing, clean, errors, cut),
    }
    for on, holds in expect.items():
        for run in (new, ongoing, clean, errors, cut):
            said = trigger_holds(on, run)
            assert (said is None) == any(run is r for r in holds), (on, run.results[:1], said)


def test_off_and_not_chosen_channels_are_recorded_and_never_sent():
    capture = Capture(answer(b"ok"))
    specs = [spec("slack", name="a"), spec("slack", name="b")]
    env = {"URL": "https://hooks.slack.com/services/T/B/x"}
    told = tell_run(failing(1), specs, Options(chosen={"b"}), env, adapter=capture)
    assert [(t.record.channel, t.record.status) for t in told] == [("a", "off"), ("b", "sent")]
    told = tell_run(failing(1), specs, Options(off=True), env, adapter=capture)
    assert {t.record.status for t in told} == {"off"} and {t.record.why for t in told} == {"--no-notify"}
    skipped = tell_run(
        failing(1, change="ongoing"), [spec("slack", on="new")], Options(), env, adapter=capture
    )
    assert skipped[0].record.status == "skipped" and skipped[0].record.why == "no job has new findings"
    assert len(capture.requests) == 1  # b, once


def test_secrets_come_from_variables_or_files_and_go_only_where_they_may(tmp_path):
    url_file = tmp_path / "url"
    url_file.write_text("https://hooks.slack.com/services/T/B/secret-part\n")
    assert resolve(spec("slack", url_env=None, url_file=str(url_file)), {}).url.endswith("secret-part")
    refused = {
        "environment variable URL (the channel's URL) is not set": (spec("slack"), {}),
        "an http:// URL is only sent to this machine": (spec("slack"), {"URL": "http://hooks.example/x"}),
        "does not hold a https:// or http:// URL": (spec("slack"), {"URL": "ftp://x.example/y"}),
        "does not hold a smtp:// or smtps:// URL": (spec("email"), {"URL": "https://mail.example"}),
        "signs every message": (spec("webhook", secret_env=None), {"URL": "https://r.example/h"}),
        "empty": (spec("slack", url_env=None, url_file=str(tmp_path / "blank")), {}),
    }
    (tmp_path / "blank").write_text("\n")
    for said, (channel, env) in refused.items():
        with pytest.raises(Unresolved, match=re.escape(said)) as caught:
            resolve(channel, env)
        for value in env.values():
            assert value not in str(caught.value)
    assert resolve(spec("webhook"), {"URL": "http://127.0.0.1:9/h", "SECRET": "s3cr3t-value"}).secret


def test_a_channel_that_cannot_resolve_is_failed_with_the_reason_and_sends_nothing():
    capture = Capture(answer(b"ok"))
    told = tell_run(failing(1), [spec("slack")], Options(), {}, adapter=capture)
    assert told[0].record.status == "failed" and "URL" in told[0].record.why and not capture.requests
