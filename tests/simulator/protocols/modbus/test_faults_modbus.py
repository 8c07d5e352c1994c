"""Each fault kind as a pymodbus 3 client (or a raw socket) sees it, and recovery after clear."""

from __future__ import annotations

import time

import pytest
from pymodbus.client import AsyncModbusTcpClient
from sungrow_sim.faults import FaultKind, FaultSpec
from sungrow_sim.protocols.modbus import framing

from tools import wire
from tools.wire import Session, fetch_key, mbap, read_pdu

READ_5031 = mbap(1, 1, read_pdu(4, 5030, 2))  # total active power (U32)


async def power(client: AsyncModbusTcpClient, unit: int = 1) -> int:
    response = await client.read_input_registers(5030, count=2, device_id=unit)
    assert not response.isError(), response
    return response.registers[0] + (response.registers[1] << 16)


async def exchange(port: int, frame: bytes, timeout: float = 1.0) -> bytes:
    """Send one frame; return what arrives before the peer closes or the timeout."""
    reply, _closed = await wire.exchange(port, frame, wait_s=timeout)
    return reply


@pytest.fixture
async def sg10rt(start_service, modbus_client):
    service = await start_service(inverters=[{"model": "SG10RT"}])
    service.sim.set_power(None, 4000)
    client = await modbus_client(service.ports["modbus_port"])
    return service, client


class FakeClock:
    """Drives fault expiry from the test instead of the wall clock."""

    def __init__(self, service) -> None:
        self.now = time.time()
        service.sim.faults._clock = lambda: self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def inject(service, kind: FaultKind, **options) -> None:
    service.sim.inject(FaultSpec(kind=kind, **options))


async def test_an_inverter_fault_shows_fault_state_code_and_zero_power_then_clears(sg10rt):
    service, client = sg10rt
    inject(service, "inverter-fault", code=38)
    state = await client.read_input_registers(5037, count=1, device_id=1)
    code = await client.read_input_registers(5044, count=1, device_id=1)
    assert state.registers == [0x5500]
    assert code.registers == [38]
    assert await power(client) == 0
    assert service.sim.state()["inverters"][0]["readings"]["work_state"] == "fault"
    service.sim.clear_faults()
    assert (await client.read_input_registers(5037, count=1, device_id=1)).registers == [0]
    assert await power(client) == 4000


async def test_grid_loss_trips_a_string_inverter_with_code_10_and_no_grid(sg10rt):
    service, client = sg10rt
    inject(service, "grid-loss")
    assert (await client.read_input_registers(5044, count=1, device_id=1)).registers == [10]
    assert (await client.read_input_registers(5035, count=1, device_id=1)).registers == [0]  # Hz
    assert await power(client) == 0


async def test_grid_loss_runs_a_hybrid_off_grid_with_zero_export(start_service, modbus_client):
    service = await start_service(inverters=[{"model": "SH10RT"}])
    client = await modbus_client(service.ports["modbus_port"])
    inject(service, "grid-loss")
    block = (await client.read_input_registers(12999, count=40, device_id=1)).registers
    assert block[0] == 0x1000  # system state: off-grid run
    assert block[30] == 0xAA  # grid state off-grid
    assert block[10:12] == [0, 0]  # export power
    service.sim.clear_faults("grid-loss")
    block = (await client.read_input_registers(12999, count=40, device_id=1)).registers
    assert block[30] == 0x55


async def test_night_standby_zeroes_pv_and_reports_standby(start_service, modbus_client):
    service = await start_service(inverters=[{"model": "SG10RT"}])
    client = await modbus_client(service.ports["modbus_port"])
    assert await power(client) > 0  # midsummer noon
    inject(service, "night-standby")
    assert (await client.read_input_registers(5037, count=1, device_id=1)).registers == [0x1400]
    assert await power(client) == 0


async def test_an_exception_fault_fails_only_its_range_with_the_chosen_code(sg10rt):
    service, client = sg10rt
    inject(service, "exception", code=4, start=5101, count=10)
    failing = await client.read_input_registers(5100, count=100, device_id=1)
    assert failing.isError() and failing.exception_code == 4
    assert await power(client) == 4000  # another range is untouched
    service.sim.clear_faults("exception")
    assert not (await client.read_input_registers(5100, count=100, device_id=1)).isError()


async def test_exception_probability_is_seeded_and_partial(sg10rt):
    service, client = sg10rt
    inject(service, "exception", probability=0.5)
    results = [
        (await client.read_input_registers(4999, count=1, device_id=1)).isError()
        for _ in range(60)
    ]
    assert 10 < sum(results) < 50


