"""Browser tests reuse the pyepics client of the integration tests."""

from ..integration.conftest import pyepics  # noqa: F401
