"""The manifest cache: a run takes the built manifest from it only while nothing it came from changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.manifest import cache
from audit.manifest.load import load_manifests

RICH = """\
version: 1
name: nightly
include: [more.yaml]
vars: {template: dbfaaec9e0000000000000000bf0b812}
provider: {qps: 10, credentials_env: {access_key_id: AK_ID, access_key_secret: AK_SECRET}}
providers:
  eu: {region: eu-central-1}
defaults:
  transcode: {Status: TranscodeSuccess, max_duration: 30m, provider: eu}
  ai: {Status: {one_of: [success, processing]}, min_duration: 1s}
jobs:
  - id: t1
    type: transcode
    description: main
    expect:
      TemplateId: ${env.TEAM}
      Definition: {not: {one_of: [SD, LD]}}
  - id: s1
    type: snapshot
    expect:
      NormalConfig: {num: 32, ft: {matches: "^norm"}}
      Trigger: {present: true}
  - {id: a1, type: ai, expect: {TemplateConfig: {AuditItem: {contains: [porn]}}}}
  - {id: t9, type: transcode, expect: {TemplateId: '${var.template}'}}
jobs_from:
  - csv: list.csv
waivers:
  - {job: t1, field: Definition, reason: migrating, owner: ana, expires: '2999-01-01'}
notify:
  - {name: chat, type: dingtalk, url_env: DT_URL, secret_env: DT_SECRET, on: findings}
  - {name: mail, type: email, url_env: SMTP_URL, to: [a@example.com], from: b@example.com}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "night.yaml").write_text(RICH)
    (tmp_path / "more.yaml").write_text(
        "jobs:\n  - {id: t2, type: transcode, expect: {Status: {absent: true}}}\n"
    )
    (tmp_path / "list.csv").write_text("id,type,Status\nt3,transcode,TranscodeFail\n")
    return tmp_path


def loads(folder: Path, env: dict[str, str]):
    roots = [str(folder / "night.yaml")]
    return load_manifests(roots, env), load_manifests(roots, env, cached=True)


def test_a_cached_manifest_equals_the_one_read_afresh(folder):
    env = {"TEAM": "video"}
    fresh, first = loads(folder, env)
    stored = cache.location((str(folder / "night.yaml"),))
    assert stored.is_file() and first == fresh
    again = load_manifests([str(folder / "night.yaml")], env, cached=True)
    assert again == fresh and again.digest == fresh.digest
    assert [s.expectation for s in again.jobs] == [s.expectation for s in fresh.jobs]
    # What a variable held is kept as a digest (the expectation it became holds it, as every report does).
    assert json.loads(stored.read_text())["built_from"]["env"] == {
        "TEAM": cache.env_digest({"TEAM": "video"})["TEAM"]
    }


@pytest.mark.parametrize("changed", ["night.yaml", "more.yaml", "list.csv"])
def test_any_file_it_came_from_changing_means_reading_afresh(folder, changed):
    env = {"TEAM": "video"}
    loads(folder, env)
    path = folder / changed
    path.write_text(path.read_text().replace("t3", "t4").replace("t2", "t5").replace("30m", "45m"))
    fresh = load_manifests([str(folder / "night.yaml")], env)
    assert load_manifests([str(folder / "night.yaml")], env, cached=True) == fresh


def test_a_referenced_variable_changing_means_reading_afresh(folder):
    loads(folder, {"TEAM": "video"})
    later = load_manifests([str(folder / "night.yaml")], {"TEAM": "audio"}, cached=True)
    assert 'TemplateId: "audio"' in later.jobs[0].expectation


def test_other_code_means_reading_afresh(folder, monkeypatch):
    loads(folder, {"TEAM": "video"})
    stored = cache.location((str(folder / "night.yaml"),))
    document = json.loads(stored.read_text())
    document["jobs"][0][1] = "planted"  # what a cache of other code might hold
    stored.write_text(json.dumps(document))
    assert (
        load_manifests([str(folder / "night.yaml")], {"TEAM": "video"}, cached=True).jobs[0].job_id
        == "planted"
    )
    monkeypatch.setattr(cache, "tool_digest", lambda: "another version")
    assert load_manifests([str(folder / "night.yaml")], {"TEAM": "video"}, cached=True).jobs[0].job_id == "t1"


@pytest.mark.parametrize("garbage", ["", "{", "[]", '{"format": 1}', '{"format": 1, "built_from": 5}'])
def test_a_broken_cache_is_read_past_and_written_again(folder, garbage):
    env = {"TEAM": "video"}
    fresh, _ = loads(folder, env)
    stored = cache.location((str(folder / "night.yaml"),))
    stored.write_text(garbage)
    assert load_manifests([str(folder / "night.yaml")], env, cached=True) == fresh
    assert json.loads(stored.read_text())["format"] == cache.FORMAT


@pytest.mark.parametrize(
    "listing",
    [
        "jobs_from:\n  - events: events.jsonl\n",  # a glob may match another file tomorrow
        "jobs_from:\n  - media: {since: 24h}\n",  # asks the service, counted back from the clock
    ],
)
def test_what_depends_on_the_clock_a_glob_or_the_service_is_never_cached(tmp_path, listing):
    (tmp_path / "events.jsonl").write_text(
        '{"EventType":"StreamTranscodeComplete","JobId":"j1","Status":"success"}\n'
    )
    (tmp_path / "night.yaml").write_text("version: 1\n" + listing)
    load_manifests([str(tmp_path / "night.yaml")], {}, cached=True)
    assert not cache.location((str(tmp_path / "night.yaml"),)).exists()


# Issue #38, item 3: a cached manifest equals the fresh one for every value the language allows:
# mapping keys keep their type ({1: a} is not {"1": a}), as matchers tell 0 from false.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.integers(-5, 5) | st.booleans() | st.text("abc", max_size=3) | st.none(), inner, max_size=3
        )
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(value=VALUES)
def test_a_cached_manifest_equals_the_fresh_one_for_every_value(value):
    import tempfile

    import yaml

    from audit.manifest.load import ManifestInvalid

    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "m.yaml"
        expect = {"TemplateConfig": {"Limit": value}}
        manifest.write_text(
            yaml.safe_dump({"version": 1, "jobs": [{"id": "a1", "type": "ai", "expect": expect}]})
        )
        try:
            fresh = load_manifests([str(manifest)], {})
        except ManifestInvalid:
            return  # not a value the language allows there
        cached = cache.manifest_of(json.loads(json.dumps(cache.document(fresh, {}))))
        assert cached.jobs == fresh.jobs
        assert [s.expectation for s in cached.jobs] == [s.expectation for s in fresh.jobs]
