"""The loaded model and what scoring needs, from the app's state.

`ModelDep` is `async def`: it only reads app state, and a sync dependency would cost a thread
hop. The scoring routes build `Scoring` themselves (see `routes/score.py`).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, Request

from scoring import Settings
from serving.accounts import Accounts
from serving.drift import DriftWatch
from serving.errors import ModelUnavailable
from serving.loading import LoadedModel
from serving.observe import Metrics
from serving.predlog import PredictionLog
from serving.privacy import LeadKey


def loaded_model(request: Request) -> LoadedModel:
    """The serving model, or a 503 that says how to get one."""
    model: LoadedModel | None = request.app.state.model
    if model is None:
        reason = request.app.state.load_error or "no model loaded"
        raise ModelUnavailable(
            f"expected a model at {request.app.state.settings.model_uri}, got none ({reason}); "
            "the server keeps trying; without a model yet, train one with `leadscore train` "
            "(or run `make demo`)"
        )
    return model


async def get_model(request: Request) -> LoadedModel:
    return loaded_model(request)


@dataclass(frozen=True)
class Scoring:
    """What a scoring route needs from the app's state."""

    model: LoadedModel
    settings: Settings
    metrics: Metrics
    prediction_log: PredictionLog | None
    batch_slot: anyio.CapacityLimiter
    lead_key: LeadKey
    drift: DriftWatch
    accounts: Accounts

    def in_control(self, lead_key: str | None) -> bool:
        """Whether a lead is in the random control group: drawn from a hash of its id, so the
        same lead stays in or out however often it is scored; a lead without an id is drawn
        anew."""
        share = self.settings.control_share
        if lead_key is None:
            return random.random() < share
        digest = hashlib.blake2b(lead_key.encode(), digest_size=8, key=b"control").digest()
        return int.from_bytes(digest) < share * 2**64

    @classmethod
    def of(cls, request: Request) -> Scoring:
        state = request.app.state
        return cls(
            loaded_model(request),
            state.settings,
            state.metrics,
            state.prediction_log,
            state.batch_slot,
            state.lead_key,
            state.drift,
            state.accounts,
        )


ModelDep = Annotated[LoadedModel, Depends(get_model)]
