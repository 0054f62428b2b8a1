"""deploy/ tests reuse the end-to-end fixture that runs a real ``weft`` process."""

from tests.e2e.conftest import start_weft

__all__ = ["start_weft"]
