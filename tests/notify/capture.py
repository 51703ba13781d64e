"""A transport that records each request and answers as a platform documents: for hosts that cannot be real here."""

from __future__ import annotations

import io
import json
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse


class Capture(HTTPAdapter):
    """requests' transport adapter that keeps every PreparedRequest and answers from `answers` in
    turn (the last one again once they run out): (status, body, headers)."""

    def __init__(self, *answers: tuple[int, Any, dict[str, str]]) -> None:
        super().__init__()
        self.answers = list(answers) or [(200, b"ok", {})]
        self.requests: list[Any] = []

    def send(self, request: Any, **kwargs: Any) -> Any:
        self.requests.append(request)
        status, body, headers = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        raw = HTTPResponse(
            body=io.BytesIO(data), headers=headers, status=status, preload_content=False, decode_content=False
        )
        return self.build_response(request, raw)

    def bodies(self) -> list[Any]:
        return [json.loads(request.body) for request in self.requests]


def answer(body: Any, status: int = 200, **headers: str) -> tuple[int, Any, dict[str, str]]:
    return status, body, headers
