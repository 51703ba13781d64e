"""Discovery (`jobs_from: - media: {...}`): the query the service is asked before a run, read and checked."""

from __future__ import annotations

from typing import Any

from audit.common.files import ids_in
from audit.common.jobtypes import MEDIA_FIELDS
from audit.manifest.model import FILTERS, MediaQuery, Requirement
from audit.manifest.positions import Problem
from audit.manifest.sources.base import Entry, Found, Reading, moment


class MediaSource:
    """`jobs_from: - media: {since, until, types, ...}`: no job is read here; the query is kept, and the
    command holding the connections asks the service (audit/discover) before the plan is made."""

    key = "media"
    options: frozenset[str] = frozenset()
    takes: type = dict

    def read(self, entry: Entry, reader: Reading) -> Found:
        out = Found()
        settings: dict[str, Any] = entry.settings["media"]
        since = moment(settings.get("since"), entry.at("media", "since"), reader.now, out)
        until = moment(settings.get("until"), entry.at("media", "until"), reader.now, out)
        if since is not None and until is not None and since > until:
            out.problems.append(Problem(entry.at("media", "until"), "until is before since"))
        ids = [i for i in settings.get("media_ids", ()) if isinstance(i, str)]
        listed = settings.get("media_file")
        if isinstance(listed, str) and listed:
            text = reader.read_text(entry.base / listed, entry.at("media", "media_file"))
            ids += ids_in(text or "")
        searched = not ids
        if searched and since is None and "since" not in settings:
            out.problems.append(
                Problem(
                    entry.at("media"),
                    "a media source needs since: (a window of creation times) or media_ids/media_file",
                )
            )
        if not searched and any(k in settings for k in ("since", "until", *FILTERS)):
            out.problems.append(
                Problem(entry.at("media"), "media_ids/media_file name the media: no search filter applies")
            )
        for key in ("status", "tags", "storage_location"):
            values = settings.get(key)
            for index, value in enumerate(values if isinstance(values, list) else [values]):
                if isinstance(value, str) and "'" in value:
                    where = (
                        entry.at("media", key, index) if isinstance(values, list) else entry.at("media", key)
                    )
                    out.problems.append(
                        Problem(
                            where, "a search value may not hold ' (the search protocol quotes values with it)"
                        )
                    )
        category = settings.get("category")
        types = _strings(settings.get("types")) or tuple(MEDIA_FIELDS)
        required = _required(settings.get("require"), types, entry, out)
        out.queries.append(
            MediaQuery(
                entry.at(),
                since,
                until,
                types,
                _strings(settings.get("media_types")) or ("video", "audio"),
                _strings(settings.get("status")),
                category if isinstance(category, int) and not isinstance(category, bool) else None,
                _text(settings.get("storage_location")),
                _strings(settings.get("tags")),
                tuple(dict.fromkeys(ids)),
                _text(settings.get("unmanaged")) or "ignore",
                entry.provider,
                entry.provider_at,
                required,
            )
        )
        return out


def _required(value: Any, types: tuple[str, ...], entry: Entry, out: Found) -> tuple[Requirement, ...]:
    """`require: {transcode: {Definition: [LD, SD]}, snapshot: 1}`: what every media must have."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        out.problems.append(
            Problem(
                entry.at("media", "require"), "require: maps a job type to a count or {Definition: [...]}"
            )
        )
        return ()
    found: list[Requirement] = []
    for job_type, wanted in value.items():
        where = entry.at("media", "require", job_type)
        if job_type not in types:
            out.problems.append(
                Problem(
                    where,
                    f"require: {job_type} jobs are not listed by this source (types: {', '.join(types)})",
                )
            )
        elif isinstance(wanted, int) and not isinstance(wanted, bool) and wanted >= 1:
            found.append(Requirement(job_type, None, wanted))
        elif job_type == "transcode" and isinstance(wanted, dict):
            names = wanted.get("Definition")
            names = names if isinstance(names, list) else [names]
            found += [Requirement(job_type, n) for n in dict.fromkeys(names) if isinstance(n, str) and n]
        # Any other shape (a count under 1, a word) the manifest's schema has said at this line already.
    return tuple(found)


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
