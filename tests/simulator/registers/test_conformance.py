"""Conformance with a real SH8.0RT-20: read what its dumps hold, with pymodbus 3 over TCP.

The oracle is the real unit (the dumps in ../shared/reference/sungrow-device, see their
SOURCE.md), never the simulator's own register map. Each dump's system is a master
SH8.0RT-20 with a 16 kWh battery and a meter, plus a slave without battery; the simulator
runs one SH8.0RT-20 with a 16 kWh battery, started at the dump's own time.

`rawWords` merges both tables where their addresses overlap (5000-5008, 5036-5040,
13000-13100): there only the typed `values[]` entries say which table a word belongs to.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def _device_dir() -> Path | None:
    env = os.environ.get("SUNGROW_DEVICE_DUMPS")
    candidates = [Path(env)] if env else []
    # Beside the checkout (/work/main -> /work/shared) or beside a worktree folder.
    candidates += [p / "shared" / "reference" / "sungrow-device" for p in ROOT.parents[:2]]
    return next((p for p in candidates if (p / "nachts.json").is_file()), None)


DEVICE = _device_dir()


@pytest.fixture(autouse=True)
def _dumps_present() -> None:
    """The real unit's dumps are the oracle: without them this test fails, never skips."""
    if DEVICE is None:
        pytest.fail(
            "the real unit's dumps (shared/reference/sungrow-device) are absent: put shared/ "
            "beside the checkout or set SUNGROW_DEVICE_DUMPS"
        )


DUMPS = ("nachts.json", "morning.json", "afternoon.json")
FIXTURES = (
    "sh8rt20-master-daytime.yaml",
    "sh8rt20-master-night.yaml",
    "sh8rt20-standalone.yaml",
)
OVERLAP = (range(5000, 5009), range(5036, 5041), range(13000, 13101))

# Documented value sets (Sungrow's hybrid protocol V1.1.11, written out here by hand).
SWITCH = {0xAA, 0x55}
RUNNING_STATES = {
    0x0000, 0x0040, 0x0014, 0x0400, 0x0800, 0x1000, 0x2000, 0x4000, 0x4001, 0x1111,
    0x8000, 0x0001, 0x1300, 0x0002, 0x1500, 0x0004, 0x1400, 0x0008, 0x1200, 0x0010,
    0x1600, 0x0020, 0x1800, 0x9100, 0x8100, 0x0080, 0x8200, 0x5500, 0x0100, 0x1700,
    0x1900, 0x0041, 0x0200, 0x2500, 0x2501,
}  # fmt: skip
ENUMERATIONS: dict[tuple[str, int], set[int]] = {
    ("input", 5002): {0, 1, 2},
    ("input", 13000): RUNNING_STATES,
    ("holding", 5006): {0xCF, 0xCE},
    ("holding", 13000): {0xCF, 0xCE},
    ("holding", 5007): SWITCH,
    ("holding", 5036): {0x55, 0xA1, 0xA2, 0xA3, 0xA4},
    ("holding", 13001): {0, 1, 2, 3},
    ("holding", 13002): {0, 1, 2, 3},
    ("holding", 13011): SWITCH,
    ("holding", 13050): {0, 2, 3, 4},
    ("holding", 13051): {0xAA, 0xBB, 0xCC},
    ("holding", 13075): SWITCH,
    ("holding", 13086): SWITCH,
    ("holding", 13087): SWITCH,
    ("holding", 13089): SWITCH,
    ("holding", 31204): SWITCH,
    ("holding", 33179): SWITCH,
    ("holding", 33208): SWITCH,
    ("holding", 33209): {0, 1},
    ("holding", 33500): SWITCH,
    ("holding", 33501): {0xA0, 0xA1},
}
POWER_FLOW_BITS = 0b1011_1111  # bits 0-5 and 7 are documented for input 13001

