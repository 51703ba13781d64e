"""Run options: one record, one default each, resolved flag > provider block > default."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from audit.common.jobtypes import NAMES, catalogue
from audit.common.schemafiles import schema_document
from audit.options import DEFAULTS, PROVIDER_KEYS, RunOptions, resolve, state_path
from audit.report import FORMAT_NAMES


def test_the_provider_block_of_the_manifest_schema_names_every_option_with_its_default():
    block = schema_document("manifest")["properties"]["provider"]["properties"]
    assert set(block) == set(PROVIDER_KEYS)
    for name in PROVIDER_KEYS:
        default = getattr(DEFAULTS, name)
        written = block[name].get("default")
        assert written == (list(default) if isinstance(default, tuple) else default), name


def test_the_manifest_schema_lists_the_format_plugins_and_the_job_types():
    manifest = schema_document("manifest")
    assert manifest["properties"]["provider"]["properties"]["format"]["items"]["enum"] == list(FORMAT_NAMES)
    assert tuple(catalogue()) == NAMES


def test_a_flag_wins_over_the_provider_block_which_wins_over_the_default(tmp_path):
    options = resolve({"qps": 3.0, "retries": None, "format": ()}, {"qps": 9, "retries": 2, "timeout": 4})
    assert (options.qps, options.retries, options.timeout) == (3.0, 2, 4.0)
    assert options.format == FORMAT_NAMES and options.signature == DEFAULTS.signature
    assert isinstance(resolve({}, {"qps": 9}).qps, float)


def test_flag_only_options_are_not_read_from_the_provider_block():
    options = resolve({}, {"refresh": True, "targets": ["x"], "emulator": "d.yaml"})
    assert (options.refresh, options.targets, options.emulator) == (False, (), None)


def test_repeated_formats_and_targets_are_kept_once_in_order():
    options = resolve({"format": ("md", "json", "md"), "targets": ("b", "a", "b")}, {})
    assert (options.format, options.targets) == (("md", "json"), ("b", "a"))


@pytest.mark.parametrize(("qps", "expected"), [(0.5, 4), (15, 15), (15.2, 16), (500, 64)])
def test_calls_in_flight_follow_the_rate_unless_set(qps, expected):
    assert RunOptions(qps=qps).calls_in_flight == expected
    assert RunOptions(qps=qps, concurrency=3).calls_in_flight == 3


def test_state_path_rule():
    manifests = ["jobs/nightly.yaml"]
    assert state_path(resolve({}, {}), manifests).path == Path("jobs/.vod-audit/state.db")
    assert state_path(resolve({}, {"state": "s.db"}, Path("jobs")), manifests).path == Path("jobs/s.db")
    assert state_path(resolve({"state": "here.db"}, {"state": "s.db"}, Path("jobs")), manifests).path == Path(
        "here.db"
    )
    # A URL is never taken for a path relative to the manifest; its schema comes with it.
    url = "postgresql://auditor@db/audit"
    remote = state_path(resolve({}, {"state": url, "state_schema": "team_a"}, Path("jobs")), manifests)
    assert (remote.path, remote.url, remote.schema) == (None, url, "team_a")
    assert resolve({}, {"state": "postgres://a:pw@db/x"}).record()["state"] == "postgres://a@db/x"


def test_the_record_is_the_serialised_options_with_the_effective_concurrency():
    record = resolve({"targets": ("j",)}, {"qps": 2}).record()
    assert set(record) == {f.name for f in fields(RunOptions)}
    assert (
        record["concurrency"] == 4 and record["targets"] == ["j"] and record["format"] == list(FORMAT_NAMES)
    )
