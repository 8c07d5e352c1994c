"""`/metrics`: the recorder's counters and the plant's gauges in the Prometheus text format.

Everything is read at scrape time by one custom collector, so serving a request costs only
the recorder's dictionary updates. prometheus-client is imported at the first scrape (the
simulator's start time and idle memory do not pay for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, get_args

from sungrow_sim.plant import WorkState
from sungrow_sim.telemetry.recorder import Recorder

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from sungrow_sim.simulator import Simulator

PREFIX = "sungrow_sim"
WORK_STATES: tuple[str, ...] = get_args(WorkState)
# Per-inverter gauges: (name, help, key of Inverter.readings()).
PLANT_GAUGES = (
    ("pv_power_watts", "PV (DC) power", "pv_power_w"),
    ("ac_power_watts", "AC output power of the inverter", "active_power_w"),
    ("load_power_watts", "house load power", "load_power_w"),
    ("battery_power_watts", "battery power, > 0 charging (hybrids)", "battery_power_w"),
    ("grid_power_watts", "grid power, > 0 exporting", "grid_power_w"),
    ("battery_soc_percent", "battery state of charge (hybrids)", "battery_soc_pct"),
    ("daily_yield_kwh", "energy produced today (kWh)", "daily_yield_kwh"),
    ("total_yield_kwh", "energy produced since commissioning (kWh)", "total_yield_kwh"),
)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Views = Callable[[], dict[str, int]]


def _label(value: object) -> str:
    return "" if value is None else str(value)


class SimulatorCollector:
    """Yields every sungrow_sim family from the recorder and the simulator, at scrape time."""

    def __init__(self, recorder: Recorder, sim: Simulator, sessions: Views = dict) -> None:
        self.recorder = recorder
        self.sim = sim
        self.sessions = sessions  # open sessions per listener (modbus connections, WiNet-S)

    def describe(self) -> list[Any]:
        """Nothing up front: the registry then does not call collect() at registration."""
        return []

    def collect(self) -> Iterator[Any]:  # noqa: D102
        yield from self._requests()
        yield from self._connections()
        yield from self._faults()
        yield from self._plant()

    def _requests(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        rec = self.recorder
        requests = CounterMetricFamily(
            f"{PREFIX}_requests",
            "requests served, by protocol, function, unit, table and outcome",
            labels=("protocol", "function", "unit", "table", "outcome"),
        )
        for (protocol, function, unit, table, outcome), n in list(rec.counts.items()):
            requests.add_metric((protocol, function, _label(unit), _label(table), outcome), n)
        yield requests
        latency = HistogramMetricFamily(
            f"{PREFIX}_request_duration_seconds",
            "time from a request's arrival to its answer (injected delays included)",
            labels=("protocol",),
        )
        for protocol, hist in list(rec.latency.items()):
            latency.add_metric((protocol,), hist.cumulative(), hist.sum)
        yield latency
        for name, data, what in (
            ("received_bytes", rec.bytes_in, "bytes received"),
            ("sent_bytes", rec.bytes_out, "bytes sent"),
        ):
            family = CounterMetricFamily(
                f"{PREFIX}_{name}", f"{what}, by protocol", labels=("protocol",)
            )
            for protocol, n in list(data.items()):
                family.add_metric((protocol,), n)
            yield family

    def _connections(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        rec = self.recorder
        opened = GaugeMetricFamily(
            f"{PREFIX}_open_connections",
            "open client connections, by listener",
            labels=("listener",),
        )
        for listener, n in list(rec.open_connections.items()):
            opened.add_metric((listener,), n)
        yield opened
        total = CounterMetricFamily(
            f"{PREFIX}_connections",
            "client connections accepted, by listener",
            labels=("listener",),
        )
        for listener, n in list(rec.connections.items()):
            total.add_metric((listener,), n)
        yield total
        sessions = GaugeMetricFamily(
            f"{PREFIX}_open_sessions",
            "open sessions (Modbus connections, WiNet-S tokens), by listener",
            labels=("listener",),
        )
        for listener, n in self.sessions().items():
            sessions.add_metric((listener,), n)
        yield sessions

    def _faults(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        rec = self.recorder
        injected = CounterMetricFamily(
            f"{PREFIX}_faults_injected",
            "faults injected through the control API, by kind",
            labels=("kind",),
        )
        for kind, n in list(rec.faults_injected.items()):
            injected.add_metric((kind,), n)
        yield injected
        active: dict[str, int] = {}
        for fault in self.sim.faults.active():
            active[fault.kind] = active.get(fault.kind, 0) + 1
        gauge = GaugeMetricFamily(
            f"{PREFIX}_faults_active", "faults in force, by kind", labels=("kind",)
        )
        for kind, n in sorted(active.items()):
            gauge.add_metric((kind,), n)
        yield gauge
        fired = CounterMetricFamily(
            f"{PREFIX}_faults_fired",
            "times a fault changed what a client got, by kind and protocol",
            labels=("kind", "protocol"),
        )
        for (kind, protocol), n in list(rec.faults_fired.items()):
            fired.add_metric((kind, protocol), n)
        yield fired
        writes = CounterMetricFamily(
            f"{PREFIX}_settings_writes",
            "writes of holding registers (settings), by register name and path",
            labels=("register", "via"),
        )
        for (name, via), n in list(rec.settings_writes.items()):
            writes.add_metric((name, via), n)
        yield writes

    def _plant(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        labels = ("unit", "model", "serial")
        info = GaugeMetricFamily(
            f"{PREFIX}_inverter_info",
            "one series per simulated inverter (value 1)",
            labels=(*labels, "family", "device_code"),
        )
        families = {
            key: GaugeMetricFamily(f"{PREFIX}_{name}", what, labels=labels)
            for name, what, key in PLANT_GAUGES
        }
        state = GaugeMetricFamily(
            f"{PREFIX}_work_state",
            "1 for the inverter's current work state, 0 for the others",
            labels=(*labels, "state"),
        )
        for unit, inverter in sorted(self.sim.inverters.items()):
            ident = (str(unit), inverter.info.model, inverter.info.serial)
            info.add_metric(
                (*ident, inverter.info.family, f"0x{inverter.info.device_code:04X}"), 1
            )
            readings = inverter.readings()
            for key, family in families.items():
                value = readings.get(key)
                if value is not None:
                    family.add_metric(ident, float(value))
            current = readings.get("work_state")
            for name in WORK_STATES:
                state.add_metric((*ident, name), 1.0 if name == current else 0.0)
        yield info
        yield from families.values()
        yield state
        clock = GaugeMetricFamily(
            f"{PREFIX}_clock_seconds", "the simulated clock, as Unix time in seconds"
        )
        clock.add_metric((), self.sim.clock.now().timestamp())
        yield clock
        scale = GaugeMetricFamily(f"{PREFIX}_time_scale", "simulated seconds per real second")
        scale.add_metric((), self.sim.clock.time_scale)
        yield scale
        entries = GaugeMetricFamily(
            f"{PREFIX}_request_record_entries",
            "entries kept by the request record (GET /v1/requests)",
        )
        entries.add_metric((), self.recorder.entry_count)
        yield entries


class Metrics:
    """The registry behind `/metrics`: our collector plus the process's own figures."""

    def __init__(self, recorder: Recorder, sim: Simulator, sessions: Views = dict) -> None:
        self.collector = SimulatorCollector(recorder, sim, sessions)
        self._registry: CollectorRegistry | None = None

    @property
    def registry(self) -> CollectorRegistry:  # noqa: D102
        if self._registry is None:
            from prometheus_client import CollectorRegistry, ProcessCollector

            registry = CollectorRegistry(auto_describe=False)
            registry.register(self.collector)  # type: ignore[arg-type]
            ProcessCollector(registry=registry)
            self._registry = registry
        return self._registry

    def render(self) -> bytes:
        """The exposition text of every family."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)
