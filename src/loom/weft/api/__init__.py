"""The ``/api`` routes: thin adapters over the services, one module per resource."""

from fastapi import APIRouter

from loom.weft.api import agents, channels, targets, work

router = APIRouter()
for module in (agents, work, targets, channels):
    router.include_router(module.router)
