"""A build that cannot go stale and reports every failing page.

**Stale outputs.** myst-nb's execution cache (jupyter-cache) keys a page on the page's own code.
The pages also run ``hlmkit``, read ``data/`` and check their numbers against ``tests/reference/``,
so after a change there a cached page would show its old outputs and pass its old checks. This
extension hashes those files (with ``constraints.txt``, the pinned packages) and

* keeps the execution cache in a folder named by the hash, ``<cache>/sources-<hash>``: new sources
  start from an empty cache, so every page executes again (the three newest folders are kept, so
  undoing a change finds its outputs again);
* records the hash as a configuration value that rebuilds Sphinx's environment, so that Sphinx
  reads every page again: otherwise it reads only pages whose own source changed, and never asks
  myst-nb to execute the others.

**Every failure.** ``_config.yml`` sets ``raise_on_error: false``: a page whose code fails (a
failed hidden check) is a warning, which ``-W --keep-going`` turns into a failed build after all
pages have run, instead of an exception that stops the build at the first failing page. At the end
of such a build this extension lists the pages that failed, fails the build (also without ``-W``),
and deletes the saved environment (as
Sphinx does after an exception), so that the next build reads every page again and reports each
problem again rather than trusting pages that failed.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import ENV_PICKLE_FILENAME
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: What the pages' outputs depend on besides their own code (relative to the book's root).
SOURCES = ("hlmkit", "data", "tests/reference", "constraints.txt")
KEEP = 3  # cache folders kept


def sources_hash(root: Path, sources: tuple[str, ...] = SOURCES) -> str:
    """SHA-256 of the files under ``sources`` (their paths and contents), without caches."""
    digest = hashlib.sha256()
    for name in sources:
        top = root / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _key_the_cache(app: Any, config: Any) -> None:
    root = Path(app.confdir)
    config.hlmkit_sources_hash = sources_hash(root)
    cache_root = Path(config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
    if not cache_root.is_absolute():
        cache_root = root / cache_root
    folder = cache_root / f"sources-{config.hlmkit_sources_hash[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    folder.touch()  # newest first, below
    config.nb_execution_cache_path = str(folder)
    older = sorted(cache_root.glob("sources-*"), key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]
    for old in older:
        shutil.rmtree(old, ignore_errors=True)
    logger.info(
        f"hlmkit, data and reference values: {config.hlmkit_sources_hash[:16]}; execution cache {folder}"
    )


def _report_failures(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.env is None:
        return  # Sphinx deletes the environment itself
    metadata = getattr(app.env, "nb_metadata", {})
    failed = sorted(
        doc
        for doc, data in metadata.items()
        if data.get("exec_data") and not data["exec_data"].get("succeeded", True)
    )
    if failed:
        logger.warning(
            f"{len(failed)} page(s) failed to execute: {', '.join(failed)}",
            type="hlmkit",
            subtype="execution",
        )
        app.statuscode = 1  # a failed page fails the build, with or without -W
    if failed or getattr(app, "_warncount", 0):
        envfile = Path(app.doctreedir) / ENV_PICKLE_FILENAME
        envfile.unlink(missing_ok=True)
        logger.info("the build had problems: the next build reads every page again")


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("hlmkit_sources_hash", "", "env")
    # after jupyter-book and myst-nb have set their configuration, before the environment is loaded
    app.connect("config-inited", _key_the_cache, priority=900)
    app.connect("build-finished", _report_failures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
