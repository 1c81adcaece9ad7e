"""Serving: the FastAPI app, its settings, and loading registered models.

Names load on first use, so loading a model does not import the web stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serving.app import create_app
    from serving.loading import LoadedModel, load_model
    from serving.settings import Settings

# Each public name and the module that defines it: imported on first use.
_EXPORTS = {
    "LoadedModel": "serving.loading",
    "Settings": "serving.settings",
    "create_app": "serving.app",
    "load_model": "serving.loading",
}
__all__ = [
    "LoadedModel",
    "Settings",
    "create_app",
    "load_model",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
