"""Argument types shared by tool models: names validated and lower-cased at the edge."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from loom.names import validate_name


def _name(field: str) -> AfterValidator:
    return AfterValidator(lambda value: validate_name(value, field))


Name = Annotated[str, _name("name")]
Handle = Annotated[str, _name("handle")]
ChannelName = Annotated[str, _name("channel")]
Capability = Annotated[str, _name("capability")]
Boundary = Annotated[str, _name("boundary")]
