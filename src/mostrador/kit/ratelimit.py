"""Outbound rate limiting for the WhatsApp Cloud API (GCRA, waits instead of raising).

Meta throttles every registered business number twice:

* **throughput**: 80 msg/s by default (up to 1,000 msg/s after an upgrade, 20 msg/s for coexistence
  numbers), counting inbound *and* outbound. Exceeding it returns error ``130429``;
* **pair rate**: about one message every 6 s to the same user, with short bursts tolerated.
  Exceeding it returns error ``131056``.

Both limits use the *generic cell rate algorithm* (GCRA). Each key stores a single number, its
*theoretical arrival time* (TAT). Grants are spaced ``1 / rate`` apart. ``burst - 1`` extra grants may
run ahead of that schedule, so in **any** window of ``W`` seconds at most ``rate * W + burst``
grants are handed out. Fixed windows, by contrast, let ~2x the limit through at a window edge.

A limiter **books** a slot and then waits for it, so callers never lose work to a
``RateLimitExceeded`` retry loop:

* ``await limiter.acquire(key)`` sleeps until the booked slot and returns the seconds it waited;
* ``await limiter.reserve(key)`` books the slot and returns the delay without sleeping, so a job can
  be deferred by that much. The slot stays booked whether the caller uses it or not;
* ``await limiter.try_acquire(key)`` books only if the slot is free right now.

Two stores share the :class:`RateLimitStore` protocol:

* :class:`MemoryRateLimitStore`: one process (embedded mode), with an injectable clock;
* :class:`RedisRateLimitStore`: one atomic Lua script timed by the Redis server clock, so any number of
  worker processes or hosts share one exact limit. Idle keys expire once their TAT is in the past,
  because at that point they carry no information.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

__all__ = [
    "DEFAULT_PAIR_BURST",
    "DEFAULT_PAIR_INTERVAL_S",
    "DEFAULT_TARGET_FRACTION",
    "DEFAULT_THROUGHPUT_PER_S",
    "MAX_THROUGHPUT_PER_S",
    "GCRALimiter",
    "MemoryRateLimitStore",
    "PairRateLimiter",
    "RateLimit",
    "RateLimitExceeded",
    "RateLimitStore",
    "RedisRateLimitStore",
    "Reservation",
    "ThroughputLimiter",
    "build_rate_limit_store",
]

DEFAULT_THROUGHPUT_PER_S: Final = 80.0
MAX_THROUGHPUT_PER_S: Final = 1000.0
DEFAULT_TARGET_FRACTION: Final = 0.85
DEFAULT_PAIR_INTERVAL_S: Final = 6.0
DEFAULT_PAIR_BURST: Final = 4
DEFAULT_REDIS_PREFIX: Final = "mostrador:rl:"
_EPSILON_S: Final = 1e-9

SleepFn = Callable[[float], Awaitable[Any]]
ClockFn = Callable[[], float]


# --------------------------------------------------------------------------------------------------
# configuration and results


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``rate_per_s`` grants per second on average, with up to ``burst`` grants at once."""

    rate_per_s: float
    burst: int = 1

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate_per_s) and self.rate_per_s > 0):
            raise ValueError(f"rate_per_s must be a positive number, got {self.rate_per_s!r}")
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1:
            raise ValueError(f"burst must be an integer >= 1, got {self.burst!r}")

    @property
    def interval_s(self) -> float:
        """Emission interval ``T = 1 / rate``: the even spacing between grants."""
        return 1.0 / self.rate_per_s

    @property
    def tolerance_s(self) -> float:
        """GCRA delay-variation tolerance ``tau = (burst - 1) * T``."""
        return (self.burst - 1) * self.interval_s

    def max_grants(self, window_s: float) -> float:
        """Upper bound on grants inside any window of ``window_s`` seconds."""
        return self.rate_per_s * window_s + self.burst


@dataclass(frozen=True, slots=True)
class Reservation:
    """Result of one GCRA step in a store.

    ``granted``: the slot was booked. If it was not (the ``max_wait`` bound was exceeded), nothing
    changed. ``delay_s``: seconds from now until the slot, or until the slot would open if the
    booking was refused. ``at``: that moment on the *store's* clock (monotonic seconds for the
    memory store, Redis server epoch seconds for Redis). Use it for diagnostics and tests.
    """

    granted: bool
    delay_s: float
    at: float


