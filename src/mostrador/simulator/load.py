"""Load mode: simulated customers writing at a target rate, and status storms for sent messages.

Both drive a running simulator through its control API (an HTTP base URL on the loopback interface, or an
in-process transport); the simulator then delivers signed webhooks to its configured callback, which must be
on the loopback interface too. Runs are bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

MAX_CUSTOMERS = 100_000
MAX_RATE = 5_000.0
MAX_DURATION_S = 600.0
MAX_MESSAGES = 1_000_000


@dataclass
class LoadReport:
    requested: int = 0
    sent: int = 0
    errors: int = 0
    duration_s: float = 0.0
    target_rate: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    wamids: list[str] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.duration_s if self.duration_s > 0 else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        data = sorted(self.latencies_ms)
        k = min(len(data) - 1, max(0, math.ceil(q / 100 * len(data)) - 1))
        return data[k]

    def summary(self) -> dict[str, float | int]:
        return {
            "requested": self.requested,
            "sent": self.sent,
            "errors": self.errors,
            "duration_s": round(self.duration_s, 3),
            "target_rate": self.target_rate,
            "achieved_rate": round(self.achieved_rate, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
        }


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _client(target: str | httpx.AsyncBaseTransport, timeout_s: float, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    if isinstance(target, str):
        if not _is_loopback(target):
            raise ValueError(f"load mode only talks to a simulator on the loopback interface, not {target!r}")
        return httpx.AsyncClient(base_url=target.rstrip("/"), timeout=timeout_s, limits=limits)
    return httpx.AsyncClient(transport=target, base_url="http://simulator", timeout=timeout_s)


async def _check_callback(client: httpx.AsyncClient) -> None:
    r = await client.get("/_sim/config")
    r.raise_for_status()
    callback = str(r.json()["callback_url"])
    if not _is_loopback(callback):
        raise ValueError(f"load mode only delivers to a loopback callback; the simulator's is {callback!r}")


def _bounded(customers: int, rate_per_s: float, duration_s: float) -> None:
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS}")
    if not 0 < rate_per_s <= MAX_RATE:
        raise ValueError(f"rate_per_s must be in (0, {MAX_RATE}]")
    if not 0 < duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration_s must be in (0, {MAX_DURATION_S}]")


async def run_inbound_load(
    target: str | httpx.AsyncBaseTransport,
    phone_number_id: str,
    customers: int,
    rate_per_s: float,
    duration_s: float,
    *,
    max_messages: int = 100_000,
    concurrency: int = 64,
    first_wa_id: int = 5491100000000,
    text: Callable[[int, int], str] | None = None,
    timeout_s: float = 10.0,
    check_callback: bool = True,
) -> LoadReport:
    """``customers`` simulated users send text messages at ``rate_per_s`` for ``duration_s`` seconds.

    ``target`` is the simulator's base URL (loopback only) or an ASGI transport. Returns a report with the
    control-API latency of each message (the webhook goes out asynchronously) and the inbound wamids.
    """
    _bounded(customers, rate_per_s, duration_s)
    total = min(int(rate_per_s * duration_s), max_messages, MAX_MESSAGES)
    report = LoadReport(requested=total, target_rate=rate_per_s)
    make_text = text or (lambda i, c: f"Hola, consulta {i} del cliente {c}")
    sem = asyncio.Semaphore(max(1, concurrency))
    async with _client(target, timeout_s, concurrency) as client:
        if check_callback:
            await _check_callback(client)

        async def one(i: int) -> None:
            customer = i % customers
            body = {
                "phone_number_id": phone_number_id,
                "from": str(first_wa_id + customer),
                "name": f"Cliente {customer}",
                "type": "text",
                "text": make_text(i, customer),
            }
            async with sem:
                started = time.perf_counter()
                try:
                    r = await client.post("/_sim/inbound", json=body)
                except httpx.HTTPError as exc:
                    report.errors += 1
                    if len(report.error_samples) < 10:
                        report.error_samples.append(repr(exc))
                    return
                report.latencies_ms.append((time.perf_counter() - started) * 1000)
                if r.status_code == 200:
                    report.sent += 1
                    report.wamids.append(str(r.json()["wamid"]))
                else:
                    report.errors += 1
                    if len(report.error_samples) < 10:
                        report.error_samples.append(r.text[:200])

        t0 = time.perf_counter()
        deadline = t0 + duration_s + timeout_s
        tasks: list[asyncio.Task[None]] = []
        for i in range(total):
            due = t0 + i / rate_per_s
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() > deadline:
                break
            tasks.append(asyncio.create_task(one(i)))
        if tasks:
            await asyncio.wait(tasks, timeout=max(0.0, deadline - time.perf_counter()) + timeout_s)
        for t in tasks:
            t.cancel()
        report.duration_s = time.perf_counter() - t0
    return report


async def status_storm(
    target: str | httpx.AsyncBaseTransport,
    wamids: list[str],
    *,
    statuses: tuple[str, ...] = ("delivered", "read"),
    rate_per_s: float = 500.0,
    duplicates: int = 0,
    batch_size: int = 50,
    max_duration_s: float = 120.0,
    timeout_s: float = 10.0,
    check_callback: bool = True,
) -> LoadReport:
    """Make the simulator emit ``statuses`` for already-sent ``wamids`` at about ``rate_per_s`` statuses/s."""
    if not wamids:
        return LoadReport()
    if len(wamids) > MAX_MESSAGES:
        raise ValueError(f"at most {MAX_MESSAGES} wamids per storm")
    if not 0 < rate_per_s <= MAX_RATE * 10:
        raise ValueError("rate_per_s out of range")
    per_wamid = len(statuses) * (1 + max(0, duplicates))
    report = LoadReport(requested=len(wamids) * per_wamid, target_rate=rate_per_s)
    async with _client(target, timeout_s, 4) as client:
        if check_callback:
            await _check_callback(client)
        t0 = time.perf_counter()
        emitted = 0
        for start in range(0, len(wamids), batch_size):
            if time.perf_counter() - t0 > max_duration_s:
                break
            chunk = wamids[start : start + batch_size]
            due = t0 + emitted / rate_per_s
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            started = time.perf_counter()
            r = await client.post(
                "/_sim/statuses", json={"wamids": chunk, "statuses": list(statuses), "duplicates": duplicates}
            )
            report.latencies_ms.append((time.perf_counter() - started) * 1000)
            if r.status_code != 200:
                report.errors += len(chunk) * per_wamid
                if len(report.error_samples) < 10:
                    report.error_samples.append(r.text[:200])
                continue
            data = r.json()
            report.sent += int(data["emitted"])
            report.errors += len(data["unknown"]) * per_wamid
            emitted += len(chunk) * per_wamid
        report.duration_s = time.perf_counter() - t0
    return report
