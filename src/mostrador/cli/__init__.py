"""The ``mostrador`` command."""

from __future__ import annotations

import sys

from mostrador.cli.app import app
from mostrador.config import SettingsError


def main() -> None:
    try:
        app()
    except SettingsError as error:
        print(f"mostrador: {error}", file=sys.stderr)
        raise SystemExit(2) from None


__all__ = ["app", "main"]