class RateLimitExceeded(Exception):
    """Raised only when a caller passed ``max_wait`` and the next slot is further away than that."""

    def __init__(self, key: str, retry_after_s: float) -> None:
        super().__init__(f"rate limit for {key!r}: next slot in {retry_after_s:.3f}s")
        self.key = key
        self.retry_after_s = retry_after_s


# --------------------------------------------------------------------------------------------------
# stores


@runtime_checkable
class RateLimitStore(Protocol):
    """Atomic GCRA state keyed by string. All times are in seconds."""

    async def reserve(
        self, key: str, interval_s: float, tolerance_s: float, max_wait_s: float | None = None
    ) -> Reservation:
        """Book the next slot for ``key`` unless it is more than ``max_wait_s`` away (None: no bound)."""
        ...

    async def cooldown(self, key: str, seconds: float, tolerance_s: float) -> None:
        """Grant nothing on ``key`` for the next ``seconds`` (e.g. after Meta answered 130429/131056)."""
        ...

    async def reset(self, key: str) -> None:
        """Forget the state of ``key``."""
        ...

    async def aclose(self) -> None:
        """Release resources owned by the store."""
        ...


class MemoryRateLimitStore:
    """Per-process store for embedded mode. ``clock`` must be monotonic (seconds)."""

    _SWEEP_EVERY: Final = 1024

    def __init__(self, clock: ClockFn = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._ops = 0

    def __len__(self) -> int:
        return len(self._tat)

    def _sweep(self, now: float) -> None:
        # An entry whose TAT is in the past behaves exactly like a missing one, so drop it.
        self._ops += 1
        if self._ops % self._SWEEP_EVERY == 0:
            for key in [k for k, tat in self._tat.items() if tat <= now]:
                del self._tat[key]

    async def reserve(
        self, key: str, interval_s: float, tolerance_s: float, max_wait_s: float | None = None
    ) -> Reservation:
        # No await between read and write: atomic with respect to other asyncio tasks.
        now = self._clock()
        self._sweep(now)
        tat = max(self._tat.get(key, now), now)
        delay = tat - tolerance_s - now
        if delay < _EPSILON_S:  # float noise from summing intervals must not refuse a free slot
            delay = 0.0
        at = now + delay
        if max_wait_s is not None and delay > max_wait_s:
            return Reservation(granted=False, delay_s=delay, at=at)
        self._tat[key] = tat + interval_s
        return Reservation(granted=True, delay_s=delay, at=at)

    async def cooldown(self, key: str, seconds: float, tolerance_s: float) -> None:
        now = self._clock()
        # The next slot opens at TAT - tolerance, so push TAT to now + seconds + tolerance.
        self._tat[key] = max(self._tat.get(key, now), now + seconds + tolerance_s)

    async def reset(self, key: str) -> None:
        self._tat.pop(key, None)

    async def aclose(self) -> None:
        self._tat.clear()


# All times are integer microseconds on the Redis server clock (< 2**53, so exact in Lua doubles).
# The client rounds the interval up and the tolerance down to whole microseconds, which errs on the
# safe side. Numbers are written with string.format('%.0f') because Lua's tostring ('%.14g') would
# round a 16-digit microsecond timestamp.
# KEYS[1] key; ARGV: interval_us, tolerance_us, max_wait_us (<0: unbounded), mode ('r' reserve |
# 'c' cooldown), cooldown_us. Returns {granted 0|1, delay_us, server_now_us as string}.
_GCRA_LUA: Final = """
local key = KEYS[1]
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local function store(tat, now)
  local ttl_ms = math.ceil((tat - now) / 1000) + 1
  redis.call('SET', key, string.format('%.0f', tat), 'PX', string.format('%.0f', ttl_ms))
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', key) or now)
if tat < now then tat = now end
if ARGV[4] == 'c' then
  local until_tat = now + tonumber(ARGV[5]) + tolerance
  if until_tat > tat then tat = until_tat end
  store(tat, now)
  return {1, 0, string.format('%.0f', now)}
end
local delay = tat - tolerance - now
if delay < 0 then delay = 0 end
if max_wait >= 0 and delay > max_wait then
  return {0, delay, string.format('%.0f', now)}
end
store(tat + interval, now)
return {1, delay, string.format('%.0f', now)}
"""
_GCRA_SHA: Final = hashlib.sha1(_GCRA_LUA.encode(), usedforsecurity=False).hexdigest()


def _us_up(seconds: float) -> str:
    return str(math.ceil(round(seconds * 1_000_000.0, 6)))


def _us_down(seconds: float) -> str:
    return str(math.floor(round(seconds * 1_000_000.0, 6)))


class RedisRateLimitStore:
    """Store shared by every process that uses the same Redis and ``prefix``.

    One atomic script per call (EVALSHA, falling back to EVAL on NOSCRIPT). Timing uses the Redis
    ``TIME`` command, so client clock skew does not matter. Each key expires once its TAT has passed.
    """

    def __init__(self, redis: Any, prefix: str = DEFAULT_REDIS_PREFIX, *, owns_client: bool = False) -> None:
        # ``redis`` is a ``redis.asyncio.Redis`` (typed Any: redis-py's stubs type command results as
        # ``Any | Awaitable[Any]``).
        self._redis = redis
        self.prefix = prefix
        self._owns_client = owns_client

    def _key(self, key: str) -> str:
        return self.prefix + key

    async def _run(self, key: str, *args: str) -> list[Any]:
        from redis.exceptions import NoScriptError

        full_key = self._key(key)
        try:
            result = await self._redis.execute_command("EVALSHA", _GCRA_SHA, 1, full_key, *args)
        except NoScriptError:
            result = await self._redis.execute_command("EVAL", _GCRA_LUA, 1, full_key, *args)
        return list(result)

    async def reserve(
        self, key: str, interval_s: float, tolerance_s: float, max_wait_s: float | None = None
    ) -> Reservation:
        max_wait = "-1" if max_wait_s is None else _us_down(max(0.0, max_wait_s))
        granted, delay_us, now_us = await self._run(key, _us_up(interval_s), _us_down(tolerance_s), max_wait, "r", "0")
        delay = int(delay_us) / 1_000_000.0
        return Reservation(granted=int(granted) == 1, delay_s=delay, at=int(now_us) / 1_000_000.0 + delay)

    async def cooldown(self, key: str, seconds: float, tolerance_s: float) -> None:
        await self._run(key, "0", _us_down(tolerance_s), "-1", "c", _us_up(max(0.0, seconds)))

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def aclose(self) -> None:
        if self._owns_client:
            await self._redis.aclose()


def build_rate_limit_store(
    redis_url: str | None, *, prefix: str = DEFAULT_REDIS_PREFIX, max_connections: int = 64
) -> RateLimitStore:
    """Return a Redis-backed store when ``redis_url`` is set (scale-out), else an in-memory one.

    The Redis client uses a ``BlockingConnectionPool``, so bursts of concurrent acquires wait for a
    connection instead of failing with ``MaxConnectionsError``. The store owns the client: close it
    with ``await store.aclose()``.
    """
    if not redis_url:
        return MemoryRateLimitStore()
    import redis.asyncio as aioredis

    pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=max_connections, timeout=30)
    client = aioredis.Redis(connection_pool=pool)
    return RedisRateLimitStore(client, prefix, owns_client=True)


