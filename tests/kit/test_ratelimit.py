"""GCRA rate limiter: deterministic memory-store tests (fake clock) and real-Redis tests."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mostrador
from mostrador.kit import ratelimit
from mostrador.kit.ratelimit import (
    GCRALimiter,
    MemoryRateLimitStore,
    PairRateLimiter,
    RateLimit,
    RateLimitExceeded,
    RateLimitStore,
    RedisRateLimitStore,
    ThroughputLimiter,
    build_rate_limit_store,
)

EPS = 1e-9
REDIS_URL = os.environ.get("MOSTRADOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class FakeClock:
    """Monotonic clock whose ``sleep`` advances time instantly."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(clock: FakeClock, rate: float, burst: int) -> GCRALimiter:
    return GCRALimiter(MemoryRateLimitStore(clock=clock), RateLimit(rate, burst), namespace="t", sleep=clock.sleep)


def assert_window_bound(grants: Sequence[float], rate: float, burst: int, slack: float = EPS) -> None:
    """Window [g_i, g_j] holds j - i + 1 grants; that must be <= rate * (g_j - g_i) + burst."""
    g = sorted(grants)
    worst = 0.0
    for i in range(len(g)):
        for j in range(i, len(g)):
            excess = (j - i + 1) - (rate * (g[j] - g[i]) + burst)
            worst = max(worst, excess)
    assert worst <= slack, f"window bound exceeded by {worst}"


# --------------------------------------------------------------------------------------------------
# config


def test_rate_limit_validation() -> None:
    with pytest.raises(ValueError):
        RateLimit(0, 1)
    with pytest.raises(ValueError):
        RateLimit(float("inf"), 1)
    with pytest.raises(ValueError):
        RateLimit(10, 0)
    limit = RateLimit(10, 3)
    assert limit.interval_s == pytest.approx(0.1)
    assert limit.tolerance_s == pytest.approx(0.2)
    assert limit.max_grants(1.0) == pytest.approx(13)


def test_throughput_defaults_and_tiers() -> None:
    tl = ThroughputLimiter(MemoryRateLimitStore())
    assert tl.limit.rate_per_s == pytest.approx(68.0)
    assert tl.limit.burst == 6
    assert tl.limit.max_grants(1.0) <= 80  # no one-second window above Meta's tier
    tl.set_tier("pn-big", 1000)
    assert tl.limit_for("pn-big").rate_per_s == pytest.approx(850.0)
    assert tl.limit_for("pn-big").max_grants(1.0) <= 1000
    assert tl.limit_for("other") == tl.limit
    custom = ThroughputLimiter(MemoryRateLimitStore(), tier_per_s=20, target_fraction=0.9, burst=2)
    assert custom.limit == RateLimit(18.0, 2)
    with pytest.raises(ValueError):
        ThroughputLimiter(MemoryRateLimitStore(), tier_per_s=1001)
    with pytest.raises(ValueError):
        ThroughputLimiter(MemoryRateLimitStore(), target_fraction=0)


def test_pair_defaults() -> None:
    pl = PairRateLimiter(MemoryRateLimitStore())
    assert pl.limit.interval_s == pytest.approx(6.0)
    assert pl.limit.burst == 4
    assert PairRateLimiter.pair_key("123", "5491100000000") == "123:5491100000000"
    pl2 = PairRateLimiter(MemoryRateLimitStore(), interval_s=10, burst=1)
    assert pl2.limit == RateLimit(0.1, 1)


def test_memory_store_satisfies_protocol() -> None:
    assert isinstance(MemoryRateLimitStore(), RateLimitStore)
    assert isinstance(build_rate_limit_store(None), MemoryRateLimitStore)
    assert isinstance(build_rate_limit_store(""), MemoryRateLimitStore)


# --------------------------------------------------------------------------------------------------
# memory store, fake clock


async def test_even_spacing_without_burst() -> None:
    clock = FakeClock()
    lim = limiter(clock, rate=10, burst=1)
    grants = []
    waits = []
    for _ in range(6):
        waits.append(await lim.acquire("pn"))
        grants.append(clock.now)
    assert waits == pytest.approx([0, 0.1, 0.1, 0.1, 0.1, 0.1])
    gaps = [b - a for a, b in itertools.pairwise(grants)]
    assert gaps == pytest.approx([0.1] * 5)


async def test_burst_tolerance_then_even_spacing() -> None:
    clock = FakeClock()
    lim = limiter(clock, rate=10, burst=3)
    delays = [await lim.reserve("pn") for _ in range(6)]  # clock does not move
    assert delays == pytest.approx([0, 0, 0, 0.1, 0.2, 0.3])
    # After idling long enough the full burst is available again, and no more.
    clock.advance(10)
    assert [await lim.try_acquire("pn") for _ in range(4)] == [True, True, True, False]


