"""Serving: the FastAPI app (routes, schemas, errors, API keys, the prediction log) and loading
the registered model it serves. It builds on `features` and `scoring` and never imports
`training`. Names load on first use, so loading a model does not import the web stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serving.app import create_app
    from serving.auth import report_link_signature
    from serving.loading import LoadedModel, load_model
    from serving.schemas import EXAMPLE_LEAD
    from serving.server import check_port, run

# Each public name and the module that defines it: imported on first use.
_EXPORTS = {
    "EXAMPLE_LEAD": "serving.schemas",
    "LoadedModel": "serving.loading",
    "check_port": "serving.server",
    "create_app": "serving.app",
    "load_model": "serving.loading",
    "report_link_signature": "serving.auth",
    "run": "serving.server",
}
__all__ = [
    "EXAMPLE_LEAD",
    "LoadedModel",
    "check_port",
    "create_app",
    "load_model",
    "report_link_signature",
    "run",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
