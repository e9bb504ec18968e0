"""(being written) hlmkit.r2"""

from __future__ import annotations

__all__: list[str] = []
