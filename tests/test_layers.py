"""The house's rules that import-linter does not check: packages meet only through their
`__init__`, and the notebooks use the public API."""

from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ("features", "scoring", "training", "serving", "leadscore")


def _imports(source: str) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
    return modules


def _reaches_in(module: str, own: str | None) -> bool:
    package, _, rest = module.partition(".")
    return package in PACKAGES and package != own and bool(rest)


def test_packages_use_each_other_only_through_their_public_names() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += [
                f"{path.relative_to(ROOT)}: {module}"
                for module in _imports(path.read_text())
                if _reaches_in(module, package)
            ]
    assert found == []


def test_each_package_lists_its_public_names_and_says_what_belongs_there() -> None:
    for package in PACKAGES:
        init = ROOT / package / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert 2 <= len(docstring.splitlines()) <= 5, package
        if package != "leadscore":
            assert "__all__" in init.read_text(), package


def test_notebooks_use_the_public_api_only() -> None:
    found = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        found += [f"{path.name}: {m}" for m in _imports(code) if _reaches_in(m, None)]
    assert found == []
