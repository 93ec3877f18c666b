"""The queue seam: actors are defined once and run in-process (embedded) or on Dramatiq (distributed)."""

from mostrador.worker.enqueue import enqueue
from mostrador.worker.queues import Queue
from mostrador.worker.registry import JobContext, RetryLater, actor

__all__ = ["JobContext", "Queue", "RetryLater", "actor", "enqueue"]