# Configuration constants a lone SH8.0RT-20 with a 16 kWh battery and a meter shares with
# the dumped master: (table, documented address, number of words).
MASTER_CONSTANTS = [
    ("input", 4950, 4),  # protocol number and version
    ("input", 5000, 1),  # device type code
    ("input", 5001, 1),  # nominal power
    ("input", 5002, 1),  # output type
    ("input", 5622, 1),  # min. feed-in limitation value
    ("input", 5628, 1),  # BDC rated power
    ("input", 5636, 1),  # max. discharging current (BMS)
    ("input", 5639, 1),  # battery capacity, 0.01 kWh
    ("input", 13039, 1),  # battery capacity, 0.1 kWh
    ("holding", 5006, 1),  # start/stop
    ("holding", 5007, 1),  # power limitation switch
    ("holding", 5008, 1),  # power limitation setting
    ("holding", 5036, 1),  # reactive power adjustment mode
    ("holding", 13000, 1),  # start/stop
    ("holding", 13001, 1),  # DO configuration
    ("holding", 13002, 1),  # load control mode
    ("holding", 13011, 1),  # load on/off
    ("holding", 13050, 1),  # EMS mode
    ("holding", 13051, 1),  # charge/discharge command
    ("holding", 13058, 1),  # max. SOC
    ("holding", 13059, 1),  # min. SOC
    ("holding", 13075, 1),  # off-grid option
    ("holding", 13086, 1),  # meter communication detection
    ("holding", 13087, 1),  # feed-in limitation switch
    ("holding", 13088, 1),  # feed-in limitation ratio
    ("holding", 13089, 1),  # active power limitation switch
    ("holding", 13090, 1),  # active power limit ratio
    ("holding", 13100, 1),  # reserved SOC for backup
    ("holding", 31204, 2),  # active power limitation (second block)
    ("holding", 31213, 1),
    ("holding", 33047, 2),  # max. charging / discharging power
    ("holding", 33148, 1),
    ("holding", 33208, 2),  # forced charging switch and valid time
    ("holding", 33274, 1),
]
# Limits that scale with the system: the slave is a lone SH8.0RT-20's own rating.
SLAVE_CONSTANTS = [
    ("input", 5623, 1),  # max. feed-in limitation value
    ("holding", 13074, 1),  # feed-in limitation value
    ("holding", 31222, 1),  # feed-in limitation value, wide range
]


def _in_overlap(address: int) -> bool:
    return any(address in r for r in OVERLAP)


def _table(kind: str) -> str:
    return "input" if kind == "read" else "holding"


def _words(raw: Any) -> list[int]:
    if isinstance(raw, list):
        return [w & 0xFFFF for w in raw]
    if -0x8000 <= raw <= 0xFFFF:
        return [raw & 0xFFFF]
    raw &= 0xFFFFFFFF
    return [raw & 0xFFFF, raw >> 16]


def typed_words(unit: dict) -> dict[tuple[str, int], int]:
    """Words whose table is known: rawWords outside the overlaps, values[] everywhere."""
    words: dict[tuple[str, int], int] = {}
    for key, word in unit["rawWords"].items():
        address = int(key)
        if not _in_overlap(address):
            # SOURCE.md: the blocks from 31204 on are holding registers, the rest input.
            words[("holding" if address >= 31000 else "input", address)] = word
    for value in unit["values"]:
        if value["address"] and _in_overlap(value["address"]):
            for offset, word in enumerate(_words(value["raw"])):
                words.setdefault((_table(value["type"]), value["address"] + offset), word)
    return words


def spans(addresses: set[int]) -> list[tuple[int, int]]:
    """Contiguous runs of documented addresses as (start, count) reads of at most 100."""
    runs: list[list[int]] = []
    for address in sorted(addresses):
        if runs and address == runs[-1][0] + runs[-1][1] and runs[-1][1] < 100:
            runs[-1][1] += 1
        else:
            runs.append([address, 1])
    return [(start, count) for start, count in runs]


def load(name: str) -> dict:
    assert DEVICE is not None
    return json.loads((DEVICE / name).read_text())


async def read(client, table: str, address: int, count: int):
    call = client.read_input_registers if table == "input" else client.read_holding_registers
    return await call(address - 1, count=count, device_id=1)


@pytest.fixture
async def unit(start_service, modbus_client, request):
    """A simulated SH8.0RT-20 with the dumped battery, at the dump's time and place."""
    dump = load(request.param)
    service = await start_service(
        inverters=[{"model": "SH8.0RT-20", "serial": "SIMCONF001", "battery_kwh": 16.0}],
        start_time=dump["timestamp"],
        timezone="Europe/Berlin",
    )
    client = await modbus_client(service.ports["modbus_port"])
    return dump, client


async def answered(client, tables: tuple[str, ...], address: int, count: int) -> bool:
    """Whether at least one of the tables answers the read with data."""
    for table in tables:
        if not (await read(client, table, address, count)).isError():
            return True
    return False


async def served(client, table: str, address: int, count: int) -> list[int]:
    response = await read(client, table, address, count)
    assert not response.isError(), (table, address, count, response)
    return response.registers


@pytest.mark.parametrize("unit", DUMPS, indirect=True)
async def test_every_address_the_real_unit_answered_is_answered(unit):
    dump, client = unit
    failures = []
    for device in (dump, *dump["slaveDetails"]):
        words = typed_words(device)
        for table in ("input", "holding"):
            for start, count in spans({a for t, a in words if t == table}):
                response = await read(client, table, start, count)
                if response.isError():
                    failures.append((table, start, count, response.exception_code))
        # Overlapping addresses rawWords holds without a typed entry: one table answers.
        for key in device["rawWords"]:
            address = int(key)
            if _in_overlap(address) and not any(
                (t, address) in words for t in ("input", "holding")
            ):
                if not await answered(client, ("input", "holding"), address, 1):
                    failures.append(("either", address, 1, None))
    assert failures == []


