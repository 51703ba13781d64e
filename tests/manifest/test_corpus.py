"""The malformed-manifest corpus: each file's problems, exactly, at the right line and column."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit.manifest.load import ManifestInvalid, load_manifests

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(CORPUS.glob("[0-9]*.yaml"))


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert all(case.with_suffix(".expected").is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_each_malformed_manifest(case, monkeypatch):
    monkeypatch.chdir(CORPUS)
    expected = case.with_suffix(".expected").read_text().splitlines()
    with pytest.raises(ManifestInvalid) as caught:
        load_manifests([case.name], env={})
    assert [str(problem) for problem in caught.value.problems] == expected


def _validate_in_corpus(*names: str) -> subprocess.CompletedProcess[str]:
    """`vod-audit validate` run in the corpus folder, so that messages name files as written."""
    return subprocess.run(
        [sys.executable, "-m", "audit", "validate", *names],
        cwd=CORPUS,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(CORPUS.parents[2])},
    )


def test_validate_prints_every_problem_and_exits_1():
    case = CORPUS / "52_workflow_object_matcher.yaml"
    done = _validate_in_corpus(case.name)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        *case.with_suffix(".expected").read_text().splitlines(),
        "2 problems found",
    ]
    assert "Traceback" not in done.stderr


def test_validate_several_files_in_one_pass():
    done = _validate_in_corpus("09_unknown_top_level_key.yaml", "17_unknown_field.yaml", "no-such.yaml")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "09_unknown_top_level_key.yaml:2:1: unknown key 'jbos'; did you mean 'jobs'?",
        "17_unknown_field.yaml:6:7: unknown field 'Stauts' for transcode jobs; did you mean 'Status'?",
        "no-such.yaml:1:1: cannot read no-such.yaml: No such file or directory",
        "3 problems found",
    ]


def test_the_demo_manifest_is_valid():
    done = subprocess.run(
        [sys.executable, "-m", "audit", "validate", "examples/demo.yaml"],
        cwd=CORPUS.parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "ok: 37 jobs in 2 files\n")