async def test_the_malformed_winet_exception_has_mbap_length_2(sg10rt):
    service, _ = sg10rt
    inject(service, "malformed-exception", code=2)
    reply = await exchange(service.ports["modbus_port"], READ_5031, timeout=0.5)
    assert reply == bytes.fromhex("0001 0000 0002 01 84 02")


async def test_no_reply_times_the_client_out_until_cleared(sg10rt, modbus_client):
    service, _ = sg10rt
    inject(service, "no-reply")
    assert await exchange(service.ports["modbus_port"], READ_5031, timeout=0.5) == b""
    service.sim.clear_faults()
    client = await modbus_client(service.ports["modbus_port"])
    assert await power(client) == 4000


async def test_slow_reply_delays_the_answer(sg10rt):
    service, client = sg10rt
    inject(service, "slow-reply", delay_s=0.6)
    started = time.monotonic()
    assert await power(client) == 4000
    assert time.monotonic() - started >= 0.55


async def test_drop_connection_closes_instead_of_answering(sg10rt):
    service, _ = sg10rt
    inject(service, "drop-connection")
    assert await exchange(service.ports["modbus_port"], READ_5031) == b""


async def test_refused_connections_are_closed_at_once_and_recover(sg10rt, modbus_client):
    service, _ = sg10rt
    clock = FakeClock(service)
    inject(service, "refuse-connections", duration_s=5)
    assert await wire.exchange(service.ports["modbus_port"], b"", wait_s=2) == (b"", True)
    clock.advance(5)
    client = await modbus_client(service.ports["modbus_port"])
    assert await power(client) == 4000


async def test_corrupt_and_short_replies_break_the_frame(sg10rt):
    service, _ = sg10rt
    inject(service, "corrupt-reply")
    corrupt = await exchange(service.ports["modbus_port"], READ_5031, timeout=0.5)
    assert corrupt[:8] == bytes.fromhex("0001 0000 0007 01 04") and corrupt[8] != 4
    service.sim.clear_faults()
    inject(service, "short-reply")
    short = await exchange(service.ports["modbus_port"], READ_5031, timeout=0.5)
    assert 0 < len(short) < 13


async def test_stale_values_freeze_readings_until_cleared(sg10rt):
    service, client = sg10rt
    inject(service, "stale-values")
    service.sim.set_power(None, 1000)
    assert await power(client) == 4000
    service.sim.clear_faults()
    assert await power(client) == 1000


async def test_a_session_limit_closes_connections_beyond_it(sg10rt, modbus_client):
    service, client = sg10rt
    inject(service, "session-limit", max_sessions=1)
    assert await wire.exchange(service.ports["modbus_port"], b"", wait_s=2) == (b"", True)
    assert await power(client) == 4000  # the session already open keeps working


async def test_a_fault_with_a_duration_clears_itself(sg10rt):
    service, client = sg10rt
    clock = FakeClock(service)
    inject(service, "inverter-fault", duration_s=30)
    assert await power(client) == 0
    clock.advance(29)
    service.sim.tick()
    assert await power(client) == 0
    clock.advance(1)
    service.sim.tick()
    assert await power(client) == 4000
    assert service.sim.faults.active() == []


async def test_scope_limits_a_fault_to_its_protocol(sg10rt):
    service, client = sg10rt
    inject(service, "no-reply", scope="sungrow")
    assert await power(client) == 4000  # plain Modbus is not affected
    session = Session(_public_key(service))
    reply = await exchange(service.ports["modbus_port"], session.encrypt(READ_5031), timeout=0.5)
    assert reply == b""


def _public_key(service) -> bytes:
    cfg = service.config
    return framing.public_key_for(f"{cfg.seed}:{cfg.inverters[0].serial}")


async def test_encrypted_reads_round_trip_and_a_125_register_read_gets_exception_3(start_service):
    service = await start_service(inverters=[{"model": "SH10RT"}])
    port = service.ports["modbus_port"]
    key = await fetch_key(port)
    assert key == _public_key(service)
    session = Session(key)
    request = mbap(9, 1, read_pdu(4, 12999, 123))
    [adu] = session.decrypt(await exchange(port, session.encrypt(request), timeout=0.3))
    assert adu[7:9] == bytes([4, 246]) and len(adu) == 9 + 246
    too_long = mbap(9, 1, read_pdu(4, 12999, 125))
    [adu] = session.decrypt(await exchange(port, session.encrypt(too_long), timeout=0.3))
    assert adu == bytes.fromhex("6868 0000 0003 01 84 03")