# --------------------------------------------------------------------------------------------------
# limiters


class GCRALimiter:
    """A GCRA limiter over a :class:`RateLimitStore`.

    ``namespace`` separates limiters that share a store. ``sleep`` can be swapped for tests.
    Per-key overrides (``set_limit``) cover numbers on different throughput tiers. Every process
    must configure the same overrides, for example from the database.
    """

    def __init__(
        self,
        store: RateLimitStore,
        limit: RateLimit,
        *,
        namespace: str,
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        self.store = store
        self.limit = limit
        self.namespace = namespace
        self._sleep = sleep
        self._overrides: dict[str, RateLimit] = {}

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def limit_for(self, key: str) -> RateLimit:
        return self._overrides.get(key, self.limit)

    def set_limit(self, key: str, limit: RateLimit | None) -> None:
        """Override the limit of one key (None removes the override)."""
        if limit is None:
            self._overrides.pop(key, None)
        else:
            self._overrides[key] = limit

    async def reserve_slot(self, key: str, *, max_wait: float | None = None) -> Reservation:
        """Low-level call: one store step, returning the whole :class:`Reservation`."""
        limit = self.limit_for(key)
        return await self.store.reserve(self._key(key), limit.interval_s, limit.tolerance_s, max_wait)

    async def reserve(self, key: str, *, max_wait: float | None = None) -> float:
        """Book the next slot and return the seconds until it, without sleeping.

        The slot stays booked, so the caller should run at ``now + delay`` (e.g. defer the job by
        that much). With ``max_wait``, a slot further away is not booked and
        :class:`RateLimitExceeded` is raised.
        """
        res = await self.reserve_slot(key, max_wait=max_wait)
        if not res.granted:
            raise RateLimitExceeded(key, res.delay_s)
        return res.delay_s

    async def try_acquire(self, key: str) -> bool:
        """Take a slot only if one is free right now. Nothing is booked otherwise."""
        res = await self.reserve_slot(key, max_wait=0.0)
        return res.granted

    async def acquire(self, key: str, *, max_wait: float | None = None) -> float:
        """Wait for the next slot and return the seconds waited (0.0 when a slot was free)."""
        delay = await self.reserve(key, max_wait=max_wait)
        if delay > 0:
            await self._sleep(delay)
        return delay

    async def cooldown(self, key: str, seconds: float) -> None:
        """Grant nothing on ``key`` for ``seconds``. Use it when Meta still answers 130429/131056.

        Sending then resumes at the steady rate, without a burst. Slots booked earlier stay valid.
        """
        await self.store.cooldown(self._key(key), seconds, self.limit_for(key).tolerance_s)

    async def reset(self, key: str) -> None:
        await self.store.reset(self._key(key))


def _default_throughput_burst(tier_per_s: float, target_fraction: float) -> int:
    # Keep effective_rate * 1 s + burst below the tier: half of the headroom goes to burst.
    return max(1, math.floor(tier_per_s * (1.0 - target_fraction) / 2))


class ThroughputLimiter(GCRALimiter):
    """Per business phone number (key = ``phone_number_id``) messages-per-second limiter.

    Runs at ``tier_per_s * target_fraction`` (default 80 x 0.85 = 68 msg/s). The headroom absorbs
    inbound traffic, which Meta counts too. ``burst`` defaults to half of that headroom (6 at
    80 msg/s, 75 at 1,000 msg/s), so no one-second window goes over the tier.
    """

    def __init__(
        self,
        store: RateLimitStore,
        *,
        tier_per_s: float = DEFAULT_THROUGHPUT_PER_S,
        target_fraction: float = DEFAULT_TARGET_FRACTION,
        burst: int | None = None,
        namespace: str = "tp",
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        if not 0 < target_fraction <= 1:
            raise ValueError(f"target_fraction must be in (0, 1], got {target_fraction!r}")
        self.target_fraction = target_fraction
        super().__init__(store, self.limit_for_tier(tier_per_s, burst), namespace=namespace, sleep=sleep)

    def limit_for_tier(self, tier_per_s: float, burst: int | None = None) -> RateLimit:
        if not 0 < tier_per_s <= MAX_THROUGHPUT_PER_S:
            raise ValueError(f"tier_per_s must be in (0, {MAX_THROUGHPUT_PER_S:g}], got {tier_per_s!r}")
        if burst is None:
            burst = _default_throughput_burst(tier_per_s, self.target_fraction)
        return RateLimit(tier_per_s * self.target_fraction, burst)

    def set_tier(self, phone_number_id: str, tier_per_s: float, burst: int | None = None) -> None:
        """E.g. ``set_tier(pnid, 1000)`` after an upgrade, ``set_tier(pnid, 20)`` for coexistence."""
        self.set_limit(phone_number_id, self.limit_for_tier(tier_per_s, burst))


class PairRateLimiter(GCRALimiter):
    """Per (business number, user) limiter: one message per ``interval_s`` (default 6 s), burst 4.

    Key with :meth:`pair_key`, e.g. ``await pair.acquire(pair.pair_key(pnid, wa_id))``. At 6 s per
    message, prefer ``reserve()`` and deferring the job over sleeping in a worker.
    """

    def __init__(
        self,
        store: RateLimitStore,
        *,
        interval_s: float = DEFAULT_PAIR_INTERVAL_S,
        burst: int = DEFAULT_PAIR_BURST,
        namespace: str = "pair",
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        if not (math.isfinite(interval_s) and interval_s > 0):
            raise ValueError(f"interval_s must be positive, got {interval_s!r}")
        super().__init__(store, RateLimit(1.0 / interval_s, burst), namespace=namespace, sleep=sleep)

    @staticmethod
    def pair_key(phone_number_id: str, wa_id: str) -> str:
        return f"{phone_number_id}:{wa_id}"
