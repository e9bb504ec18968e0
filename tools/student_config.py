"""Write the configuration of the student edition: the book without the exercises' solutions.

    python tools/student_config.py _build/_config_student.yml

It copies ``_config.yml``, retitles the book, sets ``hlmkit_edition: student`` (read by
``_ext/notebook_export.py``, which removes the solutions once the book is numbered, so that both
editions number exercises, figures, tables and equations alike, and serves solution-free notebook and
Markdown downloads), and points the execution cache at the main build's, so the student edition
does not execute the pages again.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def main(target: str) -> None:
    root = Path(__file__).resolve().parent.parent
    config = yaml.safe_load((root / "_config.yml").read_text())
    config["title"] = config["title"] + " (student edition)"
    config.setdefault("execute", {})["cache"] = str(root / "_build" / ".jupyter_cache")
    # the written file lives in _build/: make the paths it names absolute
    sphinx = config.setdefault("sphinx", {})
    sphinx["local_extensions"] = {
        name: str(root / path) for name, path in sphinx.get("local_extensions", {}).items()
    }
    sphinx.setdefault("config", {})["hlmkit_edition"] = "student"
    sphinx["config"]["hlmkit_notebooks_dir"] = str(root / "_build" / "notebooks")
    config["bibtex_bibfiles"] = [str(root / f) for f in config.get("bibtex_bibfiles", [])]
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(config, sort_keys=False))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "_build/_config_student.yml")
