"""Agent identity: one stable guid per agent, agreed on by every Loom process of a session.

``LOOM_AGENT_ID`` set: the guid is derived from it and the project, so any process
(warp, pattern, a restarted session, another machine) with the same id is the same agent.
Unset: it is derived from host, project, working directory and handle (``LOOM_HANDLE``),
so ``warp`` and ``pattern`` started by the same client in the same directory agree.
"""

from __future__ import annotations

import getpass
import socket
import uuid
from dataclasses import dataclass

from loom.config import Settings

_NAMESPACE = uuid.UUID("6f1c1c2e-4b8a-5d0e-9a57-1d0c4f3b7a11")


def hostname() -> str:
    return socket.gethostname()


def username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Identity:
    guid: str
    project_id: str
    hostname: str
    explicit: bool  # True when it came from LOOM_AGENT_ID

    @classmethod
    def resolve(cls, settings: Settings) -> Identity:
        host = hostname()
        if settings.agent_id:
            seed = f"agent|{settings.project_id}|{settings.agent_id}"
        else:
            seed = f"session|{settings.project_id}|{host}|{settings.cwd}|{settings.handle or ''}"
        guid = str(uuid.uuid5(_NAMESPACE, seed))
        return cls(guid=guid, project_id=settings.project_id, hostname=host, explicit=bool(settings.agent_id))

    def personal_key(self, settings: Settings) -> str:
        """The cross-project identity used for ``personal`` memories."""
        seed = (
            f"personal|{settings.agent_id}" if settings.agent_id else f"personal|{self.hostname}|{username()}"
        )
        return str(uuid.uuid5(_NAMESPACE, seed))
