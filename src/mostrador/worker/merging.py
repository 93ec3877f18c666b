"""Doorbells of a batch actor (``coalesce=``) that arrive while its job waits for its turn join that job."""

from __future__ import annotations

from mostrador.worker.registry import ActorDef, JobArg


class WaitingBatches:
    """Per actor, the args of its job still waiting, which later jobs join up to the actor's limit.

    Used by both runners: the embedded one while a job waits in its queue, a `mostrador worker` while a job waits
    at its gate. Only first attempts take part: a retry keeps its own args and backoff.
    """

    def __init__(self) -> None:
        self._open: dict[str, list[JobArg]] = {}

    def join(self, definition: ActorDef, args: tuple[JobArg, ...] | list[JobArg]) -> bool:
        """Add ``args`` to the actor's waiting batch if there is one with room; True when they were added."""
        waiting = self._open.get(definition.name)
        if waiting is None or len(waiting) + len(args) > definition.coalesce:
            return False
        waiting.extend(args)
        return True

    def open(self, definition: ActorDef, batch: list[JobArg]) -> None:
        """``batch`` is now the one later jobs of the actor join."""
        self._open[definition.name] = batch

    def taken(self, definition: ActorDef, batch: list[JobArg]) -> None:
        """``batch`` starts running: later jobs start a new one."""
        if self._open.get(definition.name) is batch:
            del self._open[definition.name]
