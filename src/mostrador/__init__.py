"""Mostrador: a self-hosted WhatsApp contact center."""

__version__ = "0.1.0"
