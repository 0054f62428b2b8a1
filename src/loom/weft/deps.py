"""Request dependencies: the bearer token and the project of a request."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Header, HTTPException, Query, Request

from loom.runtime import Runtime
from loom.weft.projects import Projects


def check_token(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    tokens: frozenset[str] = request.app.state.tokens
    if not tokens:
        return
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not given or not any(hmac.compare_digest(given, token) for token in tokens):
        raise HTTPException(401, "a valid bearer token is required (Authorization: Bearer <LOOM_API_TOKEN>)")


async def project_runtime(
    request: Request,
    project: Annotated[str | None, Query()] = None,
    x_loom_project: Annotated[str | None, Header()] = None,
) -> Runtime:
    projects: Projects = request.app.state.projects
    return await projects.get(project or x_loom_project)
