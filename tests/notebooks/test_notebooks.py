"""Both notebooks run top to bottom on small demo data, on the public API only, with the kernel
started in notebooks/ as Jupyter starts it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def test_notebooks_are_stored_without_outputs() -> None:
    assert [n.name for n in NOTEBOOKS] == ["01_retrain.ipynb", "02_explore.ipynb"]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.integration
def test_notebooks_retrain_then_explore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(tmp_path / "demo"))
    monkeypatch.setenv("LEADSCORE_DEMO_LEADS", "4000")
    monkeypatch.setenv("LEADSCORE_MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("LEADSCORE_MLFLOW_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    folder = NOTEBOOKS[0].parent
    before = sorted(p.name for p in folder.iterdir())
    # 01 registers under its own name; 02 then explores the champion 01 made.
    monkeypatch.setenv("LEADSCORE_MODEL_URI", "models:/lead-scoring-notebook@champion")
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(  # started where Jupyter starts it: in notebooks/
            notebook, timeout=300, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()  # fmt: skip
        errors = [
            output
            for cell in notebook.cells
            for output in cell.get("outputs", [])
            if output.get("output_type") == "error"
        ]
        assert errors == [], path.name
    assert (tmp_path / "retrain.toml").is_file()
    assert sorted(p.name for p in folder.iterdir()) == before  # no second dataset or store
