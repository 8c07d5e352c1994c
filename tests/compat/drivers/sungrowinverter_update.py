"""sungrowinverter 0.2.3 (pymodbus 3.6): inverter_model, then async_update; print JSON.

argv[1]: JSON with host, port, update (default true), keys (values to report).
"""

import driver
from sungrowinverter import SungrowInverter  # pyright: ignore[reportMissingImports]


async def run(args) -> dict:
    inverter = SungrowInverter(args["host"], port=args["port"], timeout=10)
    model = await inverter.inverter_model()
    result = {
        "identified": bool(model),
        "model": inverter.model,
        "device_code": inverter.device_code,
        "serial_number": inverter.serial_number,
        "inverter_type": inverter.inverter_type,
    }
    if not args.get("update", True):
        return result
    result["updated"] = bool(await inverter.async_update())
    result["values"] = {key: inverter.data.get(key) for key in args["keys"]}
    return result


if __name__ == "__main__":
    driver.main(run)