@pytest.mark.parametrize("unit", DUMPS, indirect=True)
async def test_configuration_constants_equal_the_real_units(unit):
    dump, client = unit
    master, slave = typed_words(dump), typed_words(dump["slaveDetails"][0])
    mismatches = []
    for words, constants in ((master, MASTER_CONSTANTS), (slave, SLAVE_CONSTANTS)):
        for table, address, count in constants:
            expected = [words[(table, address + i)] for i in range(count)]
            got = await served(client, table, address, count)
            if got != expected:
                mismatches.append((table, address, got, expected))
    # The BMS charge current limit is the pack's while neither battery is nearly full.
    soc = (await served(client, "input", 13023, 1))[0] / 10
    if soc < 90 and master[("input", 13023)] / 10 < 90:
        got = await served(client, "input", 5635, 1)
        if got != [master[("input", 5635)]]:
            mismatches.append(("input", 5635, got, [master[("input", 5635)]]))
    assert mismatches == []


def sentinel_words(dumps: list[dict]) -> dict[tuple[str, int], int]:
    """Words that read 0xFFFF or 0x7FFF in every dump, except high words of negatives."""
    maps = [typed_words(d) for d in dumps]
    high_words = {
        (_table(value["type"]), value["address"] + 1)
        for dump in dumps
        for value in dump["values"]
        if isinstance(value["raw"], int) and (value["raw"] < -1 or value["raw"] > 0xFFFF)
    }
    return {
        key: word
        for key, word in maps[0].items()
        if word in (0xFFFF, 0x7FFF)
        and key not in high_words
        and all(m.get(key) == word for m in maps[1:])
    }


async def test_sentinels_where_the_real_unit_shows_them(start_service, modbus_client):
    dumps = [load(name) for name in DUMPS]
    sentinels = sentinel_words(dumps)
    assert ("holding", 33042) in sentinels  # the dumps' own not-applicable register
    service = await start_service(
        inverters=[{"model": "SH8.0RT-20", "battery_kwh": 16.0}],
        start_time=dumps[0]["timestamp"],
        timezone="Europe/Berlin",
    )
    client = await modbus_client(service.ports["modbus_port"])
    wrong = []
    for (table, address), word in sorted(sentinels.items()):
        got = await served(client, table, address, 1)
        if got != [word]:
            wrong.append((table, address, got, word))
    assert wrong == []


@pytest.mark.parametrize("unit", DUMPS, indirect=True)
async def test_enumerations_hold_documented_values(unit):
    dump, client = unit
    master = typed_words(dump)
    outside = []
    for (table, address), allowed in ENUMERATIONS.items():
        real = master.get((table, address))
        assert real is None or real in allowed, (table, address, real)  # the set is right
        value = (await served(client, table, address, 1))[0]
        if value not in allowed:
            outside.append((table, address, hex(value)))
    flow = (await served(client, "input", 13001, 1))[0]
    assert flow & ~POWER_FLOW_BITS == 0, hex(flow)
    assert master[("input", 13001)] & ~POWER_FLOW_BITS == 0
    assert outside == []


@pytest.mark.parametrize("unit", DUMPS, indirect=True)
async def test_text_registers_decode_as_text(unit):
    dump, client = unit
    texts = [v for v in dump["values"] if isinstance(v["raw"], list)]
    assert len(texts) >= 8
    for value in texts:
        words = await served(client, _table(value["type"]), value["address"], len(value["raw"]))
        text = b"".join(w.to_bytes(2, "big") for w in words).rstrip(b"\0").decode("utf-8")
        assert text, value["name"]
        assert text.isprintable() and "\0" not in text, (value["name"], text)


def fixture_reads(doc: dict) -> list[tuple[str, int, int]]:
    reads = []
    for table in ("input", "holding"):
        for address, value in (doc.get(table) or {}).items():
            if isinstance(value, dict):
                count = (len(value["utf8"].encode()) + 1) // 2
            elif isinstance(value, list):
                count = len(value)
            else:
                count = 1
            reads.append((table, int(address), count))
    return reads


@pytest.mark.parametrize("name", FIXTURES)
async def test_conformance_fixtures_are_answered(start_service, modbus_client, name):
    assert DEVICE is not None
    doc = yaml.safe_load((DEVICE / name).read_text())
    assert doc["model_code"] == 0xE12
    service = await start_service(
        inverters=[{"model": "SH8.0RT-20", "battery_kwh": 16.0}], timezone="Europe/Berlin"
    )
    client = await modbus_client(service.ports["modbus_port"])
    unanswered = []
    for table, address, count in fixture_reads(doc):
        tables = ("input", "holding") if _in_overlap(address) else (table,)
        if not await answered(client, tables, address, count):
            unanswered.append((table, address, count))
    assert unanswered == []
    text = await served(client, "input", 4990, 10)
    assert b"".join(w.to_bytes(2, "big") for w in text).rstrip(b"\0").decode() == "SIM0000001"
