"""Small MyST notebook pages for the tests that write their own: the front matter, a page head,
an exercise in the book's format (STYLE.md) and the build context the HTML build would write."""

FRONT_MATTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

HEAD = (
    FRONT_MATTER
    + """
# A small page

```{code-cell} ipython3
import numpy as np
import pandas as pd
import hlmkit as hk
x = np.arange(10.0)
```
"""
)


def exercise(
    label: str, text: str, solution: str, tests: list[tuple[str, bool]], manual: bool = False
) -> str:
    """One exercise in the STYLE.md format, its gated solution and its test cells."""
    cls = ":class: manual\n" if manual else ""
    out = f"```{{exercise}}\n:label: {label}\n{cls}\n{text}\n```\n\n"
    out += f"```{{solution-start}} {label}\n:class: dropdown\n```\n\nThe answer.\n\n"
    out += f"```{{code-cell}} ipython3\n{solution}\n```\n\n```{{solution-end}}\n```\n\n"
    for src, hidden in tests:
        out += (
            f"```{{code-cell}} ipython3\n---\ntags: [remove-cell]\nautograde:\n  exercise: {label}\n"
            f"  points: 1\n  hidden: {'true' if hidden else 'false'}\n---\n{src}\n```\n\n"
        )
    return out


def page_context(*labels: str) -> dict:
    """A build context for a test page, as the HTML build would write it: its exercises' numbers."""
    texts = {label: f"Exercise 1.{k}" for k, label in enumerate(labels, start=1)}
    return {
        "docname": "page",
        "number": "1",
        "labels": texts,
        "numbers": {label: text.split()[1] for label, text in texts.items()},
        "exercises": [
            {"label": label, "number": text.split()[1], "text": text, "title": ""}
            for label, text in texts.items()
        ],
    }
