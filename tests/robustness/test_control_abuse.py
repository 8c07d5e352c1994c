"""Abuse of the control API: a 4xx with a JSON error that says what is wrong.

Every malformed or out-of-range request changes nothing, and the server keeps serving.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from support.simproc import SimProcess


def call(
    sim: SimProcess, method: str, path: str, body: bytes | None = None,
    content_type: str | None = "application/json",
) -> tuple[int, dict]:  # fmt: skip
    request = urllib.request.Request(sim.control_url + path, data=body, method=method)
    if content_type is not None and body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "message"),
    [
        ("POST", "/v1/power", b'{"watts": "' + b"9" * 200_000 + b'"}', None, 413, "Too Large"),
        ("POST", "/v1/power", b"watts=5", "application/x-www-form-urlencoded", 400, "not valid JSON"),
        ("POST", "/v1/power", b"\xff\xfe\x00garbage", "application/octet-stream", 400, "not valid JSON"),
        ("POST", "/v1/power", b'{"watts": 5', "application/json", 400, "not valid JSON"),
        ("POST", "/v1/power", b"", "application/json", 400, "not valid JSON"),
        ("POST", "/v1/power", b"[1, 2]", "application/json", 400, "must be a JSON object"),
        ("POST", "/v1/power", b'"watts"', "application/json", 400, "must be a JSON object"),
        ("POST", "/v1/power", b"[" * 20_000 + b"]" * 20_000, "application/json", 400, "nested too deeply"),
        ("POST", "/v1/power", b'{"watts": -1}', "application/json", 422, "watts"),
        ("POST", "/v1/power", b'{"watts": 1e12}', "application/json", 422, "watts"),
        ("POST", "/v1/power", b'{"watts": NaN}', "application/json", 400, "not valid JSON"),
        ("POST", "/v1/power", b'{"watts": Infinity}', "application/json", 400, "not valid JSON"),
        ("POST", "/v1/power", b'{"watts": 5, "volts": 230}', "application/json", 422, "volts"),
        ("POST", "/v1/battery", b'{"soc_pct": 101}', "application/json", 422, "soc_pct"),
        ("POST", "/v1/battery", b'{"power_w": -1e9}', "application/json", 422, "power"),
        ("POST", "/v1/load", b'{"watts": 1e9}', "application/json", 422, "watts"),
        ("POST", "/v1/clock", b'{"time": "9999-99-99"}', "application/json", 422, "time"),
        ("POST", "/v1/state", b'{"state": "explode"}', "application/json", 422, "state"),
        ("POST", "/v1/faults", b'{"kind": "exception", "duration_s": -5}', "application/json", 422, "duration_s"),
        ("POST", "/v1/faults", b'{"kind": "exception", "unit_id": 99}', "application/json", 422, "unit_id"),
        ("POST", "/v1/faults", b'{"kind": "session-limit", "max_sessions": 1e6}', "application/json", 422, "max_sessions"),
        ("GET", "/v1/state?unit_id=" + "9" * 5000, None, None, 400, "unit_id"),
        ("GET", "/v1/state?unit_id=-1", None, None, 422, "unit_id"),
        ("GET", "/ui/nope.js", None, None, 404, ""),  # "/" is the dashboard
        ("POST", "/", b"{}", "application/json", 405, ""),
        ("GET", "/v1/events?unit_id=99", None, None, 422, "unit_id"),
        ("GET", "/v1/registers?unit_id=x", None, None, 400, "unit_id"),
        ("GET", "/v1/samples?unit_id=" + "9" * 5000, None, None, 400, "unit_id"),
        ("GET", "/v2/state", None, None, 404, ""),
        ("GET", "/v1/health/../../etc/passwd", None, None, 404, ""),
        ("DELETE", "/v1/health", None, None, 405, ""),
        ("GET", "/v1/power", None, None, 405, ""),
        ("PUT", "/v1/faults", b"{}", "application/json", 405, ""),
    ],
)  # fmt: skip
def test_bad_requests_get_a_4xx_json_error_and_change_nothing(
    sim: SimProcess, method, path, body, content_type, status, message
):
    before = call(sim, "GET", "/v1/state")[1]["inverters"][0]["overrides"]
    got, answer = call(sim, method, path, body, content_type)
    assert (got, set(answer)) == (status, {"error"}), answer
    assert message in answer["error"] and answer["error"].strip()
    assert call(sim, "GET", "/v1/state")[1]["inverters"][0]["overrides"] == before


def test_valid_json_is_accepted_whatever_the_content_type_says(sim: SimProcess):
    """Curl -d sends form encoding by default: the body decides, not the header."""
    got, answer = call(
        sim, "POST", "/v1/load", b'{"watts": 500}', "application/x-www-form-urlencoded"
    )
    assert got == 200 and answer["overrides"]["load_w"] == 500
    got, answer = call(sim, "POST", "/v1/load", b'{"watts": null}', None)
    assert got == 200 and answer["overrides"]["load_w"] is None
