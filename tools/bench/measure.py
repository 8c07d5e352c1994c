"""The bench's measurements.

Every comparison interleaves its servers round by round, so a burst of load from other
jobs hits both sides alike; figures are medians over rounds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tools.bench.procs import Server
from tools.bench.stats import median, percentile
from tools.wire import AsyncClient, EncryptedClient, PlainClient, Read, fetch_key_blocking

DETECTION: list[Read] = [("input", 4999, 1), ("input", 4989, 10)]


@dataclass
class Settings:
    """How much to measure."""

    rounds: int = 7
    scrapes: int = 20  # per round and server
    clients: int = 16
    reads_per_client: int = 100
    launches: int = 7
    # A fleet round reads for this long: at least one plant tick (tick_s, 1 s by default),
    # so every round pays the fleet's once-a-second step once, whatever its phase.
    fleet_round_s: float = 1.0


@dataclass
class Result:
    """Figures of one comparison: name -> seconds (or MiB), per side."""

    values: dict[str, dict[str, float]] = field(default_factory=dict)

    def put(self, side: str, name: str, value: float) -> None:
        """Record one figure."""
        self.values.setdefault(side, {})[name] = value


def scrape_mix(ranges: Sequence[Read]) -> list[Read]:
    """SunGather's scrape: the detection reads, then every range."""
    return [*DETECTION, *ranges]


def _time_scrapes(read: Callable[[Read], object], mix: list[Read], count: int) -> float:
    """Seconds per scrape over `count` scrapes."""
    start = time.perf_counter()
    for _ in range(count):
        for item in mix:
            read(item)
    return (time.perf_counter() - start) / count


def scrape(servers: list[Server], mix: list[Read], settings: Settings) -> dict[str, float]:
    """Median seconds per scrape of each server, one connection each."""
    clients = {s.name: PlainClient(s.port) for s in servers}
    per_round: dict[str, list[float]] = {s.name: [] for s in servers}
    try:
        for client in clients.values():
            _time_scrapes(client.read, mix, 3)  # warm-up
        for _ in range(settings.rounds):
            for name, client in clients.items():
                per_round[name].append(_time_scrapes(client.read, mix, settings.scrapes))
    finally:
        for client in clients.values():
            client.close()
    return {name: median(times) for name, times in per_round.items()}


async def _one_client(port: int, mix: list[Read], reads: int, offset: int) -> list[float]:
    client = await AsyncClient.connect(port)
    latencies = []
    try:
        for i in range(reads):
            item = mix[(i + offset) % len(mix)]
            start = time.perf_counter()
            await client.read(item)
            latencies.append(time.perf_counter() - start)
    finally:
        await client.close()
    return latencies


async def _concurrent_round(port: int, mix: list[Read], settings: Settings) -> list[float]:
    jobs = [
        _one_client(port, mix, settings.reads_per_client, offset)
        for offset in range(settings.clients)
    ]
    return [lat for lats in await asyncio.gather(*jobs) for lat in lats]


def concurrent(servers: list[Server], mix: list[Read], settings: Settings) -> Result:
    """p50 and p99 read latency with `settings.clients` clients reading at once."""
    per_round: dict[str, dict[str, list[float]]] = {
        s.name: {"p50": [], "p99": []} for s in servers
    }
    for _ in range(settings.rounds):
        for server in servers:
            lats = asyncio.run(_concurrent_round(server.port, mix, settings))
            per_round[server.name]["p50"].append(percentile(lats, 50))
            per_round[server.name]["p99"].append(percentile(lats, 99))
    result = Result()
    for name, figures in per_round.items():
        for key, values in figures.items():
            result.put(name, key, median(values))
    return result