async def test_partial_refill() -> None:
    clock = FakeClock()
    lim = limiter(clock, rate=10, burst=3)
    for _ in range(3):
        assert await lim.try_acquire("pn")
    assert not await lim.try_acquire("pn")
    clock.advance(0.1)  # one emission interval frees exactly one slot
    assert await lim.try_acquire("pn")
    assert not await lim.try_acquire("pn")


async def test_try_acquire_and_refused_reserve_book_nothing() -> None:
    clock = FakeClock()
    lim = limiter(clock, rate=1, burst=1)
    assert await lim.try_acquire("pn")
    for _ in range(5):
        assert not await lim.try_acquire("pn")
    with pytest.raises(RateLimitExceeded) as exc:
        await lim.reserve("pn", max_wait=0.5)
    assert exc.value.retry_after_s == pytest.approx(1.0)
    with pytest.raises(RateLimitExceeded):
        await lim.acquire("pn", max_wait=0.5)
    assert clock.sleeps == []
    # The refusals did not push the schedule: the next slot is still 1 s after the first grant.
    assert await lim.reserve("pn", max_wait=1.0) == pytest.approx(1.0)
    # reserve() without a bound always books, queueing into the future.
    assert await lim.reserve("pn") == pytest.approx(2.0)


async def test_reserve_books_slots_for_deferred_jobs() -> None:
    clock = FakeClock()
    lim = limiter(clock, rate=5, burst=1)
    delays = [await lim.reserve("pn") for _ in range(5)]
    assert delays == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])
    # A late arrival after the queue drained is not penalised.
    clock.advance(5)
    assert await lim.reserve("pn") == 0


async def test_keys_are_independent() -> None:
    clock = FakeClock()
    lim = limiter(clock, rate=1, burst=1)
    assert await lim.try_acquire("a")
    assert await lim.try_acquire("b")
    assert not await lim.try_acquire("a")
    assert await lim.acquire("c") == 0
    lim.set_limit("d", RateLimit(1, 2))
    assert [await lim.try_acquire("d") for _ in range(3)] == [True, True, False]
    await lim.reset("a")
    assert await lim.try_acquire("a")


async def test_limiters_sharing_a_store_use_namespaces() -> None:
    clock = FakeClock()
    store = MemoryRateLimitStore(clock=clock)
    tp = ThroughputLimiter(store, tier_per_s=1, target_fraction=1, burst=1, sleep=clock.sleep)
    pair = PairRateLimiter(store, interval_s=1, burst=1, sleep=clock.sleep)
    assert await tp.try_acquire("x")
    assert await pair.try_acquire("x")


async def test_cooldown_blocks_then_resumes() -> None:
    clock = FakeClock()
    lim = limiter(clock, rate=10, burst=3)
    await lim.cooldown("pn", 2.0)
    assert not await lim.try_acquire("pn")
    assert await lim.reserve("pn") == pytest.approx(2.0)
    clock.advance(2.0)
    # The slot booked above was the first after the cooldown; sending resumes at the steady rate
    # (no burst straight after a throttle).
    assert not await lim.try_acquire("pn")
    clock.advance(0.1)
    assert [await lim.try_acquire("pn") for _ in range(2)] == [True, False]
    clock.advance(10)
    assert [await lim.try_acquire("pn") for _ in range(4)] == [True, True, True, False]


async def test_memory_store_drops_idle_keys() -> None:
    clock = FakeClock()
    store = MemoryRateLimitStore(clock=clock)
    lim = GCRALimiter(store, RateLimit(100, 1), namespace="t", sleep=clock.sleep)
    for i in range(1000):
        await lim.reserve(f"k{i}")
    clock.advance(1)
    for _ in range(100):
        await lim.reserve("live")
    assert len(store) < 10


