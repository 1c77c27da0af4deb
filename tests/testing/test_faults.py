"""Fault injection: REST errors, socket drops/closes, frame delay/duplicate/reorder/malformed."""

from __future__ import annotations

import base64
import json

import pytest

from sogni_sync.testing import LocalSupernet

from .helpers import Closed, api, job_request, run_project


def test_rest_429_with_retry_after(net: LocalSupernet) -> None:
    net.faults.rest_error("/v4/account/balance", status=429, times=2, retry_after=3)
    for _ in range(2):
        r = api(net, "/v4/account/balance")
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
        assert r.json()["status"] == "error"
    assert api(net, "/v4/account/balance").status_code == 200


def test_rest_503_glob_and_method(net: LocalSupernet) -> None:
    net.faults.rest_error("/api/v1/*", status=503, method="GET")
    assert api(net, "/api/v1/models/list").status_code == 503
    assert api(net, "/api/v1/models/list").status_code == 200


def test_drop_after_frames(net: LocalSupernet, connect) -> None:
    ws = connect()
    net.faults.drop_after(1)
    net.toast("one")
    net.toast("two")
    assert ws.recv()[1]["message"] == "one"
    with pytest.raises(Closed) as info:
        ws.recv()
    assert info.value.code == 1006


def test_close_with_code(net: LocalSupernet, connect) -> None:
    ws = connect()
    net.faults.close_after(0, 4010, "blocked")
    net.toast("never")
    with pytest.raises(Closed) as info:
        ws.recv()
    assert info.value.code == 4010


def test_disconnect_now(net: LocalSupernet, connect) -> None:
    ws = connect()
    assert net.disconnect(code=1012) >= 1
    with pytest.raises(Closed) as info:
        ws.recv()
    assert info.value.code == 1012


def test_duplicate_and_reorder(net: LocalSupernet, connect) -> None:
    ws = connect()
    net.faults.duplicate("toastMessage")
    net.toast("a")
    assert [ws.recv()[1]["message"] for _ in range(2)] == ["a", "a"]
    net.faults.reorder()
    net.toast("first")
    net.toast("second")
    assert [ws.recv()[1]["message"] for _ in range(2)] == ["second", "first"]


def test_delay(net: LocalSupernet, connect) -> None:
    ws = connect()
    net.faults.delay(0.2, types="toastMessage")
    net.toast("late")
    net.send("balanceUpdate", {"x": 1})
    assert ws.recv()[0] == "balanceUpdate"
    assert ws.recv()[1]["message"] == "late"


@pytest.mark.parametrize("kind", ["garbage", "no_data", "bad_base64", "not_object"])
def test_malformed(net: LocalSupernet, connect, kind: str) -> None:
    ws = connect()
    net.faults.malformed(kind=kind)
    net.toast("after")
    raw = ws.ws.recv()
    with pytest.raises((ValueError, KeyError, TypeError)):
        json.loads(base64.b64decode(json.loads(raw)["data"], validate=True))
    assert ws.recv()[1]["message"] == "after"


def test_forget_next(net: LocalSupernet, connect) -> None:
    ws = connect()
    lost = job_request()
    net.faults.forget_next("jobRequest")
    ws.send("jobRequest", lost)
    kept = job_request()
    frames = run_project(ws, kept)
    assert not any(d.get("jobID") == lost["jobID"] for _, d in frames)
    assert [r["jobID"] for r in net.received("jobRequest")] == [lost["jobID"], kept["jobID"]]


def test_refuse_connects(net: LocalSupernet, connect) -> None:
    net.faults.refuse_connects(1, code=4021)
    ws = connect(handshake=False)
    with pytest.raises(Closed) as info:
        ws.recv()
    assert info.value.code == 4021
    assert connect(handshake=False).recv()[0] == "authenticated"


def test_no_workers(net: LocalSupernet, connect) -> None:
    net.faults.no_workers("flux1-schnell-fp8")
    ws = connect(handshake=False)
    swarm = ws.until(lambda t, d: t == "swarmModels")[-1][1]
    assert "flux1-schnell-fp8" not in swarm
    ws.send("jobRequest", job_request())
    _, d = ws.until(lambda t, d: t == "jobError")[-1]
    assert d["error"] == 4009


def test_faults_constructor_option() -> None:
    with LocalSupernet(faults={"rest_error": {"route": "/v1/account/me", "status": 503}}) as net:
        assert api(net, "/v1/account/me").status_code == 503
    with LocalSupernet(faults=lambda f: f.rest_error("/v1/account/me", status=429)) as net:
        assert api(net, "/v1/account/me").status_code == 429
    with pytest.raises(ValueError):
        LocalSupernet(faults={"explode": {}})


def test_reset_clears(net: LocalSupernet, connect) -> None:
    net.faults.rest_error("/v1/account/me", status=503, times=5)
    api(net, "/v1/account/me")
    net.reset()
    assert api(net, "/v1/account/me").status_code == 200
    assert len(net.rest_calls) == 1 and net.received() == []


def test_close_at_event_type(net: LocalSupernet, connect) -> None:
    ws = connect()
    net.faults.close_at("jobResult", code=1011)
    ws.send("jobRequest", job_request())
    with pytest.raises(Closed) as info:
        while True:
            assert ws.recv()[0] != "jobResult"
    assert info.value.code == 1011


def test_fail_next_jobs_symbolic(net: LocalSupernet, connect) -> None:
    ws = connect()
    net.faults.fail_next_jobs(1, error="workerDisconnected", message="Worker disconnected")
    req = job_request(count=2)
    frames = run_project(ws, req)  # the other job still completes the project
    errors = [d for t, d in frames if t == "jobError"]
    assert len(errors) == 1 and errors[0]["error"] == "workerDisconnected" and errors[0]["imgID"]


def test_fail_project_level(net: LocalSupernet, connect) -> None:
    ws = connect()
    net.faults.fail_next_jobs(1, error="serverRestarting", message="Restart",
                              project_level=True)
    req = job_request(count=3)
    frames = run_project(ws, req)
    err = frames[-1][1]
    assert frames[-1][0] == "jobError" and "imgID" not in err and err["error"] == "serverRestarting"
    net.toast("after")
    rest = ws.until(lambda t, d: t == "toastMessage")
    assert not any(t in ("jobResult", "jobProgress") for t, _ in rest)
    snap = api(net, f"/v1/projects/{req['jobID']}").json()["data"]["project"]
    assert snap["status"] == "errored"


def test_push_swarm_models_after_no_workers(net: LocalSupernet, connect) -> None:
    ws = connect()
    net.faults.no_workers("flux1-schnell-fp8")
    net.push_swarm_models()
    t, d = ws.recv()
    assert t == "swarmModels" and "flux1-schnell-fp8" not in d and d


def test_socket_faults_scoped_to_app_id(net: LocalSupernet, connect) -> None:
    bystander = connect(app_id="bystander")
    target = connect(app_id="target")
    net.faults.close_after(0, 4010, app_id="target")
    net.faults.duplicate("toastMessage", app_id="target")
    net.toast("hi")
    assert bystander.recv()[1]["message"] == "hi"
    net.send("toastMessage", {"message": "second"}, app_id="bystander")
    assert bystander.recv()[1]["message"] == "second"
    with pytest.raises(Closed) as info:
        target.recv()
    assert info.value.code == 4010
