"""VOD event notifications as a job source: the reference's event bodies, repeats, windows, errors."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit.manifest.load import ManifestInvalid, load_manifests

EVENTS = Path(__file__).parents[1] / "fixtures" / "events"
BODIES = {path.stem: json.loads(path.read_text()) for path in EVENTS.glob("*.json")}


def write(folder: Path, name: str, bodies: list, *, array: bool = False) -> Path:
    text = json.dumps(bodies) if array else "".join(json.dumps(b) + "\n" for b in bodies)
    path = folder / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    return path


def manifest(folder: Path, source: dict, jobs: list | None = None, defaults: dict | None = None) -> Path:
    document = {"version": 1, "jobs_from": [source], "jobs": jobs or []}
    if defaults:
        document["defaults"] = defaults
    path = folder / "m.yaml"
    path.write_text(json.dumps(document))
    return path


def jobs(path: Path, now: datetime | None = None) -> dict[tuple[str, str], object]:
    loaded = load_manifests([path], env={}, now=now)
    return {(j.job_type, j.job_id): j for j in loaded.jobs}


def test_each_event_type_of_the_reference_yields_its_jobs(tmp_path):
    write(tmp_path, "events.jsonl", list(BODIES.values()))
    found = jobs(manifest(tmp_path, {"events": "events.jsonl"}))
    assert set(found) == {
        ("transcode", "d5b6e5ed5f2e4f2c9d8e7a1b0c3d****"),
        ("transcode", "80e9c6580e2d4f1c8a0b7c6d5e4f****"),
        ("transcode", "33c9d0d2e3f44a5b9c8d7e6f5a4b****"),
        ("snapshot", "8a9b7c6d5e4f40312a1b0c9d8e7f****"),
        ("ai", "43q91jdh7df****"),
        ("workflow", "46ecc024******92c8e26237e51"),
    }
    loaded = load_manifests([tmp_path / "m.yaml"], env={})
    assert loaded.events == (6, 1)  # the upload event is read, skipped and counted


def test_a_job_named_by_several_events_is_one_job_at_its_first_line(tmp_path):
    stream = BODIES["StreamTranscodeComplete"]
    write(tmp_path, "e.jsonl", [stream, BODIES["TranscodeComplete"], stream])
    found = jobs(manifest(tmp_path, {"events": "e.jsonl"}))
    assert len(found) == 3
    assert str(found[("transcode", stream["JobId"])].position) == f"{tmp_path / 'e.jsonl'}:1:1"


def test_events_get_their_types_defaults_and_listed_jobs_keep_their_own(tmp_path):
    stream = BODIES["StreamTranscodeComplete"]
    write(tmp_path, "e.jsonl", [stream, BODIES["TranscodeComplete"]])
    listed = [{"id": stream["JobId"], "type": "transcode", "expect": {"Definition": "FD"}}]
    path = manifest(tmp_path, {"events": "e.jsonl"}, listed, {"transcode": {"Status": "TranscodeSuccess"}})
    found = jobs(path)
    own = dict(found[("transcode", stream["JobId"])].expect)
    assert set(own) == {"Status", "Definition"}  # listed: its own expectation, no duplicate error
    other = dict(found[("transcode", "33c9d0d2e3f44a5b9c8d7e6f5a4b****")].expect)
    assert set(other) == {"Status"}  # from the event: the type's defaults


def test_gz_array_files_and_globs(tmp_path):
    (tmp_path / "events").mkdir()
    write(tmp_path / "events", "2026-11-24.jsonl.gz", [BODIES["AIMediaAuditComplete"]])
    write(tmp_path / "events", "2026-11-25.json", [BODIES["WorkflowTaskComplete"]], array=True)
    write(tmp_path / "events", "2026-10-01.jsonl", [BODIES["SnapshotComplete"]])
    found = jobs(manifest(tmp_path, {"events": "events/2026-11-*"}))
    assert set(found) == {("ai", "43q91jdh7df****"), ("workflow", "46ecc024******92c8e26237e51")}


def test_the_time_window_applies_to_event_time(tmp_path):
    early = {**BODIES["StreamTranscodeComplete"], "EventTime": "2026-11-23T12:00:00Z", "JobId": "early"}
    late = {**BODIES["StreamTranscodeComplete"], "EventTime": "2026-11-24T23:00:00Z", "JobId": "late"}
    millis = {**BODIES["AIMediaAuditComplete"], "EventTime": "2026-11-24T20:00:00:540Z"}
    write(tmp_path, "e.jsonl", [early, late, millis])
    now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    found = jobs(manifest(tmp_path, {"events": "e.jsonl", "since": "24h"}), now)
    assert set(found) == {("transcode", "late"), ("ai", "43q91jdh7df****")}
    window = {"events": "e.jsonl", "since": "2026-11-23T00:00:00Z", "until": "2026-11-24T21:00:00Z"}
    assert set(jobs(manifest(tmp_path, window), now)) == {("transcode", "early"), ("ai", "43q91jdh7df****")}


def test_broken_lines_and_events_without_ids_are_problems_at_file_and_line(tmp_path):
    path = tmp_path / "e.jsonl"
    lines = [
        json.dumps(BODIES["StreamTranscodeComplete"]),
        "",
        "{not json",
        json.dumps({**BODIES["TranscodeComplete"], "StreamInfos": [{"Status": "success"}]}),
        json.dumps({"EventType": "WorkflowTaskComplete", "EventTime": "2025-10-15T02:00:34Z"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ManifestInvalid) as caught:
        load_manifests([manifest(tmp_path, {"events": "e.jsonl", "since": "soon"})], env={})
    problems = [str(p) for p in caught.value.problems]
    assert problems[:3] == [
        f"{path}:3:1: not a JSON event body (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        f"{path}:4:1: an event of type TranscodeComplete without its job id (StreamInfos[].JobId)",
        f"{path}:5:1: an event of type WorkflowTaskComplete without its job id (TaskId)",
    ]
    assert problems[3].startswith(f"{tmp_path / 'm.yaml'}:1:")
    assert problems[3].endswith(
        "'soon' is neither a UTC time YYYY-MM-DDTHH:mm:ssZ nor a duration such as 24h"
    )


def test_a_glob_that_matches_nothing_and_a_source_of_two_kinds_are_problems(tmp_path):
    with pytest.raises(ManifestInvalid) as caught:
        load_manifests([manifest(tmp_path, {"events": "nothing-*.jsonl"})], env={})
    assert "no file matches 'nothing-*.jsonl'" in str(caught.value)
    with pytest.raises(ManifestInvalid) as caught:
        load_manifests([manifest(tmp_path, {"events": "a", "csv": "b"})], env={})
    assert "a job list is either csv: FILE or events: FILE or media: {...}" in str(caught.value)


def test_a_window_belongs_to_event_lists_only(tmp_path):
    (tmp_path / "jobs.csv").write_text("id,type\nj1,transcode\n")
    with pytest.raises(ManifestInvalid) as caught:
        load_manifests([manifest(tmp_path, {"csv": "jobs.csv", "since": "24h"})], env={})
    assert [p.message for p in caught.value.problems] == ["since applies to events: only"]
