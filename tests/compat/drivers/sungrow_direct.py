"""Read registers with SungrowModbusTcpClient 0.1.6 or SungrowModbusWebClient 0.3.2 directly.

Runs in the sungather client environment (pymodbus 2.5.3). argv[1]: JSON with client
(tcp|web), host, port (Modbus port, or the WebSocket port for web), unit, and reads:
[{"fc": 3|4, "address": wire address, "count": n} or {"run": [argv...]}, a command run
between reads, e.g. `sungrow-sim ctl inject-fault ...`]. Prints one JSON object: per read
either {"registers": [...]} or {"error": "..."}.
"""

import subprocess
import sys
from typing import Any

import driver


def make_client(args):
    if args["client"] == "tcp":
        from SungrowModbusTcpClient import (  # pyright: ignore[reportMissingImports]
            SungrowModbusTcpClient,
        )

        return SungrowModbusTcpClient.SungrowModbusTcpClient(
            host=args["host"], port=args["port"], timeout=10, RetryOnEmpty=False
        )
    from SungrowModbusWebClient import (  # pyright: ignore[reportMissingImports]
        SungrowModbusWebClient,
    )

    return SungrowModbusWebClient.SungrowModbusWebClient(
        host=args["host"], port=args["port"], timeout=10
    )


def run(args) -> dict[str, Any]:
    client = make_client(args)
    result: dict[str, Any] = {"reads": []}
    try:
        result["connected"] = bool(client.connect())
    except Exception as exc:  # ConnectionException: the dongle refused the session
        result["connected"] = False
        result["connect_error"] = f"{type(exc).__name__}: {exc}"
    for read in args["reads"]:
        if "run" in read:
            subprocess.run(read["run"], check=True, stdout=sys.stderr)
            continue
        method = client.read_input_registers if read["fc"] == 4 else client.read_holding_registers
        try:
            response = method(read["address"], count=read["count"], unit=args["unit"])
        except Exception as exc:  # the client raises ConnectionException and friends
            result["reads"].append({"error": f"{type(exc).__name__}: {exc}"})
            continue
        if response.isError() or not hasattr(response, "registers"):
            result["reads"].append({"error": str(response)})
        else:
            result["reads"].append({"registers": list(response.registers)})
    client.close()
    if args["client"] == "web" and getattr(client, "ws_socket", None) is not None:
        client.ws_socket.close()
    result["dev_type"] = getattr(client, "dev_type", None)
    result["dev_code"] = getattr(client, "dev_code", None)
    return result


if __name__ == "__main__":
    driver.main(run)
