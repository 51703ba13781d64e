"""Bad input corpus: each case ends with one clear line, the documented exit code, no traceback,
and nothing previously written is damaged."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.run.helpers import clean_env, cli

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

GARBAGE = bytes(random.Random(5).getrandbits(8) for _ in range(4096))
GOOD_JOB = "version: 1\njobs:\n  - {id: a1, type: ai}\n"
BOMB = "version: 1\n" + "".join(
    f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join(['*' + chr(96 + i)] * 9) if i else ', '.join(['lol'] * 9)}]\n"
    for i in range(8)
)


def results_doc(**change):
    document = json.loads((Path(__file__).parents[1] / "report" / "golden" / "results.json").read_text())
    document.update(change)
    return json.dumps(document)


# name: (files to create {name: str|bytes|None for a folder}, command, exit code, text the one line holds)
CASES = {
    # manifests
    "manifest binary garbage": ({"m.yaml": GARBAGE}, ["validate", "m.yaml"], 1, "m.yaml"),
    "manifest invalid UTF-8": (
        {"m.yaml": b"version: 1\njobs: [{id: \xff\xfe, type: ai}]\n"},
        ["validate", "m.yaml"],
        1,
        "not UTF-8 text (byte 23)",
    ),
    "manifest NUL byte": ({"m.yaml": b"version: 1\x00\n"}, ["validate", "m.yaml"], 1, "m.yaml"),
    "manifest billion laughs": ({"m.yaml": BOMB}, ["validate", "m.yaml"], 1, "YAML bomb"),
    "manifest 50 MB": ({"m.yaml": "x" * 50_000_000}, ["validate", "m.yaml"], 1, "a manifest is a mapping"),
    "manifest nested 100k deep": (
        {"m.yaml": "version: 1\njobs: " + "[" * 100_000 + "]" * 100_000},
        ["validate", "m.yaml"],
        1,
        "m.yaml",
    ),
    "manifest is a folder": ({"m.yaml": None}, ["validate", "m.yaml"], 1, "is a directory"),
    "manifest missing": ({}, ["validate", "nope.yaml"], 1, "cannot read nope.yaml"),
    "manifest empty": ({"m.yaml": ""}, ["validate", "m.yaml"], 1, "empty manifest"),
    "manifest only comments": ({"m.yaml": "# nothing\n"}, ["validate", "m.yaml"], 1, "empty manifest"),
    "manifest a list": ({"m.yaml": "- 1\n- 2\n"}, ["validate", "m.yaml"], 1, "a manifest is a mapping"),
    "manifest a scalar": ({"m.yaml": "hello\n"}, ["validate", "m.yaml"], 1, "a manifest is a mapping"),
    "manifest syntax error in run": (
        {"m.yaml": "version: 1\njobs: [\n"},
        ["run", "m.yaml", "--emulator", "data.yaml"],
        1,
        "nothing was audited",
    ),
    "manifest unknown type in run": (
        {"m.yaml": "version: 1\njobs: [{id: a, type: live}]\n"},
        ["run", "m.yaml", "--emulator", "data.yaml"],
        1,
        "nothing was audited",
    ),
    "manifest python tag": (
        {"m.yaml": "version: 1\njobs: !!python/object/apply:os.system [ls]\n"},
        ["validate", "m.yaml"],
        1,
        "unsupported YAML tag",
    ),
    # CSV job lists
    "csv invalid UTF-8": (
        {"m.yaml": "version: 1\njobs_from: [{csv: j.csv}]\n", "j.csv": b"id,type\n\xff,ai\n"},
        ["validate", "m.yaml"],
        1,
        "j.csv is not UTF-8 text",
    ),
    "csv binary garbage": (
        {"m.yaml": "version: 1\njobs_from: [{csv: j.csv}]\n", "j.csv": GARBAGE},
        ["validate", "m.yaml"],
        1,
        "j.csv",
    ),
    "csv empty": (
        {"m.yaml": "version: 1\njobs_from: [{csv: j.csv}]\n", "j.csv": ""},
        ["validate", "m.yaml"],
        1,
        "header row must start with id,type",
    ),
    "csv too many cells": (
        {"m.yaml": "version: 1\njobs_from: [{csv: j.csv}]\n", "j.csv": "id,type\na,ai,x,y\n"},
        ["validate", "m.yaml"],
        1,
        "4 cells but the header has 2 columns",
    ),
    "csv is a folder": (
        {"m.yaml": "version: 1\njobs_from: [{csv: j.csv}]\n", "j.csv": None},
        ["validate", "m.yaml"],
        1,
        "is a directory",
    ),
    "csv missing": (
        {"m.yaml": "version: 1\njobs_from: [{csv: j.csv}]\n"},
        ["validate", "m.yaml"],
        1,
        "cannot read",
    ),
    # emulator data files
    "data not YAML": (
        {"d.yaml": "jobs: [\n"},
        ["emulator", "--port", "0", "--data", "d.yaml"],
        1,
        "not valid YAML",
    ),
    "data entry without detail": (
        {"d.yaml": "jobs:\n  - {JobType: ai}\n"},
        ["emulator", "--port", "0", "--data", "d.yaml"],
        1,
        "entry 1: no AIJobDetail object",
    ),
    "data duplicate": (
        {
            "d.yaml": "jobs:\n  - {JobType: ai, AIJobDetail: {JobId: a}}\n  - {JobType: ai, AIJobDetail: {JobId: a}}\n"
        },
        ["emulator", "--port", "0", "--data", "d.yaml"],
        1,
        "entry 2: duplicate job ai a",
    ),
    "data binary": ({"d.yaml": GARBAGE}, ["emulator", "--port", "0", "--data", "d.yaml"], 1, "d.yaml"),
    "data jobs not a list": (
        {"d.yaml": "jobs: 5\n"},
        ["emulator", "--port", "0", "--data", "d.yaml"],
        1,
        "expected a mapping with a `jobs:` list",
    ),
    "data JSON list": (
        {"d.json": "[1, 2]"},
        ["emulator", "--port", "0", "--data", "d.json"],
        1,
        "expected a mapping with a `jobs:` list",
    ),
    "data for run --emulator broken": (
        {"m.yaml": GOOD_JOB, "d.yaml": "jobs: [{JobType: x}]\n"},
        ["run", "m.yaml", "--emulator", "d.yaml"],
        1,
        "entry 1: JobType must be one of",
    ),
    # results.json for `report`
    "results not JSON": ({"r.json": "{"}, ["report", "r.json", "--out", "rep"], 1, "not valid JSON"),
    "results wrong format": (
        {"r.json": results_doc(format=2)},
        ["report", "r.json", "--out", "rep"],
        1,
        "not a vod-audit results file of format 1",
    ),
    "results missing field": (
        {"r.json": json.dumps({"format": 1})},
        ["report", "r.json", "--out", "rep"],
        1,
        "not a valid results file: missing",
    ),
    "results not a list": (
        {"r.json": results_doc(results=5)},
        ["report", "r.json", "--out", "rep"],
        1,
        "not a valid results file",
    ),
    "results bad outcome": (
        {"r.json": results_doc(results=[{"outcome": "great", "findings": []}])},
        ["report", "r.json", "--out", "rep"],
        1,
        "not a valid results file",
    ),
    "results binary": ({"r.json": GARBAGE}, ["report", "r.json", "--out", "rep"], 1, "r.json"),
    "results a folder": ({"r.json": None}, ["report", "r.json", "--out", "rep"], 1, "is a directory"),
    "results missing": ({}, ["report", "r.json", "--out", "rep"], 1, "cannot read"),
    # response files for `schema validate`
    "response binary": ({"b.json": GARBAGE}, ["schema", "validate", "b.json"], 1, "b.json"),
    "response invalid UTF-8": (
        {"b.json": b'{"RequestId": "\xff"}'},
        ["schema", "validate", "b.json"],
        1,
        "not UTF-8",
    ),
    "response NaN": (
        {"b.json": '{"RequestId": NaN}'},
        ["schema", "validate", "b.json"],
        1,
        "NaN is not valid JSON",
    ),
    "response nested 100k deep": (
        {"b.json": "[" * 100_000 + "]" * 100_000},
        ["schema", "validate", "b.json"],
        1,
        "b.json",
    ),
    "response empty": ({"b.json": ""}, ["schema", "validate", "b.json"], 1, "not valid JSON"),
    "response a folder": ({"b.json": None}, ["schema", "validate", "b.json"], 1, "is a directory"),
    # command-line arguments
    "unknown flag": ({"m.yaml": GOOD_JOB}, ["run", "m.yaml", "--bogus"], 1, "No such option '--bogus'"),
    "bad number": ({"m.yaml": GOOD_JOB}, ["run", "m.yaml", "--qps", "fast"], 1, "Invalid value for '--qps'"),
    "zero qps": ({"m.yaml": GOOD_JOB}, ["run", "m.yaml", "--qps", "0"], 1, "Invalid value for '--qps'"),
    "zero concurrency": (
        {"m.yaml": GOOD_JOB},
        ["run", "m.yaml", "--concurrency", "0"],
        1,
        "Invalid value for '--concurrency'",
    ),
    "negative retries": (
        {"m.yaml": GOOD_JOB},
        ["run", "m.yaml", "--retries", "-1"],
        1,
        "Invalid value for '--retries'",
    ),
    "unknown format": (
        {"m.yaml": GOOD_JOB},
        ["run", "m.yaml", "--format", "pdf"],
        1,
        "Invalid value for '--format'",
    ),
    "out is a file": (
        {"m.yaml": GOOD_JOB, "taken": "x"},
        ["run", "m.yaml", "--emulator", "data.yaml", "--out", "taken"],
        1,
        "Directory 'taken' is a file",
    ),
    "out under a file": (
        {"m.yaml": GOOD_JOB, "taken": "x"},
        ["run", "m.yaml", "--emulator", "data.yaml", "--out", "taken/reports"],
        1,
        "cannot write there",
    ),
    "out unwritable": (
        {"m.yaml": GOOD_JOB},
        ["run", "m.yaml", "--emulator", "data.yaml", "--out", "/proc/vod-audit"],
        1,
        "cannot write there",
    ),
    "state is a folder": (
        {"m.yaml": GOOD_JOB, "st": None},
        ["run", "m.yaml", "--emulator", "data.yaml", "--state", "st", "--out", "o"],
        1,
        "--state st is a folder: give a file (or a postgresql:// URL)",
    ),
    "emulator file missing": (
        {"m.yaml": GOOD_JOB},
        ["run", "m.yaml", "--emulator", "nope.yaml"],
        1,
        "does not exist",
    ),
    "endpoint not http": (
        {"m.yaml": GOOD_JOB},
        ["run", "m.yaml", "--endpoint", "ftp://x"],
        1,
        "is not an http(s) URL",
    ),
    "plain http elsewhere": (
        {"m.yaml": GOOD_JOB},
        ["run", "m.yaml", "--endpoint", "http://10.1.2.3"],
        1,
        "refusing plain http to 10.1.2.3",
    ),
    "bad region": ({"m.yaml": GOOD_JOB}, ["run", "m.yaml", "--region", "Shanghai!"], 1, "is not a region ID"),
    "no credentials": ({"m.yaml": GOOD_JOB}, ["run", "m.yaml"], 1, "no credentials found"),
    "unknown profile": (
        {"m.yaml": GOOD_JOB},
        ["run", "m.yaml", "--profile", "nope"],
        1,
        "config.json: not found",
    ),
    "import bad type": (
        {"ids": "a\n"},
        ["import", "--type", "live", "--ids", "ids"],
        1,
        "Invalid value for '--type'",
    ),
    "import ids missing": (
        {},
        ["import", "--type", "ai", "--ids", "nope", "--emulator", "data.yaml"],
        1,
        "cannot read",
    ),
    "import ids empty": (
        {"ids": "# none\n"},
        ["import", "--type", "ai", "--ids", "ids", "--emulator", "data.yaml"],
        1,
        "no job ids in it",
    ),
    "unknown target": (
        {"m.yaml": GOOD_JOB},
        ["run", "m.yaml", "--emulator", "data.yaml", "--target", "zz", "--out", "o"],
        1,
        "--target zz: no such job",
    ),
    "unknown command": ({}, ["audit-everything"], 1, "No such command"),
}


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(tmp_path, name):
    files, command, code, text = CASES[name]
    (tmp_path / "data.yaml").write_text("jobs: []\n")
    for file, content in files.items():
        path = tmp_path / file
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    previous = tmp_path / "o" / "results.json"
    previous.parent.mkdir(exist_ok=True)
    previous.write_text('{"earlier": "report"}')
    done = cli(*command, cwd=tmp_path, env=clean_env(HOME=str(tmp_path)), timeout=120)
    lines = [line for line in done.stderr.splitlines() if line.strip()] + [
        line for line in done.stdout.splitlines() if line.strip() and "problem" not in line
    ]
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    assert any(text in line for line in lines), (text, done.stdout, done.stderr)
    if command[0] != "validate":
        assert len(done.stderr.strip().splitlines()) <= 2, done.stderr  # one line (plus a manifest problem)
    assert previous.read_text() == '{"earlier": "report"}'  # nothing previously written is damaged
