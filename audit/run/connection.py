"""Where and as whom to call, and how hard: the one record from which clients and fetchers are built."""

from __future__ import annotations

from dataclasses import dataclass

from audit.vod.client import VodClient
from audit.vod.credentials import Credentials
from audit.vod.endpoints import Endpoint
from audit.vod.fetch import Fetcher
from audit.vod.ratelimit import RateLimiter


@dataclass(frozen=True)
class Connection:
    endpoint: Endpoint
    credentials: Credentials
    emulator_url: str | None  # set when auditing the embedded emulator
    signature: str
    qps: float
    concurrency: int
    timeout: float
    retries: int

    def client(self) -> VodClient:
        return VodClient(
            self.endpoint,
            self.credentials,
            signature=self.signature,  # type: ignore[arg-type]
            timeout=self.timeout,
            pool_size=self.concurrency,
        )

    def fetcher(self, client: VodClient) -> Fetcher:
        """Retries through one shared limiter; a job gives up after twice the time all its attempts may take."""
        deadline = max(60.0, self.timeout * (self.retries + 1) * 2)
        return Fetcher(client, RateLimiter(self.qps), retries=self.retries, deadline=deadline)
