"""Serving: the FastAPI app, its settings, and loading registered models."""

from serving.app import create_app
from serving.loading import LoadedModel, load_model
from serving.settings import Settings

__all__ = ["LoadedModel", "Settings", "create_app", "load_model"]
