"""(being written) hlmkit.effects"""

from __future__ import annotations

__all__: list[str] = []
