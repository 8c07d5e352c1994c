"""SungrowModbusTcpClient (encrypted) and SungrowModbusWebClient (WiNet-S) judged by plain Modbus.

The plant is pinned (power, load, battery), so the registers do not move between reads;
what the real encrypted client and the real WiNet-S client decode must then be exactly
what a pymodbus 3 client reads over plain Modbus TCP from the same simulator. The clock
registers are left out (they tick); everything else in the blocks must match word for
word. Neither side uses the simulator's cipher or `ctl state`.
"""

import pytest
from clients import run_driver
from pymodbus.client import ModbusTcpClient

BLOCKS = {
    "SH10RT": [(4, 12999, 100), (4, 4999, 100), (3, 12999, 100)],
    "SG10RT": [(4, 4999, 100), (4, 5099, 100), (3, 5005, 3)],
}


def plain(sim, fc: int, address: int, count: int) -> list[int]:
    client = ModbusTcpClient(sim.host, port=sim.ports["modbus_port"], timeout=5, retries=0)
    assert client.connect()
    try:
        call = client.read_input_registers if fc == 4 else client.read_holding_registers
        response = call(address, count=count, device_id=1)
        assert not response.isError(), response
        return list(response.registers)
    finally:
        client.close()


def stable(block: list[int], fc: int, address: int) -> list[int]:
    """The block without registers that move on their own (clock, running time)."""
    moving = set(range(4999, 5005)) if fc == 3 else {5112}  # clock; daily running time
    return [w for i, w in enumerate(block) if address + i not in moving]


@pytest.mark.parametrize("client", ["tcp", "web"])
@pytest.mark.parametrize("model", list(BLOCKS))
def test_the_sungrow_clients_decode_what_plain_modbus_reads(simulator, model, client):
    """tcp: SungrowModbusTcpClient (encrypted); web: SungrowModbusWebClient (WiNet-S)."""
    sim = simulator(model, http=client == "web")
    port = sim.ports["ws_port" if client == "web" else "modbus_port"]
    reads = [{"fc": fc, "address": a, "count": c} for fc, a, c in BLOCKS[model]]
    before = [plain(sim, fc, a, c) for fc, a, c in BLOCKS[model]]
    result = run_driver(
        "sungather", "sungrow_direct.py",
        {"client": client, "host": sim.host, "port": port, "unit": 1, "reads": reads},
    )  # fmt: skip
    after = [plain(sim, fc, a, c) for fc, a, c in BLOCKS[model]]
    for (fc, address, _), got, b, a in zip(
        BLOCKS[model], result["reads"], before, after, strict=True
    ):
        assert "registers" in got, got
        encrypted = stable(got["registers"], fc, address)
        assert encrypted in (stable(b, fc, address), stable(a, fc, address)), (fc, address)
