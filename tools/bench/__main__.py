"""`python -m tools.bench`: the simulator side by side with a bare pymodbus server.

Prints a table, then one line:
`bench: scrape_ratio=X p99_ratio=X start_s=X rss_mib=X fleet100_ratio=X`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from sungrow_sim.registers import catalogue

from tools.bench import measure, startup, targets
from tools.bench.procs import Server, bare_argv, bytecode_env, launch, sim_argv
from tools.bench.report import Row, print_table
from tools.bench.stats import median, ms
from tools.sungather_ranges import ranges
from tools.wire import PlainClient, Read

MODEL = "SH10RT"
FLEET = (1, 10, 100)
SETTLE_S = 1.5
# What any server on our stack pays before doing anything: the two libraries it needs.
FLOOR_IMPORTS = "import aiohttp.web, pydantic.main"


def snapshot_blocks(port: int) -> dict[str, list[list]]:
    """Every register block the simulator serves for MODEL, read over Modbus."""
    spec = catalogue().model(MODEL)
    client = PlainClient(port)
    blocks: dict[str, list[list]] = {}
    try:
        for table in ("input", "holding"):
            for start, count in spec.blocks(table):
                words: list[int] = []
                for offset in range(0, count, 125):
                    n = min(125, count - offset)
                    data = client.read((table, start + offset, n))
                    words += [
                        int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)
                    ]
                blocks.setdefault(table, []).append([start, words])
    finally:
        client.close()
    return blocks


def fleet_config(workdir: Path, count: int) -> Path:
    """A config file with `count` inverters at unit ids 1..count (JSON is YAML)."""
    path = workdir / f"fleet-{count}.yaml"
    inverters = [
        {"model": MODEL, "serial": f"SIM{unit:07d}", "unit_id": unit}
        for unit in range(1, count + 1)
    ]
    config = {"protocols": ["modbus"], "start_time": "2026-06-21T12:00:00", "inverters": inverters}
    path.write_text(json.dumps(config))
    return path


def run(settings: measure.Settings, workdir: Path) -> tuple[list[Row], dict[str, float]]:
    """Every comparison; the table rows and the headline figures."""
    warm = bytecode_env(workdir / "pycache")
    mix = measure.scrape_mix(ranges(MODEL, 2))
    _warm_up(workdir, warm)
    blocks = workdir / "blocks.json"
    bare_rows, headline = _versus_bare(settings, workdir, warm, mix, blocks)
    fleet_rows, headline["fleet100_ratio"] = _fleet(settings, workdir, warm, mix)
    start_rows, headline["start_s"] = _startup(settings, workdir, warm, blocks)
    order = ("scrape_ratio", "p99_ratio", "start_s", "rss_mib", "fleet100_ratio")
    return bare_rows + fleet_rows + start_rows, {key: headline[key] for key in order}


def _warm_up(workdir: Path, warm: dict[str, str]) -> None:
    """Throwaway runs fill the bytecode cache (as pip does for the rock).

    The measured processes then neither compile nor carry the compiler's garbage.
    """
    launch("warm-up", sim_argv("--model", MODEL), workdir, warm).stop()
    launch(
        "warm-up-config", sim_argv("--config", str(fleet_config(workdir, 1))), workdir, warm
    ).stop()


def _versus_bare(
    settings: measure.Settings, workdir: Path, warm: dict[str, str], mix: list[Read], blocks: Path
) -> tuple[list[Row], dict[str, float]]:
    """The simulator against the bare server holding its register values, and its modes."""
    sim = launch("simulator", sim_argv("--model", MODEL), workdir, warm)
    servers: list[Server] = [sim]
    try:
        blocks.write_text(json.dumps(snapshot_blocks(sim.port)))
        launch("bare-warm-up", bare_argv(blocks), workdir, warm).stop()
        servers.append(launch("bare", bare_argv(blocks), workdir, warm))
        time.sleep(SETTLE_S)
        idle = {s.name: s.rss_mib() for s in servers}
        rows, headline = _load_rows(settings, servers, mix)
        loaded = {s.name: s.rss_mib() for s in servers}
        rows += _memory_rows(idle, loaded)
        rows += _mode_rows(measure.modes(sim, mix, settings))
    finally:
        for server in servers:
            server.stop()
    headline["rss_mib"] = idle["simulator"]
    return rows, headline


def _load_rows(
    settings: measure.Settings, servers: list[Server], mix: list[Read]
) -> tuple[list[Row], dict[str, float]]:
    per_scrape = measure.scrape(servers, mix, settings)
    scrape_ratio = per_scrape["simulator"] / per_scrape["bare"]
    rows = [
        Row(
            f"scrape ({len(mix)} reads), per scrape",
            ms(per_scrape["simulator"]),
            ms(per_scrape["bare"]),
            scrape_ratio,
            targets.SCRAPE_RATIO,
        )
    ]
    conc = measure.concurrent(servers, mix, settings).values
    for key, target in (("p50", None), ("p99", targets.P99_RATIO)):
        rows.append(
            Row(
                f"{settings.clients} clients, {key} read latency",
                ms(conc["simulator"][key]),
                ms(conc["bare"][key]),
                conc["simulator"][key] / conc["bare"][key],
                target,
            )
        )
    p99_ratio = conc["simulator"]["p99"] / conc["bare"]["p99"]
    return rows, {"scrape_ratio": scrape_ratio, "p99_ratio": p99_ratio}


def _memory_rows(idle: dict[str, float], loaded: dict[str, float]) -> list[Row]:
    return [
        Row(
            f"RSS idle (MiB; target <= {targets.RSS_IDLE_MIB:g})",
            f"{idle['simulator']:.1f}",
            f"{idle['bare']:.1f}",
            idle["simulator"] / targets.RSS_IDLE_MIB,
            1.0,
        ),
        Row(
            "RSS after the load above (MiB)",
            f"{loaded['simulator']:.1f}",
            f"{loaded['bare']:.1f}",
        ),
    ]


def _mode_rows(per_mode: dict[str, float]) -> list[Row]:
    return [
        Row(
            f"{mode} mode vs plain, per scrape",
            ms(per_mode[mode]),
            ms(per_mode["plain"]) + " plain",
            per_mode[mode] / per_mode["plain"],
        )
        for mode in ("sungrow", "http")
    ]


def _fleet(
    settings: measure.Settings, workdir: Path, warm: dict[str, str], mix
) -> tuple[list[Row], float]:
    servers: dict[int, Server] = {}
    try:
        for n in FLEET:
            servers[n] = launch(
                f"fleet{n}", sim_argv("--config", str(fleet_config(workdir, n))), workdir, warm
            )
        time.sleep(SETTLE_S)
        idle = {n: server.rss_mib() for n, server in servers.items()}
        result = measure.fleet(servers, mix, settings).values
    finally:
        for server in servers.values():
            server.stop()
    one = result["1"]
    rows = []
    for n in FLEET[1:]:
        fig = result[str(n)]
        for key, target in (("mean", targets.FLEET_MEAN_RATIO), ("p99", None)):
            rows.append(
                Row(
                    f"{n} inverters vs 1, {key} per read",
                    ms(fig[key]),
                    ms(one[key]),
                    fig[key] / one[key],
                    target if n == FLEET[-1] else None,
                )
            )
        rows.append(
            Row(
                f"{n} inverters vs 1, start to ready (s)",
                f"{servers[n].ready_s:.2f}",
                f"{servers[1].ready_s:.2f}",
                servers[n].ready_s / servers[1].ready_s,
            )
        )
        growth = (idle[n] - idle[1]) / (n - 1)
        rows.append(
            Row(
                f"{n} inverters vs 1, RSS idle / loaded (MiB)",
                f"{idle[n]:.1f} / {fig['rss']:.1f} ({growth:+.2f}/inverter)",
                f"{idle[1]:.1f} / {one['rss']:.1f}",
            )
        )
    return rows, result[str(FLEET[-1])]["mean"] / one["mean"]


def _startup(
    settings: measure.Settings, workdir: Path, warm: dict[str, str], blocks: Path
) -> tuple[list[Row], float]:
    sim = sim_argv("--model", MODEL, "--modbus-port", "PORT")
    bare = [
        *bare_argv(blocks),
        "--port",
        "PORT",
        "--ready-file",
        str(workdir / "bare-start.ready"),
    ]
    cold = bytecode_env(None)
    ready_file = workdir / "sim-start.ready"
    every = sim_argv("--model", MODEL, "--ready-file", str(ready_file))  # every protocol
    times: dict[str, list[float]] = {"sim": [], "bare": [], "floor": [], "cold": [], "ready": []}
    for launch_no in range(settings.launches):  # interleaved: load bursts hit all alike
        times["sim"].append(startup.time_to_first_read(sim, warm, workdir))
        times["bare"].append(startup.time_to_first_read(bare, warm, workdir))
        times["ready"].append(startup.time_to_ready_file(every, warm, ready_file))
        times["floor"].append(startup.time_to_exit([sys.executable, "-c", FLOOR_IMPORTS], warm))
        if launch_no % 2 == 0:
            times["cold"].append(startup.time_to_first_read(sim, cold, workdir))
    warm_s, bare_s, floor_s, cold_s, ready_s = (
        median(times[k]) for k in ("sim", "bare", "floor", "cold", "ready")
    )
    rows = [
        Row(
            f"start to first read (s; target <= {targets.START_S:g})",
            f"{warm_s:.3f}",
            f"{bare_s:.3f}",
            warm_s / targets.START_S,
            1.0,
        ),
        Row("  same, no bytecode cache (cold)", f"{cold_s:.3f}"),
        Row("  every listener up (ready file; Modbus answers before)", f"{ready_s:.3f}"),
        Row("  floor: python importing aiohttp.web + pydantic", f"{floor_s:.3f}"),
        Row("RSS floor: python + aiohttp.web + pydantic (MiB)", f"{startup.floor_rss(warm):.1f}"),
    ]
    return rows, warm_s


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the table and the final line."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = parser.parse_args(argv)
    settings = measure.Settings()
    if args.quick:
        settings = measure.Settings(rounds=3, scrapes=5, reads_per_client=30, launches=3)
    with tempfile.TemporaryDirectory(prefix="sungrow-bench-") as tmp:
        rows, headline = run(settings, Path(tmp))
    print_table(rows)
    print(
        "baseline: pymodbus 3.16 ModbusTcpServer over SimDevice/SimData static blocks; ratio = simulator / baseline"
    )
    print(
        "bench: "
        + " ".join(
            f"{k}={v:.3g}" if k != "rss_mib" else f"{k}={v:.1f}" for k, v in headline.items()
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
