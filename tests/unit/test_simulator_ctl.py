"""Pebble failures of `sungrow-sim ctl` become clear errors; JSON becomes Juju results.

Pebble's own failures (a lost connection, a timed-out exec) cannot be produced by
ops.testing, so a stand-in container raises the errors ops raises.
"""

from __future__ import annotations

from typing import Any, cast

import ops
import pytest

from simulator_ctl import CtlError, run_ctl, to_results


class RaisingContainer:
    """Stands in for ops.Container: exec raises the given Pebble error."""

    def __init__(self, error: Exception):
        self.error = error

    def exec(self, command: list[str], **kwargs: Any) -> Any:
        raise self.error


def ctl_error(error: Exception) -> str:
    container = cast("ops.Container", RaisingContainer(error))
    with pytest.raises(CtlError) as raised:
        run_ctl(container, 1, ["state"], timeout=5)
    return str(raised.value)


def test_a_lost_pebble_connection_says_the_container_is_unreachable():
    message = ctl_error(ops.pebble.ConnectionError("socket closed"))

    assert message == "cannot reach the simulator container: socket closed"


def test_a_timed_out_exec_says_how_long_it_waited():
    message = ctl_error(ops.pebble.TimeoutError("timed out"))

    assert message == "sungrow-sim ctl state did not answer within 5 s"


def test_a_failed_exec_change_reports_pebble_error():
    change = cast("ops.pebble.Change", None)

    message = ctl_error(ops.pebble.ChangeError("exec timed out after 5s", change))

    assert message == "sungrow-sim ctl state failed: exec timed out after 5s"


def test_results_keys_are_lowercase_and_hyphenated():
    assert to_results({"Active_Power_W": 1, "readings": {"battery soc": 2}}) == {
        "active-power-w": "1",
        "readings": {"battery-soc": "2"},
    }


def test_results_list_items_without_id_are_keyed_by_index():
    assert to_results({"cleared": ["a", "b"]}) == {"cleared": {"0": "a", "1": "b"}}


def test_results_booleans_are_lowercase_words():
    assert to_results({"ok": True, "stale": False}) == {"ok": "true", "stale": "false"}


def test_a_scalar_answer_becomes_a_value_result():
    assert to_results(42) == {"value": "42"}