def fleet(servers: dict[int, Server], mix: list[Read], settings: Settings) -> Result:
    """Per-read latency (mean and p99) when reads cycle over every hosted unit id.

    Each round reads whole scrapes for at least `settings.fleet_round_s`, a full plant
    tick: a shorter round (a few tens of milliseconds) either misses the fleet's tick or
    catches it, so its mean swings with the phase instead of measuring the fleet. The
    mean per read is that of the best round.
    """
    clients = {n: PlainClient(s.port) for n, s in servers.items()}
    lats: dict[int, list[float]] = {n: [] for n in servers}
    means: dict[int, list[float]] = {n: [] for n in servers}
    try:
        for n, client in clients.items():  # warm-up: every unit's first read and encoding
            for reads, item in enumerate(mix * n):
                client.read(item, unit=1 + reads % n)
        for _ in range(settings.rounds):
            for n, client in clients.items():
                start_round = time.perf_counter()
                reads = 0
                while time.perf_counter() - start_round < settings.fleet_round_s:
                    for item in mix:
                        start = time.perf_counter()
                        client.read(item, unit=1 + reads % n)
                        lats[n].append(time.perf_counter() - start)
                        reads += 1
                means[n].append((time.perf_counter() - start_round) / reads)
    finally:
        for client in clients.values():
            client.close()
    result = Result()
    for n in servers:
        # The best round: every round holds the fleet's own tick, so the minimum drops
        # only what other jobs on the machine added (they can only add).
        result.put(str(n), "mean", min(means[n]))
        result.put(str(n), "p99", percentile(lats[n], 99))
        result.put(str(n), "rss", servers[n].rss_mib())
    return result


def _encrypted_scrape_reader(port: int) -> tuple[EncryptedClient, Callable[[Read], bytes]]:
    client = EncryptedClient(port, fetch_key_blocking(port))
    return client, client.read_raw  # 12999/125 answers exception 3 in this mode, by design


async def _modes(server: Server, mix: list[Read], settings: Settings) -> dict[str, list[float]]:
    import aiohttp  # only the http mode needs it

    ports = server.ports
    plain = PlainClient(server.port)
    encrypted, read_encrypted = _encrypted_scrape_reader(server.port)
    times: dict[str, list[float]] = {"plain": [], "sungrow": [], "http": []}
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"http://127.0.0.1:{ports['ws_port']}/ws/home/overview")
        await ws.send_str(json.dumps({"lang": "en_us", "token": "", "service": "connect"}))
        token = json.loads((await ws.receive()).data)["result_data"]["token"]
        url = f"http://127.0.0.1:{ports['http_port']}/device/getParam"

        async def getparam(item: Read) -> None:
            table, address, count = item
            query = {
                "dev_id": "1", "type": "3", "param_addr": str(address + 1),
                "param_num": str(count), "param_type": "0" if table == "input" else "1",
                "token": token, "lang": "en_us",
            }  # fmt: skip
            async with session.get(url, params=query) as reply:
                body = await reply.json(content_type=None)
            value = body["result_data"].get("param_value", "")
            if body["result_code"] != 1 or len(value) != 6 * count:
                raise RuntimeError(f"getParam {item}: {body}")

        async def http_scrapes(count: int) -> float:
            start = time.perf_counter()
            for _ in range(count):
                for item in mix:
                    await getparam(item)
            return (time.perf_counter() - start) / count

        try:
            _time_scrapes(plain.read, mix, 3)
            _time_scrapes(read_encrypted, mix, 3)
            await http_scrapes(3)
            for _ in range(settings.rounds):
                times["plain"].append(_time_scrapes(plain.read, mix, settings.scrapes))
                times["sungrow"].append(_time_scrapes(read_encrypted, mix, settings.scrapes))
                times["http"].append(await http_scrapes(settings.scrapes))
        finally:
            plain.close()
            encrypted.close()
            await ws.close()
    return times


def modes(server: Server, mix: list[Read], settings: Settings) -> dict[str, float]:
    """Seconds per scrape over plain Modbus, encrypted Modbus and WiNet-S getParam."""
    times = asyncio.run(_modes(server, mix, settings))
    return {name: median(values) for name, values in times.items()}