@settings(max_examples=60, deadline=None)
@given(
    rate=st.sampled_from([1.0, 7.0, 68.0, 850.0]),
    burst=st.integers(min_value=1, max_value=8),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=120),
    ops=st.lists(st.sampled_from(["acquire", "reserve", "try"]), min_size=1, max_size=120),
)
def test_no_window_exceeds_rate_times_t_plus_burst(rate: float, burst: int, gaps: list[float], ops: list[str]) -> None:
    """Arbitrary arrivals, mixed operations: grant times never beat rate * W + burst in any window."""

    async def run() -> list[float]:
        clock = FakeClock()
        lim = limiter(clock, rate=rate, burst=burst)
        grants: list[float] = []
        for i, gap in enumerate(gaps):
            clock.advance(gap / rate)
            op = ops[i % len(ops)]
            if op == "acquire":
                await lim.acquire("k")
                grants.append(clock.now)
            elif op == "reserve":
                grants.append(clock.now + await lim.reserve("k"))
            elif await lim.try_acquire("k"):
                grants.append(clock.now)
        return grants

    grants = asyncio.run(run())
    assert grants
    assert_window_bound(grants, rate, burst)


async def test_saturated_grants_hit_the_rate_exactly() -> None:
    clock = FakeClock()
    lim = limiter(clock, rate=68, burst=6)
    start = clock.now
    grants = []
    while clock.now - start < 10:
        await lim.acquire("pn")
        grants.append(clock.now)
    assert_window_bound(grants, 68, 6)
    # 10 s of saturation: burst + rate * 10 (the last one lands just past the 10 s mark).
    assert len(grants) == pytest.approx(68 * 10 + 6, abs=1)


async def test_concurrent_tasks_real_clock() -> None:
    """Many tasks on one event loop at once: the booked slots are still evenly spaced."""
    store = MemoryRateLimitStore()
    lim = GCRALimiter(store, RateLimit(1000, 5), namespace="t")
    slots: list[float] = []

    async def one() -> None:
        res = await lim.reserve_slot("pn")
        slots.append(res.at)
        await asyncio.sleep(res.delay_s)

    await asyncio.gather(*(one() for _ in range(100)))
    assert_window_bound(slots, 1000, 5, slack=1e-6)
    assert max(slots) - min(slots) == pytest.approx(95 / 1000, abs=1e-6)


# --------------------------------------------------------------------------------------------------
# Redis


@pytest.fixture
async def redis_client() -> AsyncIterator[Any]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # never skip: a missing Redis is a broken test environment
        await client.aclose()
        ci = os.environ.get("CI", "").lower() == "true"
        pytest.fail(f"Redis unreachable at {REDIS_URL} (CI={ci}): {exc!r}")
    yield client
    await client.aclose()


@pytest.fixture
async def redis_store(redis_client: Any) -> AsyncIterator[RedisRateLimitStore]:
    prefix = f"test:rl:{uuid.uuid4().hex}:"
    yield RedisRateLimitStore(redis_client, prefix)
    keys = [k async for k in redis_client.scan_iter(match=prefix + "*")]
    if keys:
        await redis_client.delete(*keys)


@pytest.mark.redis
async def test_redis_burst_spacing_and_try_acquire(redis_store: RedisRateLimitStore) -> None:
    assert isinstance(redis_store, RateLimitStore)
    lim = GCRALimiter(redis_store, RateLimit(10, 3), namespace="t")
    # A slow rate, so the few ms between calls do not matter.
    delays = [await lim.reserve("pn") for _ in range(5)]
    assert delays[:3] == [0, 0, 0]
    assert delays[3] == pytest.approx(0.1, abs=0.01)
    assert delays[4] == pytest.approx(0.2, abs=0.01)
    assert not await lim.try_acquire("pn")
    with pytest.raises(RateLimitExceeded) as exc:
        await lim.reserve("pn", max_wait=0.05)
    assert exc.value.retry_after_s == pytest.approx(0.3, abs=0.01)
    # Refusals booked nothing.
    assert await lim.reserve("pn", max_wait=0.5) == pytest.approx(0.3, abs=0.01)
    # Independent keys.
    assert await lim.try_acquire("other")


@pytest.mark.redis
async def test_redis_slots_evenly_spaced_on_server_clock(redis_store: RedisRateLimitStore) -> None:
    lim = GCRALimiter(redis_store, RateLimit(50, 1), namespace="t")
    slots = [(await lim.reserve_slot("pn")).at for _ in range(10)]
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert gaps == pytest.approx([0.02] * 9, abs=1e-5)


@pytest.mark.redis
async def test_redis_acquire_waits(redis_store: RedisRateLimitStore) -> None:
    lim = GCRALimiter(redis_store, RateLimit(20, 1), namespace="t")
    t0 = time.monotonic()
    waits = [await lim.acquire("pn") for _ in range(5)]
    elapsed = time.monotonic() - t0
    assert waits[0] == 0
    assert sum(waits) == pytest.approx(0.2, abs=0.02)
    assert elapsed >= 0.19


