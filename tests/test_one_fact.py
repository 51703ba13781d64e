"""Issue #36: each fact is declared once; where another place must say it too, it says the same."""

from __future__ import annotations

from pathlib import Path

from audit.common.jobtypes import NAMES, catalogue
from audit.common.schemafiles import PUBLIC_SCHEMAS, schema_dir
from audit.report import EVIDENCE, PLUGINS, REPORT_FILES, plugin
from tests.report.fixtures import fixed_run


def test_each_format_writes_exactly_the_files_its_row_declares(tmp_path: Path):
    for name, (_, _, files) in PLUGINS.items():
        out = tmp_path / name
        out.mkdir()
        written = plugin(name).write(fixed_run(), out)
        assert sorted(path.name for path in written) == sorted(files), name
    from audit.report.evidence import EvidenceReport

    assert [p.name for p in EvidenceReport().write(fixed_run(), tmp_path)] == [EVIDENCE]
    assert len(REPORT_FILES) == len(set(REPORT_FILES))


def test_the_schemas_users_may_name_are_the_schema_files_and_the_job_types():
    from audit.cli import SCHEMA_NAMES

    assert tuple(PUBLIC_SCHEMAS) == SCHEMA_NAMES
    assert set(NAMES) <= set(PUBLIC_SCHEMAS) and tuple(catalogue()) == NAMES
    assert all((schema_dir() / file).is_file() for file in PUBLIC_SCHEMAS.values())
