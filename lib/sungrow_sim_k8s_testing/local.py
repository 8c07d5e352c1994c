"""A simulator process on this machine with the same methods as `Simulator`.

`LocalSimulator` starts `sungrow-sim serve` on free ports (port 0 and --ready-file),
talks to its control API and stops it; no Juju, no Kubernetes. The same test body runs
against it and against a deployed `Simulator`::

    from sungrow_sim_k8s_testing import LocalSimulator, wait_until

    def test_my_client_sees_the_power():
        with LocalSimulator(model="SH10RT") as sim:
            inverter = sim.inverter()  # host 127.0.0.1, ports from the ready file
            sim.set_power(3000)
            run_my_client(inverter.host, inverter.port_for("modbus"))
            assert any(r.covers(5031) for r in sim.requests())

Needs the `sungrow-sim` command (the simulator package, rock/ in the repository) on
PATH or given as `command`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from sungrow_sim_k8s_lib.inverter import Inverter, InverterUnitData

from sungrow_sim_k8s_testing.control import (
    RequestRecord,
    Setting,
    as_results,
    parse_requests,
    parse_settings,
)
from sungrow_sim_k8s_testing.params import (
    FAULT_KINDS,
    battery_params,
    clear_params,
    fault_params,
    power_params,
)
from sungrow_sim_k8s_testing.state import Fault, InverterState, SimulatorState, parse_faults

Unit = int | str


class ControlApiError(RuntimeError):
    """The control API answered with an error; the message is its own."""


class LocalSimulator:
    """`sungrow-sim serve` on free local ports, steered over its control API."""

    app = "local"

    def __init__(
        self,
        model: str = "SG10RT",
        *,
        serial: str | None = None,
        unit_id: int = 1,
        protocols: Sequence[str] = ("modbus", "sungrow", "http"),
        bind: str = "127.0.0.1",
        extra_args: Sequence[str] = (),
        command: Sequence[str] | None = None,
        state_dir: str | Path | None = None,
        start_timeout: float = 30.0,
    ):
        self.model = model
        self.serial = serial
        self.unit_id = unit_id
        self.protocols = tuple(protocols)
        self.bind = bind
        self.extra_args = tuple(extra_args)
        self.command = list(command) if command else None
        self.start_timeout = start_timeout
        self._state_dir = Path(state_dir) if state_dir else None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.ports: dict[str, int] = {}
        self.log_path: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> LocalSimulator:
        """Start the simulator and wait for its ready file (raise with its log if not)."""
        if self._proc is not None:
            raise RuntimeError("already started")
        self._tmp = tempfile.TemporaryDirectory(prefix="sungrow-sim-")
        work = Path(self._tmp.name)
        state_dir = self._state_dir or work / "state"
        state_dir.mkdir(parents=True, exist_ok=True)
        ready = work / "ready.json"
        self.log_path = work / "serve.log"
        program = self.command or [shutil.which("sungrow-sim") or "sungrow-sim"]
        argv = [
            *program,
            "serve",
            *("--model", self.model),
            *("--unit-id", str(self.unit_id)),
            *("--protocols", ",".join(self.protocols)),
            *("--bind", self.bind),
            *("--modbus-port", "0", "--ws-port", "0", "--http-port", "0"),
            *("--control-bind", "127.0.0.1", "--control-port", "0"),
            *("--state-dir", str(state_dir)),
            *("--ready-file", str(ready)),
            *(("--serial", self.serial) if self.serial else ()),
            *self.extra_args,
        ]
        with self.log_path.open("wb") as log:
            try:
                self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            except FileNotFoundError:
                self._cleanup()
                raise RuntimeError(
                    f"cannot run {program[0]!r}: install the simulator (pip install ./rock) "
                    "or pass command=[...]"
                ) from None
        deadline = time.monotonic() + self.start_timeout
        while not self.ports:
            try:
                self.ports = json.loads(ready.read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                pass
            if self.ports:
                break
            if self._proc.poll() is not None or time.monotonic() > deadline:
                log_text = self.log()
                self.stop()
                raise RuntimeError(f"sungrow-sim serve did not start: {argv}\n{log_text}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop the simulator (SIGTERM, then SIGKILL after 10 s) and remove its files."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._saved_log = self.log()
            self._tmp.cleanup()
            self._tmp = None

    def log(self) -> str:
        """The simulator's output so far (kept after stop)."""
        if self.log_path is not None and self.log_path.exists():
            return self.log_path.read_text(errors="replace")
        return getattr(self, "_saved_log", "")

    def __enter__(self) -> LocalSimulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def control_url(self) -> str:
        """The control API's base URL."""
        if not self.ports:
            raise RuntimeError("not started: call start() or use `with LocalSimulator(...)`")
        return f"http://127.0.0.1:{self.ports['control_port']}"

    # -- control API -------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        """One control API request; its JSON answer (raises ControlApiError on 4xx/5xx)."""
        url = self.control_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (always our http:// control URL)
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            try:
                detail = json.loads(e.read()).get("error", e.reason)
            except (json.JSONDecodeError, AttributeError):
                detail = e.reason
            raise ControlApiError(f"{method} {path}: {e.code} {detail}") from None

    def _check_unit(self, unit: Unit) -> None:
        if unit not in (0, "0", "leader", f"{self.app}/0"):
            raise ValueError(f"a LocalSimulator is one unit (0); got {unit!r}")

    # -- the methods of Simulator ------------------------------------------------------

    def state(self, unit: Unit = 0) -> SimulatorState:
        """Version, ports per protocol and the inverter, like get-readings."""
        self._check_unit(unit)
        return SimulatorState.from_results(as_results(self.call("GET", "/v1/state")))

    def readings(self, unit: Unit = 0) -> InverterState:
        """The inverter: identity, live readings, overrides and faults."""
        return self.state(unit).inverter(self.unit_id)

    def inverter(self, unit: Unit = 0, **_: Any) -> Inverter:
        """Where to reach the inverter, as a requirer would read it from the relation."""
        self._check_unit(unit)
        state = self.state(unit)
        identity = state.inverter(self.unit_id)
        data = InverterUnitData.model_validate(
            {
                "host": self.bind if self.bind not in ("0.0.0.0", "::") else "127.0.0.1",  # noqa: S104
                "modbus-port": self.ports.get("modbus_port"),
                "ws-port": self.ports.get("ws_port"),
                "http-port": self.ports.get("http_port"),
                "protocols": self.protocols,
                "model": identity.model,
                "device-code": identity.device_code,
                "serial": identity.serial,
                "unit-id": identity.unit_id,
            }
        )
        found, why = Inverter.from_unit_data_or_problem(-1, f"{self.app}/0", data)
        if found is None:
            raise RuntimeError(f"the local simulator is not usable: {why}")
        return found

    def _inverter_answer(self, method: str, path: str, body: dict[str, Any]) -> InverterState:
        answer = self.call(method, path, body, {"unit_id": self.unit_id})
        return InverterState.from_results(as_results(answer))

    def set_power(self, watts: float | Literal["auto"], unit: Unit = 0) -> InverterState:
        """Pin PV power to `watts`, or "auto" to follow the simulated sun again."""
        self._check_unit(unit)
        params = power_params(watts)
        return self._inverter_answer("POST", "/v1/power", {"watts": params.get("watts")})

    def set_state(self, state: Literal["run", "stop", "standby"], unit: Unit = 0) -> InverterState:
        """Switch the work state."""
        self._check_unit(unit)
        return self._inverter_answer("POST", "/v1/state", {"state": state})

    def set_battery(
        self,
        *,
        soc: float | None = None,
        power: float | None = None,
        auto: bool = False,
        unit: Unit = 0,
    ) -> InverterState:
        """Set the battery of a hybrid: SOC and/or a fixed power, or power back to auto."""
        self._check_unit(unit)
        params = battery_params(soc, power, auto)
        body = {"soc_pct": params.get("soc"), "power_w": params.get("power"), "auto": auto}
        return self._inverter_answer("POST", "/v1/battery", body)

    def inject_fault(self, kind: str, unit: Unit = 0, **options: Any) -> Fault:
        """Inject a fault and return it with its id (options as for Simulator)."""
        self._check_unit(unit)
        params = fault_params(kind, **options)
        renamed = {"duration": "duration_s", "delay": "delay_s", "max-sessions": "max_sessions"}
        body = {renamed.get(k, k): v for k, v in params.items()}
        body["unit_id"] = self.unit_id
        return Fault.from_results(as_results(self.call("POST", "/v1/faults", body)))

    def faults(self, unit: Unit = 0) -> list[Fault]:
        """The active faults."""
        self._check_unit(unit)
        return parse_faults(as_results(self.call("GET", "/v1/faults")))

    def clear_faults(self, kind: str | None = None, unit: Unit = 0) -> None:
        """Clear every fault, or the faults of one kind."""
        self._check_unit(unit)
        params = clear_params(kind)
        assert kind is None or kind in FAULT_KINDS
        self.call("DELETE", "/v1/faults", query=params)

    def settings(self, unit: Unit = 0) -> list[Setting]:
        """The device settings (holding registers) and their values."""
        self._check_unit(unit)
        return parse_settings(self.call("GET", "/v1/settings", query={"unit_id": self.unit_id}))

    def set_setting(self, name: str, value: float | str, unit: Unit = 0) -> Setting:
        """Set one device setting by name (a number, or a choice name like "forced")."""
        self._check_unit(unit)
        body = {"unit_id": self.unit_id, "name": name, "value": value}
        return Setting.from_json(self.call("POST", "/v1/settings", body)["setting"])

    def requests(self, unit: Unit = 0, *, unit_id: int | None = None) -> list[RequestRecord]:
        """What each client asked the simulator for (GET /v1/requests).

        `unit_id` filters by the Modbus unit id a client addressed (default: all).
        """
        self._check_unit(unit)
        return parse_requests(self.call("GET", "/v1/requests", query={"unit_id": unit_id}))
