"""(being written) hlmkit.simdata"""

from __future__ import annotations

__all__: list[str] = []
