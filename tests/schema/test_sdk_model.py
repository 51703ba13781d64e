"""Our schemas know every field the official SDK's GetJobDetail response model knows."""

from __future__ import annotations

import inspect

from alibabacloud_vod20170321 import models as sdk_models

from audit.common.schemafiles import all_schemas


def _filled(cls):
    """An instance with every constructor field set: nested models recursively, scalars to 'x'."""
    values = {}
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        annotation = str(parameter.annotation)
        nested = annotation.removeprefix("main_models.")
        if annotation.startswith("main_models.") and hasattr(sdk_models, nested):
            values[name] = _filled(getattr(sdk_models, nested))
        else:
            values[name] = "x"
    return cls(**values)


def _resolve(spec):
    ref = spec.get("$ref")
    return all_schemas()[ref] if ref else spec


def _missing(sdk_map, schema, where):
    known = schema.get("properties", {})
    for key, value in sdk_map.items():
        if key not in known:
            yield f"{where}/{key}"
        elif isinstance(value, dict):
            yield from _missing(value, _resolve(known[key]), f"{where}/{key}")


def test_every_sdk_field_is_in_our_schemas():
    sdk_map = _filled(sdk_models.GetJobDetailResponseBody).to_map()
    # The walk must reach all four detail objects, or the test proves nothing.
    assert {"TranscodeJobDetail", "SnapshotJobDetail", "AIJobDetail", "WorkflowTaskDetail"} <= set(sdk_map)
    assert "Workflow" in sdk_map["WorkflowTaskDetail"]
    assert list(_missing(sdk_map, all_schemas()["urn:vod-audit:envelope"], "")) == []


def test_walk_detects_a_field_we_do_not_know():
    fake = {"RequestId": "x", "TranscodeJobDetail": {"JobId": "j", "Bitrate": "x"}}
    assert list(_missing(fake, all_schemas()["urn:vod-audit:envelope"], "")) == [
        "/TranscodeJobDetail/Bitrate"
    ]
