"""Write the configuration of the student edition: the book with the lab solutions hidden.

    python tools/student_config.py _build/_config_student.yml

It copies ``_config.yml``, adds ``_ext/student_edition.py`` (which removes the solutions), retitles
the book, and points the execution cache at the main build's, so the student edition does not
execute the pages again.
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
    sphinx["local_extensions"] = {name: str(root / path) for name, path in sphinx.get("local_extensions", {}).items()}
    sphinx["local_extensions"]["student_edition"] = str(root / "_ext")  # removes every solution
    config["bibtex_bibfiles"] = [str(root / f) for f in config.get("bibtex_bibfiles", [])]
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(config, sort_keys=False))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "_build/_config_student.yml")
