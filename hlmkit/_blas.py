"""Run small-matrix work on one BLAS thread.

The mixed-model engine multiplies many small matrices. A multi-threaded BLAS (OpenBLAS by default
starts one thread per core) gains nothing on them and loses a great deal when another process is
busy: its threads spin waiting for each other, and a 7 ms fit takes 35-100 ms. Every fit, refit and
simulation therefore runs inside :func:`single_threaded_blas`, which limits the BLAS libraries
loaded in the process to one thread (threadpoolctl) and restores them afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_controller: Any = None
_depth = 0


def _get_controller() -> Any:
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (re-entrant; cheap when nested)."""
    global _depth
    blas = []
    if not _depth:
        controller = _get_controller()
        blas = [lib for lib in controller.lib_controllers if lib.user_api == "blas" and lib.num_threads != 1]
    old = [lib.num_threads for lib in blas]
    for lib in blas:
        lib.set_num_threads(1)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        for lib, n in zip(blas, old, strict=True):
            lib.set_num_threads(n)
