"""A bare pymodbus 3.16 Modbus TCP server with static register blocks: the floor to beat.

Run: `python -m tools.bench.bare_server --blocks FILE --ready-file FILE [--devices N]
[--port P]`.
The blocks file is {"input": [[start, [words...]], ...], "holding": [...]} (wire
addresses); every device (unit ids 1..N) serves the same blocks. The bound port is written to the ready file.

pymodbus 3.16 deprecates ModbusSequentialDataBlock and the server/device contexts in
favour of SimData/SimDevice, so this uses SimDevice with one SimData per block
(DataType.REGISTERS) in non-shared mode: (coils, discrete inputs, holding, input).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def _blocks(spec: list[list]) -> list[SimData]:
    return [
        SimData(address=start, values=list(words), datatype=DataType.REGISTERS)
        for start, words in spec
    ]


def devices(blocks: dict[str, list[list]], count: int) -> list[SimDevice]:
    """One SimDevice per unit id, each over the same static blocks."""
    bits = [SimData(address=0, count=16, values=False, datatype=DataType.BITS)]
    return [
        SimDevice(
            id=unit,
            simdata=(list(bits), list(bits), _blocks(blocks["holding"]), _blocks(blocks["input"])),
        )
        for unit in range(1, count + 1)
    ]


async def main(blocks_path: Path, ready_path: Path, count: int, port: int) -> None:
    blocks = json.loads(blocks_path.read_text())
    server = ModbusTcpServer(devices(blocks, count), address=("127.0.0.1", port))
    await server.listen()
    port = server.transport.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    tmp = ready_path.with_name(ready_path.name + ".tmp")
    tmp.write_text(json.dumps({"modbus_port": port}))
    tmp.replace(ready_path)
    await server.serving


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--blocks", type=Path, required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.blocks, args.ready_file, args.devices, args.port))
