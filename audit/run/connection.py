"""Where and as whom to call, and how hard: the one record from which clients and fetchers are built."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from audit.options import RunOptions
from audit.vod import chain, endpoints
from audit.vod.client import SignatureVersion, VodClient
from audit.vod.credentials import Credentials
from audit.vod.endpoints import Endpoint
from audit.vod.fetch import Fetcher
from audit.vod.ratelimit import RateLimiter
from audit.vod.refresh import Keys


@dataclass(frozen=True)
class Connection:
    """The endpoint and credentials of a run, and the call settings its options resolved to."""

    endpoint: Endpoint
    keys: Keys
    emulator_url: str | None  # set when auditing the embedded emulator
    signature: SignatureVersion
    qps: float
    concurrency: int
    timeout: float
    retries: int

    @classmethod
    def of(
        cls,
        endpoint: Endpoint,
        keys: Keys | Credentials,
        options: RunOptions,
        emulator_url: str | None = None,
    ) -> Connection:
        return cls(
            endpoint,
            keys if isinstance(keys, Keys) else Keys.fixed(keys),
            emulator_url,
            options.signature,
            options.qps,
            options.calls_in_flight,
            options.timeout,
            options.retries,
        )

    def client(self) -> VodClient:
        return VodClient(
            self.endpoint,
            self.keys,
            signature=self.signature,
            timeout=self.timeout,
            pool_size=self.concurrency,
        )

    def fetcher(self, client: VodClient) -> Fetcher:
        """Retries through one shared limiter; a job gives up after twice the time all its attempts may take."""
        deadline = max(60.0, self.timeout * (self.retries + 1) * 2)
        return Fetcher(client, RateLimiter(self.qps), retries=self.retries, deadline=deadline)


@contextmanager
def open_connection(options: RunOptions, stop: threading.Event | None = None) -> Iterator[Connection]:
    """Resolves endpoint and credentials and keeps temporary ones renewed meanwhile; a renewal that
    keeps failing sets `stop`. With `options.emulator`, serves the emulator in-process meanwhile."""
    if options.emulator:
        from audit.emulator.config import EmulatorConfig
        from audit.emulator.data import load_data_file
        from audit.emulator.server import Emulator

        config = EmulatorConfig(port=0)
        emulator = Emulator(load_data_file(options.emulator), config).start()
        try:
            # The emulator's own key: real credentials are never sent to it.
            own = Credentials.of(config.access_key_id, config.access_key_secret, source="emulator")
            yield Connection.of(endpoints.resolve(endpoint=emulator.url), own, options, emulator.url)
        finally:
            emulator.stop()
        return
    endpoint = endpoints.resolve(options.region, options.endpoint, options.insecure_http)
    found = chain.resolve(
        options.profile, sts_endpoint=options.sts_endpoint, insecure_http=options.insecure_http
    )
    keys = Keys(found.source, found.credentials, on_failure=lambda reason: stop.set() if stop else None)
    try:
        yield Connection.of(endpoint, keys.start(), options)
    finally:
        keys.close()
