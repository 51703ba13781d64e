"""The pipeline in-process: bodies from state keep their notes; another tool version re-validates."""

from __future__ import annotations

import json
import sqlite3
import threading

from audit.emulator.data import job_identity
from audit.findings import Outcome
from audit.manifest.load import load_manifests
from audit.options import RunOptions
from audit.run.connection import Connection
from audit.run.pipeline import Settings, execute
from audit.vod.endpoints import resolve
from audit.vod.keys import Credentials
from tests.conftest import sample_jobs
from tests.run.helpers import write_manifest


def settings(url, state_path):
    options = RunOptions(endpoint=url, qps=100, concurrency=4, timeout=5, retries=1)
    connection = Connection.of(
        resolve(endpoint=url), Credentials.of("emulator-ak", "emulator-secret"), options
    )
    return Settings(connections={None: connection}, options=options, state_path=state_path)


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
