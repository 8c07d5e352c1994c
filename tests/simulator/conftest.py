"""Fixtures: an in-process simulator service on OS-assigned ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient
from sungrow_sim.config import ServeConfig
from sungrow_sim.service import Service

ServiceFactory = Callable[..., Awaitable[Service]]


@pytest.fixture
async def start_service() -> AsyncIterator[ServiceFactory]:
    """Start services in this test's event loop; all stop at teardown."""
    started: list[Service] = []

    async def start(**settings: Any) -> Service:
        settings.setdefault("protocols", ["modbus", "sungrow"])
        settings.setdefault("start_time", "2026-06-21T12:00:00")
        for key in ("modbus_port", "ws_port", "http_port", "control_port"):
            settings.setdefault(key, 0)
        service = Service(ServeConfig.model_validate(settings))
        await service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        await service.stop()


@pytest.fixture
async def modbus_client() -> AsyncIterator[Callable[[int], Awaitable[AsyncModbusTcpClient]]]:
    """Connected pymodbus 3 clients; closed at teardown."""
    clients: list[AsyncModbusTcpClient] = []

    async def connect(port: int) -> AsyncModbusTcpClient:
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
        assert await client.connect()
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()
