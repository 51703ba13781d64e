"""What a valid manifest means: includes, CSV lists, variables, defaults, provider settings."""

from __future__ import annotations

import textwrap

import pytest

from audit.manifest import matchers
from audit.manifest.load import ManifestInvalid, load_manifests


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_defaults_merge_key_by_key_and_vars_interpolate(tmp_path):
    root = write(
        tmp_path,
        "m.yaml",
        """\
        version: 1
        vars:
          hd: dbfaaec9e0000000000000000bf0b812
          defs: [HD, FHD]
        defaults:
          transcode:
            Status: TranscodeSuccess
            TemplateId: ${var.hd}
            max_duration: 10m
        jobs:
          - id: a
            type: transcode
          - id: b
            type: transcode
            expect:
              Status: TranscodeFail
              Definition: {one_of: "${var.defs}"}
              VideoId: video-${env.SUFFIX}
              max_duration: 90s
    """,
    )
    manifest = load_manifests([root], env={"SUFFIX": "42"})
    a, b = manifest.jobs
    assert dict(a.expect) == {
        "Status": matchers.Equals("TranscodeSuccess"),
        "TemplateId": matchers.Equals("dbfaaec9e0000000000000000bf0b812"),
    }
    assert a.max_duration == 600
    assert dict(b.expect) == {
        "Status": matchers.Equals("TranscodeFail"),
        "TemplateId": matchers.Equals("dbfaaec9e0000000000000000bf0b812"),
        "Definition": matchers.OneOf(("HD", "FHD")),
        "VideoId": matchers.Equals("video-42"),
    }
    assert b.max_duration == 90
    assert (b.position.file, b.position.line) == (str(root), 13)


def test_include_and_csv_are_relative_to_their_file(tmp_path):
    (tmp_path / "sub").mkdir()
    write(
        tmp_path / "sub",
        "more.yaml",
        """\
        jobs_from:
          - csv: jobs.csv
        jobs:
          - {id: m1, type: ai}
    """,
    )
    write(
        tmp_path / "sub",
        "jobs.csv",
        """\
        id,type,Status,max_duration,Definition,UserId
        c1,transcode,TranscodeSuccess,5m,"{one_of: [HD, SD]}",139109
        c2,snapshot,,,,
    """,
    )
    root = write(
        tmp_path,
        "m.yaml",
        """\
        version: 1
        include: [sub/more.yaml]
        jobs:
          - {id: r1, type: workflow}
    """,
    )
    manifest = load_manifests([root], env={})
    assert [job.ref for job in manifest.jobs] == [
        ("workflow", "r1"),
        ("ai", "m1"),
        ("transcode", "c1"),
        ("snapshot", "c2"),
    ]
    c1 = manifest.jobs[2]
    assert dict(c1.expect) == {
        "Status": matchers.Equals("TranscodeSuccess"),
        "Definition": matchers.OneOf(("HD", "SD")),
        "UserId": matchers.Equals(139109),
    }
    assert c1.max_duration == 300
    assert (c1.position.file, c1.position.line) == (str(tmp_path / "sub" / "jobs.csv"), 2)
    assert manifest.jobs[3].expect == ()
    assert {s.path for s in manifest.sources} == {
        str(root),
        str(tmp_path / "sub/more.yaml"),
        str(tmp_path / "sub/jobs.csv"),
    }


def test_several_roots_merge_and_provider_comes_through(tmp_path):
    one = write(
        tmp_path, "a.yaml", "version: 1\nprovider: {region: cn-beijing, qps: 10}\njobs: [{id: a, type: ai}]\n"
    )
    two = write(tmp_path, "b.yaml", "version: 1\nprovider: {qps: 10}\njobs: [{id: b, type: ai}]\n")
    manifest = load_manifests([one, two], env={})
    assert manifest.provider == {"region": "cn-beijing", "qps": 10}
    assert len(manifest.jobs) == 2
    assert len(manifest.digest) == 64


def test_conflicting_provider_settings_are_an_error(tmp_path):
    one = write(tmp_path, "a.yaml", "version: 1\nprovider: {qps: 10}\n")
    two = write(tmp_path, "b.yaml", "version: 1\nprovider: {qps: 12}\n")
    with pytest.raises(ManifestInvalid, match="provider setting 'qps' is already set differently"):
        load_manifests([one, two], env={})


def test_same_job_type_differs_by_type(tmp_path):
    root = write(tmp_path, "m.yaml", "version: 1\njobs: [{id: a, type: ai}, {id: a, type: snapshot}]\n")
    assert len(load_manifests([root], env={}).jobs) == 2


def test_yaml_1_2_booleans_and_times_stay_strings(tmp_path):
    root = write(
        tmp_path,
        "m.yaml",
        """\
        version: 1
        jobs:
          - id: a
            type: ai
            expect:
              TemplateConfig: {AuditAutoBlock: no}
              CreateTime: 2024-10-14T07:39:25Z
    """,
    )
    expect = dict(load_manifests([root], env={}).jobs[0].expect)
    assert expect["TemplateConfig"] == matchers.Subset((("AuditAutoBlock", matchers.Equals("no")),))
    assert expect["CreateTime"] == matchers.Equals("2024-10-14T07:39:25Z")


def test_escaped_reference_is_literal(tmp_path):
    root = write(
        tmp_path, "m.yaml", "version: 1\njobs: [{id: a, type: ai, expect: {MediaId: '$${var.x}'}}]\n"
    )
    assert dict(load_manifests([root], env={}).jobs[0].expect)["MediaId"] == matchers.Equals("${var.x}")


def test_diamond_include_is_read_once(tmp_path):
    write(tmp_path, "shared.yaml", "jobs: [{id: s, type: ai}]\n")
    write(tmp_path, "left.yaml", "include: [shared.yaml]\n")
    write(tmp_path, "right.yaml", "include: [shared.yaml]\n")
    root = write(tmp_path, "m.yaml", "version: 1\ninclude: [left.yaml, right.yaml]\n")
    assert [job.job_id for job in load_manifests([root], env={}).jobs] == ["s"]
