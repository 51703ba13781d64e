"""Reading results.json a result at a time: a 100,000-job file is never held parsed whole in memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from audit.common.errors import UserError
from audit.common.files import open_input
from audit.common.jsonfile import parse_input, read_json, unreadable
from audit.results.jsonform import from_document
from audit.results.record import RunRecord

_RESULTS = b' "results": [\n'
_END = (b" ]\n", b"}\n")


def read_results(path: str) -> RunRecord:
    """The run saved at `path`. A file as vod-audit writes it (the run's fields, then one result a
    line) is read line by line, each result converted as it is read; any other layout of the same
    document (reformatted by a tool) is parsed whole. UserError, with the line, when it is not one."""
    try:
        stream = open_input(path)
    except OSError as exc:
        raise unreadable(path, exc) from None
    with stream:
        head = _head(stream)
        if head is None:
            return from_document(read_json(path), path)
        document = parse_input(b"".join(head).rstrip().removesuffix(b",") + b"\n}", path, 1)
        if not isinstance(document, dict):
            raise UserError(f"{path}: not a vod-audit results file")
        return from_document({**document, "results": []}, path, _lines(stream, path, len(head) + 2))


def _head(stream: BinaryIO) -> list[bytes] | None:
    """The lines before the results, or None when the file is not laid out as vod-audit writes it."""
    first = stream.readline()
    if first.removeprefix(b"\xef\xbb\xbf") != b"{\n":
        return None
    head = [first.removeprefix(b"\xef\xbb\xbf")]
    while line := stream.readline():
        if line == _RESULTS:
            return head
        head.append(line)
    return None


def _lines(stream: BinaryIO, path: str, number: int) -> Iterator[Any]:
    """Each result line's object, until the closing lines; a cut-short file is an error at its end."""
    while True:
        line = stream.readline()
        if line in (_END[0], b""):
            if line == b"" or stream.readline() != _END[1] or stream.read(1):
                raise UserError(f"{path}:{number}: not a valid results file: it ends before its results do")
            return
        if line != b"\n":  # the one blank line of a run without results
            yield parse_input(line.rstrip(b"\n").removesuffix(b","), path, number)
        number += 1
