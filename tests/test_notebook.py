"""The notebook lesson runs top to bottom, as a student would run it, and is kept clean.

nbclient runs ``notebooks/lesson.ipynb`` in a kernel of this environment's Python (ipykernel is a
development dependency; no kernel needs to be installed), in the notebook's own folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "lesson.ipynb"


@pytest.fixture(scope="module")
def notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def test_the_notebook_is_committed_without_outputs(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_the_notebook_has_four_to_six_exercises_each_with_something_to_change(notebook):
    headings = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"
                and re.match(r"## Exercise \d", cell.source)]
    assert 4 <= len(headings) <= 6
    assert all("**Question.**" in heading for heading in headings)
    edits = [cell for cell in notebook.cells
             if cell.cell_type == "code" and "# <- change me" in cell.source]
    assert len(edits) >= len(headings) - 1


def test_the_notebook_runs_top_to_bottom(notebook):
    executed = nbformat.from_dict(notebook)
    NotebookClient(executed, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    code_cells = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert all(cell.outputs for cell in code_cells[:1] + code_cells[2:]), \
        "an exercise cell showed nothing"
    errors = [output for cell in code_cells for output in cell.outputs
              if output.output_type == "error"]
    assert not errors
