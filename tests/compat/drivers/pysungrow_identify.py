"""pysungrow 1.1.0 (pymodbus 3.0.2): identify, then refresh; print the result as JSON.

argv[1]: JSON with host, port, slave, refresh (default true), keys (values to report).
"""

import enum

import driver
from pymodbus.client import AsyncModbusTcpClient  # pyright: ignore[reportMissingImports]
from pysungrow import SungrowClient, identify  # pyright: ignore[reportMissingImports]


def plain(value):
    if isinstance(value, enum.Enum):
        return value.name
    if hasattr(value, "name") and hasattr(value, "code"):  # SungrowDevice
        return value.name
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


async def run(args) -> dict:
    client = AsyncModbusTcpClient(args["host"], port=args["port"])
    identity = await identify(client, args["slave"])
    result = {
        "serial_number": identity.serial_number,
        "device": identity.device.name,
        "device_code": identity.device.code,
        "output_type": identity.output_type.name,
        "excluded": list(identity.excluded_variables),
    }
    sungrow = SungrowClient(client, identity, args["slave"])
    result["keys"] = len(sungrow.keys)
    if not args.get("refresh", True):
        return result
    try:
        await sungrow.refresh()
    except Exception as exc:  # pymodbus and pysungrow raise many kinds; report, not crash
        result["refresh_error"] = f"{type(exc).__name__}: {exc}"
    result["values"] = {key: plain(sungrow.data.get(key)) for key in args["keys"]}
    return result


if __name__ == "__main__":
    driver.main(run)
