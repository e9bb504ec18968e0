"""Author-year citations in round brackets: "Monette (2017)" and "(Monette, 2017)".

sphinxcontrib-bibtex's ``author_year`` style uses square brackets ("Monette [2017]"). This registers
``author_year_round``, the same style with parentheses, selected in ``_config.yml`` by
``bibtex_reference_style: author_year_round``. The notebooks show citations with the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sphinxcontrib.bibtex.plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclass
class RoundAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)


def setup(app: Any) -> dict[str, Any]:
    sphinxcontrib.bibtex.plugin.register_plugin(
        "sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYearReferenceStyle
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
