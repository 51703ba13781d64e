"""The pipeline in-process: bodies from state keep their notes; another tool version re-validates."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading

import yaml

from audit.calls.connection import Connection
from audit.common.findings import Outcome
from audit.common.where import state_at
from audit.emulator.data import job_identity
from audit.manifest.load import load_manifests
from audit.options import RunOptions
from audit.plan.build import build
from audit.plan.routes import routes_of
from audit.run.commit import settle
from audit.run.pipeline import Settings
from audit.run.pipeline import execute as audit
from audit.state.backends import open_store
from audit.vod.endpoints import resolve
from audit.vod.keys import Credentials
from tests.conftest import sample_jobs
from tests.run.helpers import write_manifest


def settings(url, state_path):
    options = RunOptions(endpoint=url, qps=100, concurrency=4, timeout=5, retries=1)
    connection = Connection.of(
        resolve(endpoint=url), Credentials.of("emulator-ak", "emulator-secret"), options
    )
    return Settings(connections={None: connection}, options=options), state_path


def execute(manifest, prepared, *, stop):
    """A run in-process as the command makes it: the plan built and executed, the run settled."""
    settings, state_path = prepared
    store = open_store(state_at(str(state_path)))
    try:
        options = settings.options
        plan = build(manifest, routes_of(settings.connections), store, options)
        audited = audit(manifest, plan, settings, store, stop=stop)
        settle(store, audited, None)
        return audited.record
    finally:
        store.close()


def test_state_keeps_notes_and_revalidates_under_another_version(start_emulator, tmp_path):
    body = sample_jobs()[0]
    body["TranscodeJobDetail"]["Bitrate"] = 3000  # a field the schema does not know: a note
    emulator = start_emulator(jobs=[body], qps=0)
    manifest = load_manifests([write_manifest(tmp_path / "m.yaml", [body])], env={})
    state_path = tmp_path / "state.db"
    first = execute(manifest, settings(emulator.url, state_path), stop=threading.Event())
    second = execute(manifest, settings(emulator.url, state_path), stop=threading.Event())
    assert emulator.counters.snapshot()["total"] == 1
    assert second.results[0].from_state and second.results[0].notes == first.results[0].notes
    assert first.results[0].notes == (
        "/TranscodeJobDetail/Bitrate: unknown field (the schema does not define it)",
    )

    job_type, job_id = job_identity(body)
    broken = json.loads(json.dumps({"RequestId": "r", **body}))
    broken["TranscodeJobDetail"]["CompleteTime"] += "\n"
    with sqlite3.connect(state_path) as database:
        database.execute("UPDATE responses SET body=? WHERE job_id=?", (json.dumps(broken), job_id))
    trusted = execute(manifest, settings(emulator.url, state_path), stop=threading.Event())
    assert trusted.results[0].outcome is Outcome.OK  # same version: the stored verdict stands
    with sqlite3.connect(state_path) as database:
        database.execute("UPDATE responses SET checked_with='0.0.0' WHERE job_id=?", (job_id,))
    rechecked = execute(manifest, settings(emulator.url, state_path), stop=threading.Event())
    assert rechecked.results[0].outcome is Outcome.INVALID and rechecked.results[0].from_state
    assert emulator.counters.snapshot()["total"] == 1
    assert job_type == "transcode"


def test_an_answer_reused_from_state_keeps_its_text_and_its_parsed_form(tmp_path):
    import json as json_module

    from tests.hostile import Reply, hostile

    body = sample_jobs()[0]
    spaced = json_module.dumps({"RequestId": "r", **body}, indent=2)  # as received: not compact
    with hostile(lambda query: Reply(spaced.encode())) as url:
        manifest = load_manifests([write_manifest(tmp_path / "m.yaml", [body])], env={})
        first = execute(manifest, settings(url, tmp_path / "s.db"), stop=threading.Event())
        second = execute(manifest, settings(url, tmp_path / "s.db"), stop=threading.Event())
    for result in (first.results[0], second.results[0]):
        assert result.response_text == spaced
        assert json_module.loads(result.body_json) == json_module.loads(spaced)
        assert result.body_json == json_module.dumps(json_module.loads(spaced), separators=(",", ":"))
    assert second.results[0].from_state


def test_a_final_answer_is_judged_again_only_when_what_judged_it_changes(start_emulator, tmp_path):
    bodies = sample_jobs()
    emulator = start_emulator(jobs=bodies, qps=0)
    path = write_manifest(tmp_path / "m.yaml", bodies)
    state_path = tmp_path / "state.db"
    first = execute(
        load_manifests([path], env={}), settings(emulator.url, state_path), stop=threading.Event()
    )
    second = execute(
        load_manifests([path], env={}), settings(emulator.url, state_path), stop=threading.Event()
    )
    reused = [r for r in second.results if r.from_state]
    assert reused, "some sample jobs are final"
    fresh = {r.ref: r for r in first.results}
    for result in reused:  # the judgement read back is the judgement made
        again = dataclasses.replace(result, from_state=False, attempts=fresh[result.ref].attempts)
        assert again == dataclasses.replace(fresh[result.ref], change=result.change)

    # A judgement planted in state shows that it is read back, not made again...
    planted = json.dumps(
        ["drift", [["mismatch", "Planted", "x", "y", "planted", "error"]], [], "S", 1.0, "r", {}]
    )
    with sqlite3.connect(state_path) as database:
        database.execute("UPDATE responses SET judged=? WHERE final=1", (planted,))
    third = execute(
        load_manifests([path], env={}), settings(emulator.url, state_path), stop=threading.Event()
    )
    assert {r.ref for r in third.results if any(f.field == "Planted" for f in r.findings)} == {
        r.ref for r in reused
    }
    # ...until the expectation changes (a job's words), or --strict does: then each is judged afresh.
    text = path.read_text()
    document = yaml.safe_load(text)
    path.write_text(
        yaml.safe_dump(
            {**document, "jobs": [{**j, "expect": {"max_duration": "3650d"}} for j in document["jobs"]]}
        )
    )
    changed = execute(
        load_manifests([path], env={}), settings(emulator.url, state_path), stop=threading.Event()
    )
    prepared, _ = settings(emulator.url, state_path)
    strict = (
        dataclasses.replace(
            prepared,
            options=RunOptions(
                endpoint=emulator.url, qps=100, concurrency=4, timeout=5, retries=1, strict=True
            ),
        ),
        state_path,
    )
    path.write_text(text)
    stricter = execute(load_manifests([path], env={}), strict, stop=threading.Event())
    for night in (changed, stricter):
        assert not any(f.field == "Planted" for r in night.results for f in r.findings)
        assert {r.ref for r in night.results if r.from_state} == {r.ref for r in reused}
    assert emulator.counters.snapshot()["total"] == len(bodies) + 4 * (len(bodies) - len(reused))
