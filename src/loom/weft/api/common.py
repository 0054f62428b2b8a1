"""What every ``/api`` module shares: the router, the project runtime, strict bodies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from loom.runtime import Runtime
from loom.weft.deps import check_token, project_runtime

Rt = Annotated[Runtime, Depends(project_runtime)]


def api_router() -> APIRouter:
    """A router under ``/api`` that checks the bearer token on every route."""
    return APIRouter(prefix="/api", dependencies=[Depends(check_token)])


class Body(BaseModel):
    """A request body: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