@pytest.mark.redis
async def test_redis_keys_expire_when_idle(redis_store: RedisRateLimitStore, redis_client: Any) -> None:
    lim = GCRALimiter(redis_store, RateLimit(10, 2), namespace="t")
    full_key = redis_store.prefix + "t:pn"
    await lim.reserve("pn")
    await lim.reserve("pn")
    pttl = await redis_client.pttl(full_key)
    assert 0 < pttl <= 202  # TAT is 0.2 s ahead (+1 ms margin)
    await asyncio.sleep(0.3)
    assert await redis_client.exists(full_key) == 0
    # A fresh key behaves like an idle one: full burst again.
    assert [await lim.try_acquire("pn") for _ in range(3)] == [True, True, False]


@pytest.mark.redis
async def test_redis_cooldown_and_reset(redis_store: RedisRateLimitStore) -> None:
    lim = GCRALimiter(redis_store, RateLimit(100, 5), namespace="t")
    await lim.cooldown("pn", 0.5)
    assert not await lim.try_acquire("pn")
    with pytest.raises(RateLimitExceeded) as exc:
        await lim.reserve("pn", max_wait=0)
    assert exc.value.retry_after_s == pytest.approx(0.5, abs=0.02)
    await lim.reset("pn")
    assert await lim.try_acquire("pn")


@pytest.mark.redis
async def test_redis_noscript_falls_back_to_eval(
    redis_store: RedisRateLimitStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An unknown SHA forces NOSCRIPT on every EVALSHA, without flushing the shared server's script cache.
    monkeypatch.setattr(ratelimit, "_GCRA_SHA", "0" * 40)
    lim = GCRALimiter(redis_store, RateLimit(10, 1), namespace="t")
    assert await lim.try_acquire("pn")
    assert not await lim.try_acquire("pn")
    monkeypatch.undo()
    assert not await lim.try_acquire("pn")  # the real SHA is cached now (EVAL loaded it)


@pytest.mark.redis
async def test_build_rate_limit_store_redis() -> None:
    store = build_rate_limit_store(REDIS_URL, prefix=f"test:rl:{uuid.uuid4().hex}:")
    assert isinstance(store, RedisRateLimitStore)
    try:
        lim = ThroughputLimiter(store)
        assert await lim.try_acquire("pn")
        await lim.reset("pn")
    finally:
        await store.aclose()


_WORKER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import redis.asyncio as aioredis
    from mostrador.kit.ratelimit import GCRALimiter, RateLimit, RedisRateLimitStore

    url, prefix, rate, burst, start_at, duration, tasks = sys.argv[1:8]

    async def main() -> None:
        client = aioredis.Redis.from_url(url)
        limit = RateLimit(float(rate), int(burst))
        lim = GCRALimiter(RedisRateLimitStore(client, prefix), limit, namespace="t")
        await client.ping()
        end = float(start_at) + float(duration)
        await asyncio.sleep(max(0.0, float(start_at) - time.time()))
        slots = []

        async def loop() -> None:
            while time.time() < end:
                res = await lim.reserve_slot("shared", max_wait=max(0.0, end - time.time()))
                if not res.granted:
                    break
                slots.append(res.at)
                await asyncio.sleep(res.delay_s)

        await asyncio.gather(*(loop() for _ in range(int(tasks))))
        await client.aclose()
        print(json.dumps(slots))

    asyncio.run(main())
    """
)


@pytest.mark.redis
def test_redis_two_processes_share_one_limit(redis_client: Any) -> None:
    """Two OS processes hammer one key for 1.5 s at 200/s: the union respects rate * T + burst."""
    rate, burst, duration = 200.0, 5, 1.5
    prefix = f"test:rl:{uuid.uuid4().hex}:"
    src = str(Path(mostrador.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    start_at = time.time() + 1.0  # both processes start together, after interpreter start-up
    args = [REDIS_URL, prefix, str(rate), str(burst), repr(start_at), str(duration), "4"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        results.append(json.loads(out))

    per_proc = [len(r) for r in results]
    assert all(n > 0.25 * rate * duration for n in per_proc), per_proc  # both really competed
    slots = sorted(s for r in results for s in r)
    # Hard bound on server-clock slot times, for every window. Slack: epoch seconds as floats keep
    # only ~0.25 µs of precision, i.e. 5e-5 of a grant at 200/s.
    assert_window_bound(slots, rate, burst, slack=1e-3)
    # Over the whole run: no more than rate * T + burst, and close to the target.
    span = slots[-1] - slots[0]
    assert len(slots) <= rate * span + burst + 1e-3
    assert len(slots) >= 0.85 * rate * duration, (len(slots), per_proc)
