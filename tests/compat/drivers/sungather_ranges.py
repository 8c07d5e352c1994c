"""The ranges SungrowClient 0.1.0's own configure_registers selects, per model and level.

Runs in the sungather client environment. argv[1]: JSON with registers (path of
SunGather's register file), models (names) and levels. The model and serial are given in
the config, as SunGather's config.yaml can, so no connection is needed. Prints one JSON
object: {"MODEL": {"LEVEL": [{"type": "read"|"hold", "start": wire, "count": n}]}}, or
{"error": "..."} for a level where configure_registers itself raises.
"""

import copy
import logging

import driver
import yaml  # pyright: ignore[reportMissingModuleSource]
from SungrowClient import SungrowClient  # pyright: ignore[reportMissingImports]


def run(args) -> dict:
    logging.getLogger().setLevel(logging.WARNING)
    with open(args["registers"], encoding="utf-8") as registers:
        registersfile = yaml.safe_load(registers)
    result = {}
    for model in args["models"]:
        result[model] = {}
        for level in args["levels"]:
            client = SungrowClient.SungrowClient(
                {
                    "host": "127.0.0.1", "port": 502, "timeout": 10, "retries": 3,
                    "slave": 0x01, "scan_interval": 30, "connection": "modbus",
                    "model": model, "serial_number": "SIMRANGES", "smart_meter": False,
                    "use_local_time": False, "log_console": "WARNING", "log_file": "OFF",
                    "level": level,
                }
            )  # fmt: skip
            try:
                client.configure_registers(copy.deepcopy(registersfile))
            except Exception as exc:  # SunGather itself fails for this model and level
                result[model][str(level)] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            result[model][str(level)] = [
                {"type": r["type"], "start": int(r["start"]), "count": int(r["range"])}
                for r in client.register_ranges
            ]
    return result


if __name__ == "__main__":
    driver.main(run)
