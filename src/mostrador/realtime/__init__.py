"""Real-time events for agents' browsers: collected on the session, published after commit."""

from mostrador.realtime.events import RealtimeEvent, publish
from mostrador.realtime.pubsub import MemoryPubSub, PubSub, RedisPubSub

__all__ = ["MemoryPubSub", "PubSub", "RealtimeEvent", "RedisPubSub", "publish"]
