"""A real paperex server (wall clock, ephemeral 127.0.0.1 port) for the fault-injection tests."""
from live_server import server, session  # noqa: F401 - the fixtures
