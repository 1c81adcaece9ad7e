"""The online engine stays light: importing it loads no pandas, numpy or model library."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_online_engine_imports_no_heavy_library() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import features.online"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "features" in imported  # the report really lists our modules
    heavy = {"pandas", "numpy", "lightgbm", "mlflow", "sklearn", "scipy", "pyarrow"}
    assert imported.isdisjoint(heavy), sorted(imported & heavy)
