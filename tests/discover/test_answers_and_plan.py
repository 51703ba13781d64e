"""Discovery's pure parts: the search protocol it writes, the answers it reads, what it adds to a plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audit.common.findings import Outcome, outcome_of
from audit.common.jobtypes import JobRef
from audit.discover.answers import Listed, Malformed, jobs_of, page_of
from audit.discover.expand import expand
from audit.discover.walk import Discovery, match_of
from audit.emulator.data import index
from audit.emulator.generate import generate
from audit.emulator.media import Library, SearchError
from audit.manifest.matchers import Equals
from audit.manifest.model import Expectation, JobSpec, Manifest, MediaQuery
from audit.manifest.positions import Position

AT = Position("night.yaml", 5, 5)
T0 = datetime(2026, 11, 28, tzinfo=UTC)


def query(**changes: object) -> MediaQuery:
    values: dict[str, object] = {
        "position": AT,
        "since": T0,
        "until": None,
        "types": ("transcode", "snapshot", "ai"),
    }
    values.update(changes)
    return MediaQuery(**values)  # type: ignore[arg-type]


def test_the_match_is_a_closed_creation_window_then_each_filter():
    q = query(status=("TranscodeFail", "Normal"), category=7, storage_location="outin-x.oss", tags=("a", "b"))
    assert match_of(q, T0 + timedelta(days=1)) == (
        "CreationTime = ('2026-11-28T00:00:00Z','2026-11-29T00:00:00Z') and Status in ('TranscodeFail','Normal') "
        "and CateId = 7 and StorageLocation = 'outin-x.oss' and Tags in ('a','b')"
    )


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"Total": 1, "MediaList": {"MediaId": "m"}}, "MediaList is dict"),
        ({"MediaList": []}, "no Total"),
        ({"Total": True, "MediaList": []}, "no Total"),
        ({"Total": 1, "MediaList": [{"CreationTime": "2026-11-28T00:00:00Z"}]}, "MediaList/0 has no MediaId"),
    ],
)
def test_a_page_discovery_cannot_go_on_from_is_malformed(body, said):
    with pytest.raises(Malformed, match=said):
        page_of(body)


def test_a_page_departing_from_the_reference_elsewhere_is_read_with_a_note():
    page, notes = page_of(
        {
            "Total": 2,
            "ScrollToken": "t",
            "MediaList": [{"MediaId": "a", "CreationTime": "yesterday"}, {"MediaId": "b"}],
        }
    )
    assert (page.media, page.total, page.token) == (("a", "b"), 2, "t")
    assert notes == [
        "/MediaList/0/CreationTime: 'yesterday' is not a UTC time of the form YYYY-MM-DDTHH:mm:ssZ"
    ]


def test_a_job_list_is_read_whole_and_an_item_without_id_is_said_never_skipped_in_silence():
    asked = JobRef("transcode", "m-1")
    listed, notes = jobs_of(
        {
            "MediaId": "m-1",
            "JobType": "transcode",
            "JobInfoList": [{"JobId": "j-1", "Status": "TranscodeSuccess"}, {"Status": "x"}],
        },
        asked,
    )
    assert [job.ref for job in listed] == [JobRef("transcode", "j-1")]
    assert notes == ["ListJobInfo transcode m-1: JobInfoList/1 has no JobId"]
    assert jobs_of({"MediaId": "m-1"}, asked) == ([], [])  # an empty list left out of the answer
    with pytest.raises(Malformed, match="about MediaId 'm-2'"):
        jobs_of({"MediaId": "m-2", "JobInfoList": []}, asked)
    with pytest.raises(Malformed, match="JobInfoList is str"):
        jobs_of({"JobInfoList": "j-1"}, asked)


def found(q: MediaQuery, *refs: JobRef) -> Discovery:
    discovery = Discovery(q, "default", "window")
    discovery.media = ["m"]
    discovery.jobs = {ref: Listed(ref, "m") for ref in refs}
    return discovery


def spec(ref: JobRef, origin: str = "jobs") -> JobSpec:
    return JobSpec(
        ref.job_type, ref.job_id, (("Status", Equals("X")),), Position("list.csv", 2, 1), origin=origin
    )


LISTED, EVENTED, NEW = (
    JobRef("transcode", "listed"),
    JobRef("transcode", "evented"),
    JobRef("transcode", "new"),
)
LOST = JobRef("snapshot", "never-listed")


def manifest(*specs: JobSpec, evented: frozenset[JobRef] = frozenset()) -> Manifest:
    defaults = {"transcode": Expectation((("Status", Equals("TranscodeSuccess")),), 1800.0, None)}
    named = evented | {s.ref for s in specs if s.origin == "events"}  # as the loader records them
    return Manifest(("night.yaml",), (), jobs=specs, defaults=defaults, evented=named)


@pytest.mark.parametrize(("policy", "severity"), [("report", "warning"), ("fail", "error")])
def test_a_job_no_list_names_is_added_with_the_defaults_and_said_unmanaged(policy, severity):
    plan, records = expand(manifest(spec(LISTED)), [found(query(unmanaged=policy), LISTED, NEW)])
    by_ref = {s.ref: s for s in plan.jobs}
    assert by_ref[LISTED].expect == (("Status", Equals("X")),) and not by_ref[LISTED].noted  # the list wins
    added = by_ref[NEW]
    assert (added.origin, added.position, added.max_duration) == ("media", AT, 1800.0)
    assert added.expect == (("Status", Equals("TranscodeSuccess")),)
    assert [(f.kind, f.severity) for f in added.noted] == [("unmanaged", severity)]
    assert outcome_of(added.noted, True) == (Outcome.DRIFT if policy == "fail" else Outcome.OK)
    assert (records[0].media, records[0].jobs, records[0].added) == (1, 2, 1)


def test_ignore_adds_the_job_without_a_finding():
    plan, _ = expand(manifest(), [found(query(), NEW)])
    assert [(s.ref, s.noted) for s in plan.jobs] == [(NEW, ())]


def test_events_compared_with_discovery_name_lost_callbacks_and_unknown_events():
    jobs = (spec(EVENTED, "events"), spec(LOST, "events"), spec(LISTED))
    plan, _ = expand(manifest(*jobs), [found(query(types=("transcode", "snapshot")), EVENTED, LISTED, NEW)])
    kinds = {s.ref: [f.kind for f in s.noted] for s in plan.jobs}
    assert kinds == {EVENTED: [], LOST: ["unlisted"], LISTED: ["missed_event"], NEW: ["missed_event"]}
    assert all(f.severity == "warning" for s in plan.jobs for f in s.noted)  # our inference: warns only


def test_the_emulated_search_pages_to_its_limit_and_scrolls_past_it():
    bodies = [b for b in generate(300, seed=3) if b["JobType"] == "transcode"]
    library = Library(index(bodies, "t"), 183, paged=100)
    asked = {"Match": "CreationTime = ('2000-01-01T00:00:00Z','2100-01-01T00:00:00Z')", "PageSize": "100"}
    asked["SortBy"] = "CreationTime:Asc"
    first = library.search(asked, "r")
    assert first["Total"] == len(library.media) > 100 and len(first["MediaList"]) == 100
    with pytest.raises(SearchError, match="may not exceed 100"):
        library.search({**asked, "PageNo": "2"}, "r")
    second = library.search({**asked, "PageNo": "2", "ScrollToken": first["ScrollToken"]}, "r")
    assert {m["MediaId"] for m in second["MediaList"]}.isdisjoint(m["MediaId"] for m in first["MediaList"])
    for other in ({"PageNo": "3"}, {"PageNo": "2", "SortBy": "CreationTime:Desc"}):
        with pytest.raises(SearchError, match="ScrollToken"):  # a token goes one page on, in its own search
            library.search({**asked, "ScrollToken": first["ScrollToken"], **other}, "r")
    times = [m["CreationTime"] for m in first["MediaList"] + second["MediaList"]]
    assert times == sorted(times)


# Issue #38, item 4: which events named a job is kept apart from which list won it.
def test_a_listed_job_an_event_also_named_is_no_lost_callback_and_can_be_unlisted():
    both, gone = JobRef("transcode", "both"), JobRef("transcode", "listed-and-evented-gone")
    jobs = (spec(both), spec(gone), spec(EVENTED, "events"))
    plan, _ = expand(manifest(*jobs, evented=frozenset({both, gone})), [found(query(), both, EVENTED)])
    kinds = {s.ref: [f.kind for f in s.noted] for s in plan.jobs}
    assert kinds == {both: [], gone: ["unlisted"], EVENTED: []}
