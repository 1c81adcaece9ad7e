"""What model is serving, and how it did on its holdout."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from serving.auth import require
from serving.deps import ModelDep
from serving.schemas import ModelInfo

router = APIRouter(prefix="/v1", tags=["model"], dependencies=[Depends(require("score"))])


@router.get("/model", response_model=ModelInfo)
def model_info(model: ModelDep, request: Request) -> ModelInfo:
    """Name, version, training time, holdout metrics, thresholds and features of the model."""
    scorer = model.scorer
    metadata = scorer.metadata
    state = request.app.state
    return ModelInfo(
        serving_version=model.version,
        registry_champion=state.registry_champion,
        load_error=state.load_error,
        name=model.name,
        version=model.version,
        uri=model.uri,
        trained_at=metadata.get("trained_at"),
        metrics=metadata.get("metrics", {}),
        thresholds={
            k: v
            for k, v in scorer.policy.to_dict().items()
            if isinstance(v, int) and not isinstance(v, bool)
        },
        icp_rules=[str(rule) for rule in scorer.policy.icp],
        exclusions=[str(rule) for rule in scorer.policy.exclusions],
        policy_hash=metadata.get("policy", {}).get("hash"),
        policy_origin=metadata.get("policy", {}).get("origin"),
        state=scorer.state,
        attribution=scorer.attribution,
        segment_by=scorer.segment_by,
        segments=metadata.get("segments", {}),
        splits=metadata.get("splits", {}),
        features=[
            {"name": f.name, "group": f.group, "kind": f.kind, "description": f.description}
            for f in scorer.feature_set
        ],
    )
