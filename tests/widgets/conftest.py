"""Widgets tests reuse the loopback servers and the pyepics client of the integration tests."""

from ..integration.conftest import _session_teardown, prefix, pyepics  # noqa: F401
