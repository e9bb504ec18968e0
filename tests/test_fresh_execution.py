"""_ext/fresh_execution.py: the execution cache follows hlmkit/, data/ and tests/reference/, and a
build with a failing page fails, lists it, and leaves no environment behind."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("fresh_execution", ROOT / "_ext" / "fresh_execution.py")
fresh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fresh)


def _tree(root: Path) -> None:
    (root / "hlmkit" / "__pycache__").mkdir(parents=True)
    (root / "hlmkit" / "lmm.py").write_text("x = 1\n")
    (root / "data" / "cases").mkdir(parents=True)
    (root / "data" / "cases" / "a.csv").write_text("y\n1\n")
    (root / "tests" / "reference").mkdir(parents=True)
    (root / "tests" / "reference" / "r.json").write_text("{}")
    (root / "constraints.txt").write_text("numpy==2\n")
    (root / "chapters").mkdir()
    (root / "chapters" / "page.md").write_text("# page\n")


def test_the_hash_follows_the_sources_and_nothing_else(tmp_path):
    _tree(tmp_path)
    first = fresh.sources_hash(tmp_path)
    # a page, a compiled file or a cache changes nothing (a page's own code is jupyter-cache's key)
    (tmp_path / "chapters" / "page.md").write_text("# another page\n")
    (tmp_path / "hlmkit" / "__pycache__" / "lmm.cpython-311.pyc").write_bytes(b"\0")
    assert fresh.sources_hash(tmp_path) == first
    for path, text in [
        ("hlmkit/lmm.py", "x = 2\n"),
        ("data/cases/a.csv", "y\n2\n"),
        ("tests/reference/r.json", '{"a": 1}'),
        ("constraints.txt", "numpy==3\n"),
    ]:
        before = fresh.sources_hash(tmp_path)
        (tmp_path / path).write_text(text)
        assert fresh.sources_hash(tmp_path) != before, path
    # a new file, or a renamed one, counts too
    before = fresh.sources_hash(tmp_path)
    (tmp_path / "hlmkit" / "lmm.py").rename(tmp_path / "hlmkit" / "lmm2.py")
    assert fresh.sources_hash(tmp_path) != before


def _app(root: Path, cache: str = "") -> SimpleNamespace:
    config = SimpleNamespace(nb_execution_cache_path=cache, hlmkit_sources_hash="")
    return SimpleNamespace(confdir=str(root), outdir=str(root / "_build" / "html"), config=config)


def test_the_cache_lives_in_a_folder_named_by_the_hash(tmp_path):
    _tree(tmp_path)
    app = _app(tmp_path)
    fresh._key_the_cache(app, app.config)
    digest = fresh.sources_hash(tmp_path)
    assert app.config.hlmkit_sources_hash == digest
    assert (
        Path(app.config.nb_execution_cache_path)
        == tmp_path / "_build" / ".jupyter_cache" / f"sources-{digest[:16]}"
    )
    # an explicit cache (the student edition points at the main build's) gets the same sub-folder
    shared = _app(tmp_path, str(tmp_path / "_build" / ".jupyter_cache"))
    fresh._key_the_cache(shared, shared.config)
    assert shared.config.nb_execution_cache_path == app.config.nb_execution_cache_path


def test_only_the_newest_cache_folders_are_kept(tmp_path):
    _tree(tmp_path)
    cache = tmp_path / "_build" / ".jupyter_cache"
    for k in range(5):
        (cache / f"sources-old{k}").mkdir(parents=True)
        os.utime(cache / f"sources-old{k}", (k, k))
    (cache / "global.db").write_text("")  # anything else is left alone
    app = _app(tmp_path)
    fresh._key_the_cache(app, app.config)
    kept = sorted(p.name for p in cache.glob("sources-*"))
    assert len(kept) == fresh.KEEP and f"sources-{app.config.hlmkit_sources_hash[:16]}" in kept
    assert {"sources-old4", "sources-old3"} <= set(kept) and (cache / "global.db").exists()


def _built(tmp_path: Path, exec_data: dict, warncount: int = 0) -> SimpleNamespace:
    doctrees = tmp_path / ".doctrees"
    doctrees.mkdir()
    (doctrees / fresh.ENV_PICKLE_FILENAME).write_bytes(b"env")
    env = SimpleNamespace(nb_metadata={doc: {"exec_data": data} for doc, data in exec_data.items()})
    return SimpleNamespace(env=env, doctreedir=str(doctrees), statuscode=0, _warncount=warncount)


def test_failing_pages_fail_the_build_and_leave_no_environment(tmp_path, caplog):
    app = _built(
        tmp_path,
        {
            "chapters/a": {"succeeded": False},
            "chapters/b": {"succeeded": True},
            "labs/c": {"succeeded": False},
        },
    )
    fresh._report_failures(app, None)
    assert app.statuscode == 1
    assert "2 page(s) failed to execute: chapters/a, labs/c" in caplog.text
    assert not (Path(app.doctreedir) / fresh.ENV_PICKLE_FILENAME).exists()


def test_a_clean_build_keeps_its_environment(tmp_path):
    app = _built(tmp_path, {"chapters/a": {"succeeded": True}})
    fresh._report_failures(app, None)
    assert app.statuscode == 0 and (Path(app.doctreedir) / fresh.ENV_PICKLE_FILENAME).exists()


def test_any_warning_makes_the_next_build_read_every_page(tmp_path):
    app = _built(tmp_path, {"chapters/a": {"succeeded": True}}, warncount=1)
    fresh._report_failures(app, None)
    assert not (Path(app.doctreedir) / fresh.ENV_PICKLE_FILENAME).exists()
