"""The student edition: every exercise solution is removed from the pages.

Loaded only by the student edition's configuration (``make student``, written by
``tools/student_config.py``). sphinx-exercise's own ``hide_solutions`` drops plain ``{solution}``
directives but leaves the body of gated ``{solution-start}`` ... ``{solution-end}`` solutions (and
then fails on the orphaned end marker), so this transform runs after sphinx-exercise has merged
gated solutions into ordinary solution nodes, and removes them all.
"""

from __future__ import annotations

from typing import Any

from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node


class RemoveSolutions(SphinxTransform):
    default_priority = 20  # after sphinx-exercise's MergeGatedSolutions (10)

    def apply(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(solution_node)):
            node.parent.remove(node)


def setup(app: Any) -> dict[str, Any]:
    app.add_transform(RemoveSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
