"""The aiohttp TCP site of every HTTP listener, with the connection limits applied."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from sungrow_sim.protocols.limits import GuardedProtocol, Listener


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through a `Listener` and `GuardedProtocol`."""

    __slots__ = ("_host", "_listener", "_port", "_reuse_address")

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        listener: Listener,
        *,
        reuse_address: bool = True,
        backlog: int = 512,
        **kwargs: Any,
    ) -> None:
        super().__init__(runner, backlog=backlog, **kwargs)
        self._host = host
        self._port = port
        self._listener = listener
        self._reuse_address = reuse_address

    @property
    def name(self) -> str:  # noqa: D102
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:  # noqa: D102
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        listener = self._listener
        self._server = await loop.create_server(
            lambda: GuardedProtocol(server(), listener),  # type: ignore[arg-type]
            self._host,
            self._port,
            reuse_address=self._reuse_address,
            backlog=self._backlog,
        )
