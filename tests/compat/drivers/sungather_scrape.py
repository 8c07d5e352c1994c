"""Make SunGather 0.5's exact calls with SungrowClient 0.1.0; print the result as JSON.

Runs in the sungather client environment (pymodbus 2.5.3). argv[1]: JSON with host, port,
connection (modbus|sungrow|http), level, registers (path of SunGather's register file),
scrapes (how many polling-loop iterations).
"""

from typing import Any

import driver
import yaml  # pyright: ignore[reportMissingModuleSource]
from SungrowClient import SungrowClient  # pyright: ignore[reportMissingImports]

VALUES = (
    "device_type_code",
    "serial_number",
    "total_active_power",
    "daily_power_yields",
    "battery_level",
    "export_power_hybrid",
    "meter_power",
    "load_power_hybrid",
    "timestamp",
)


def run(args) -> dict[str, Any]:
    with open(args["registers"], encoding="utf-8") as registers:
        registersfile = yaml.safe_load(registers)
    # sungather.py's defaults for every option the test does not set.
    config_inverter = {
        "host": args["host"],
        "port": args["port"],
        "timeout": 10,
        "retries": 3,
        "slave": 0x01,
        "scan_interval": 30,
        "connection": args["connection"],
        "model": None,
        "smart_meter": False,
        "use_local_time": False,
        "log_console": "WARNING",
        "log_file": "OFF",
        "level": args["level"],
    }
    inverter = SungrowClient.SungrowClient(config_inverter)
    result: dict[str, Any] = {"connected": bool(inverter.checkConnection())}
    if not result["connected"]:
        return result
    inverter.configure_registers(registersfile)
    if not inverter.inverter_config["connection"] == "http":
        inverter.close()
    result["model"] = inverter.getInverterModel()
    result["serial"] = inverter.getSerialNumber()
    result["ranges"] = [
        {"type": r["type"], "start": r["start"], "count": r["range"]}
        for r in inverter.register_ranges
    ]

    # Record each range's outcome without changing what SungrowClient does.
    outcomes = []
    load_registers = inverter.load_registers

    def recorded(register_type, start, count=100):
        ok = load_registers(register_type, start, count)
        outcomes.append({"type": register_type, "start": start, "count": count, "ok": ok})
        return ok

    inverter.load_registers = recorded

    result["scrapes"] = []
    for _ in range(args.get("scrapes", 1)):
        outcomes.clear()
        inverter.checkConnection()
        success = inverter.scrape()
        if success:
            if not inverter.inverter_config["connection"] == "http":
                inverter.close()
        else:
            inverter.disconnect()
        failed = [o for o in outcomes if not o["ok"]]
        values = {k: inverter.latest_scrape.get(k) for k in VALUES}
        result["scrapes"].append(
            {"success": success, "ranges": len(outcomes), "failed": failed, "values": values}
        )
    return result


if __name__ == "__main__":
    driver.main(run)
