"""The embedded runner's share of the event loop while requests are in flight."""

from __future__ import annotations

import time
from collections import deque

WINDOW_S = 0.2
# Below this much CPU (of one core) over the window the process has room for everything: no job waits.
SATURATED = 0.85
# Customers' messages wait only when the process has been short of CPU this long (a flood), not for a burst: a
# 0.2 s window held them back at a few hundred webhooks/s, when the intake needed no protection
# (bench/realtime_latency.py, p50 218 ms → 101 ms at 500 events/s).
SUSTAINED_S = 1.0
# CPU samples are kept at most this often.
SAMPLE_EVERY_S = 0.01


class DutyCycle:
    """Job time over the last ``WINDOW_S`` of wall time. While requests are in flight and the process is short
    of CPU, a job starts only when that share is under its queue's allowance, so the webhook intake and the
    agents' pages keep their turn whatever is stored. One allowance for the whole runner: sixteen runners each
    napping after its own job left customer messages waiting behind the naps (bench/realtime_latency.py)."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self._window = window_s
        self._spans: deque[tuple[float, float]] = deque()  # (ended at, seconds spent)
        self._used = 0.0
        self._cpu: deque[tuple[float, float]] = deque([(time.monotonic(), time.process_time())])

    def saturated(self, now: float | None = None, over: float | None = None) -> bool:
        """Whether the process used nearly a whole core over the last ``over`` seconds (default the window)."""
        now = time.monotonic() if now is None else now
        over = self._window if over is None else over
        cpu = time.process_time()
        if now - self._cpu[-1][0] >= SAMPLE_EVERY_S:
            self._cpu.append((now, cpu))
        while len(self._cpu) > 2 and self._cpu[1][0] <= now - SUSTAINED_S:
            self._cpu.popleft()
        since, cpu_then = self._cpu[0]  # the oldest sample kept, unless a newer one is at least ``over`` old
        for at, value in reversed(self._cpu):
            if at <= now - over:
                since, cpu_then = at, value
                break
        return now - since > 0 and (cpu - cpu_then) / (now - since) >= SATURATED

    def record(self, started: float, ended: float) -> None:
        self._spans.append((ended, ended - started))
        self._used += ended - started

    def wait_s(self, share: float, now: float | None = None, *, sustained: bool = False) -> float:
        """How long to wait before a job with this allowance may start (0: now). ``sustained``: only when the
        process has been short of CPU for ``SUSTAINED_S``, not for one window."""
        now = time.monotonic() if now is None else now
        if not self.saturated(now, over=SUSTAINED_S if sustained else None):
            return 0.0
        while self._spans and self._spans[0][0] < now - self._window:
            self._used -= self._spans.popleft()[1]
        excess = self._used - share * self._window
        return excess / share if excess > 0 else 0.0
