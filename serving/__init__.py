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
    from serving.predlog import PredictionLog, event_row, log_tables, read_log
    from serving.privacy import LeadKey
    from serving.routes.performance import measure_performance
    from serving.schemas import EXAMPLE_LEAD
    from serving.server import check_port, run

# Each public name and the module that defines it: imported on first use.
_EXPORTS = {
    "EXAMPLE_LEAD": "serving.schemas",
    "LeadKey": "serving.privacy",
    "LoadedModel": "serving.loading",
    "PredictionLog": "serving.predlog",
    "check_port": "serving.server",
    "create_app": "serving.app",
    "event_row": "serving.predlog",
    "load_model": "serving.loading",
    "log_tables": "serving.predlog",
    "measure_performance": "serving.routes.performance",
    "read_log": "serving.predlog",
    "report_link_signature": "serving.auth",
    "run": "serving.server",
}
__all__ = [
    "EXAMPLE_LEAD",
    "LeadKey",
    "LoadedModel",
    "PredictionLog",
    "check_port",
    "create_app",
    "event_row",
    "load_model",
    "log_tables",
    "measure_performance",
    "read_log",
    "report_link_signature",
    "run",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
