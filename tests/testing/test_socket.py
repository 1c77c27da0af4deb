"""Socket handshake, event sequences, cancel, validation and reconnect recovery."""

from __future__ import annotations

import uuid

import pytest
import requests
import websocket

from sogni_sync.testing import LocalSupernet

from .helpers import Closed, api, job_request, run_project, wait_for


def test_handshake_order_and_content(net: LocalSupernet, connect) -> None:
    ws = connect(handshake=False)
    frames = ws.handshake()
    types = [t for t, _ in frames]
    assert types == ["authenticated", "balanceUpdate", "swarmModels", "swarmLLMModels"]
    auth = frames[0][1]
    assert auth["username"] == net.username and auth["address"] == net.address
    assert auth["activeProjects"] == [] and auth["unclaimedCompletedProjects"] == []
    assert frames[2][1]["flux1-schnell-fp8"] > 0
    assert "qwen3.6-35b-a3b-gguf-iq4xs" in frames[3][1]
    assert set(frames[1][1]) == {"sogni", "spark"}


def test_bad_api_key_closes_with_4021(net: LocalSupernet, connect) -> None:
    ws = connect(headers=["api-key: nope"], handshake=False)
    with pytest.raises(Closed) as info:
        ws.recv()
    assert info.value.code == 4021


def _login_token(net: LocalSupernet) -> str:
    """A JWT for the ready account, through nonce + EIP-712 signature + login."""
    from eth_account import Account as EthAccount
    from eth_account.messages import encode_typed_data

    from sogni_sync.testing._auth import AUTH_TYPES, DOMAINS, private_key

    nonce = api(net, "/v1/account/nonce", "POST", auth=False,
                json={"walletAddress": net.address}).json()["data"]["nonce"]
    msg = encode_typed_data(domain_data=DOMAINS[0], message_types=AUTH_TYPES,
                            message_data={"walletAddress": net.address, "nonce": nonce})
    sig = EthAccount.from_key(private_key(net.username, net.password)).sign_message(msg)
    token: str = api(net, "/v1/account/login", "POST", auth=False,
                     json={"walletAddress": net.address, "signature": "0x" + sig.signature.hex()}
                     ).json()["data"]["token"]
    return token


def test_token_auth_on_upgrade(net: LocalSupernet, connect) -> None:
    token = _login_token(net)
    ws = connect(headers=[f"Authorization: {token}"], handshake=False)
    assert ws.recv()[0] == "authenticated"


def test_same_app_id_takes_over_with_4015(net: LocalSupernet, connect) -> None:
    first = connect(app_id="dup-app")
    connect(app_id="dup-app")
    with pytest.raises(Closed) as info:
        while True:
            first.recv()
    assert info.value.code == 4015


def test_change_network(connect) -> None:
    ws = connect()
    ws.send("changeNetwork", "relaxed")
    frames = ws.until(lambda t, d: t == "swarmModels")
    assert ("changeNetwork", {"network": "relaxed"}) in frames


def test_subscriptions_are_honoured(net: LocalSupernet, connect) -> None:
    ws = connect()
    ws.send("setSocketEventSubscriptions", {"unsubscribe": "swarmModels"})
    t, d = ws.recv()
    assert t == "socketEventSubscriptionsUpdated"
    assert d == {"socketEventSubscriptions": {"swarmModels": False}}
    ws.send("changeNetwork", "fast")
    assert ws.recv() == ("changeNetwork", {"network": "fast"})
    net.toast("hello")
    assert ws.recv()[0] == "toastMessage"  # no swarmModels in between


def test_url_group_subscription(connect) -> None:
    ws = connect(handshake=False, socketEventSubscriptions='{"modelAvailability":false}')
    types = [ws.recv()[0] for _ in range(3)]
    assert types == ["authenticated", "balanceUpdate", "socketEventSubscriptionsUpdated"]


def test_image_project_sequence(net: LocalSupernet, connect) -> None:
    ws = connect()
    req = job_request(count=2, previews=2, seed=42)
    frames = run_project(ws, req)
    assert net.received("jobRequest") == [req]
    mine = [(t, d) for t, d in frames if d.get("jobID") == req["jobID"]]
    assert mine[0] == ("jobState", {"jobID": req["jobID"], "type": "queued", "queuePosition": 0,
                                    "queueStatus": "waiting",
                                    "estimatedStartSeconds": 0.0})
    results = [d for t, d in mine if t == "jobResult"]
    assert len({r["imgID"] for r in results}) == 2
    assert sorted(r["lastSeed"] for r in results) == ["42", "43"]
    for r in results:
        job = [(t, d.get("type"), d.get("step")) for t, d in mine if d.get("imgID") == r["imgID"]]
        assert job[:2] == [("jobState", "initiatingModel", None), ("jobState", "jobStarted", None)]
        assert [s for t, _, s in job if t == "jobProgress"] == [1, 2, 3, 4]
        assert job[-1][0] == "jobResult"
        previews = [d for t, d in mine if t == "jobProgress" and d["imgID"] == r["imgID"]
                    and d.get("hasImage")]
        assert [p["step"] for p in previews] == [2, 4]
        url = api(net, "/v1/image/downloadUrl", params={
            "jobId": req["jobID"], "imageId": r["imgID"], "type": "preview"}).json()
        assert requests.get(url["data"]["downloadUrl"], timeout=5).content[:4] == b"\x89PNG"
    assert mine[-1] == ("jobState", {"jobID": req["jobID"], "type": "jobCompleted"})
    balances = [d for t, d in frames if t == "balanceUpdate"]
    assert balances and float(balances[-1]["spark"]["net"]) < 1000


def test_video_sends_eta_and_mp4(net: LocalSupernet, connect) -> None:
    ws = connect()
    req = job_request(model="wan_v2.2-14b-fp8_t2v_lightx2v", width=512, height=512, frames=33,
                      fps=16)
    frames = run_project(ws, req)
    etas = [d for t, d in frames if t == "jobETA"]
    assert etas and all("imgID" in d and "etaSeconds" in d for d in etas)
    job = next(d for t, d in frames if t == "jobResult")
    url = api(net, "/v1/media/downloadUrl", params={"jobId": req["jobID"], "id": job["imgID"],
                                                    "type": "complete"}).json()
    body = requests.get(url["data"]["downloadUrl"], timeout=5)
    assert body.content[4:8] == b"ftyp" and body.headers["Content-Type"] == "video/mp4"


@pytest.mark.parametrize(("fmt", "magic"), [("mp3", b"\xff\xfb"), ("wav", b"RIFF")])
def test_audio_formats(net: LocalSupernet, connect, fmt: str, magic: bytes) -> None:
    ws = connect()
    req = job_request(model="ace_step_1.5_turbo", steps=8, duration=10)
    req["outputFormat"] = fmt
    frames = run_project(ws, req)
    job = next(d for t, d in frames if t == "jobResult")
    url = api(net, "/v1/media/downloadUrl", params={"jobId": req["jobID"], "id": job["imgID"],
                                                    "type": "complete"}).json()
    assert requests.get(url["data"]["downloadUrl"], timeout=5).content[:len(magic)] == magic


def test_jpeg_output(net: LocalSupernet, connect) -> None:
    ws = connect()
    req = job_request()
    req["outputFormat"] = "jpg"
    frames = run_project(ws, req)
    job = next(d for t, d in frames if t == "jobResult")
    url = api(net, "/v1/image/downloadUrl", params={"jobId": req["jobID"], "imageId": job["imgID"],
                                                    "type": "complete",
                                                    "contentType": "image/jpeg"}).json()
    got = requests.get(url["data"]["downloadUrl"], timeout=5)
    assert got.content[:3] == b"\xff\xd8\xff" and got.headers["Content-Type"] == "image/jpeg"


def test_cancel_confirms_and_cancels_jobs(net: LocalSupernet, connect) -> None:
    net.options.step_delay = 0.02
    ws = connect()
    req = job_request(count=3, steps=50)
    ws.send("jobRequest", req)
    ws.until(lambda t, d: t == "jobProgress")
    ws.send("jobError", {"jobID": req["jobID"], "error": "artistCanceled",
                         "error_message": "artistCanceled", "isFromWorker": False})
    frames = ws.until(lambda t, d: t == "artistCancelConfirmation")
    assert frames[-1][1] == {"jobID": req["jobID"], "didCancel": True, "error_message": ""}
    rest = ws.until(lambda t, d: t == "balanceUpdate")
    canceled = [d for t, d in rest if t == "jobResult"]
    assert len(canceled) == 3 and all(d["userCanceled"] for d in canceled)
    snap = api(net, f"/v1/projects/{req['jobID']}").json()["data"]["project"]
    assert snap["status"] == "cancelled"


def test_cancel_unknown_project(connect) -> None:
    ws = connect()
    ws.send("jobError", {"jobID": "NOPE", "error": "artistCanceled"})
    assert ws.recv() == ("artistCancelConfirmation", {
        "jobID": "NOPE", "didCancel": False, "error_message": "Project not found"})


def test_fail_marker(connect) -> None:
    ws = connect()
    req = job_request(count=2, prompt="x [[fail]]")
    ws.send("jobRequest", req)
    frames = ws.until(lambda t, d: t == "balanceUpdate" and d["spark"]["debit"] == "0")
    errors = [d for t, d in frames if t == "jobError"]
    assert len(errors) == 2
    assert all(e["error"] == 1001 and e["isFromWorker"] and e["imgID"] for e in errors)
    assert not any(t == "jobState" and d.get("type") == "jobCompleted" for t, d in frames)


@pytest.mark.parametrize(("change", "code"), [
    ({"model": "no-such-model"}, 4004),
    ({"width": 10}, 4005),
    ({"steps": 0}, 4005),
    ({"hasStartingImage": True}, 4006),
    ({"currentControlNetsJob": [{"name": "canny", "hasImage": True}]}, 4006),
    ({"hasContextImage2": True}, 4006),
    ({"model": "wan_v2.2-14b-fp8_t2v_lightx2v", "hasReferenceVideo": True}, 4006),
    ({"hasReferenceAudio": True}, 4007),
    ({"model": "ace_step_1.5_turbo", "hasStartingImage": True}, 4007),
])
def test_validation_errors(connect, change: dict, code: int) -> None:
    ws = connect()
    req = job_request(**change)
    ws.send("jobRequest", req)
    t, d = ws.recv()
    assert t == "jobError" and d["error"] == code and "imgID" not in d
    assert d["isFromWorker"] is False and d["error_message"]


def test_insufficient_balance(net: LocalSupernet, connect) -> None:
    net.set_balance("spark", 0)
    ws = connect()
    ws.send("jobRequest", job_request())
    _, d = ws.until(lambda t, d: t == "jobError")[-1]
    assert d["error"] == 123 and d["error_message"] == "Insufficient balance"


def test_duplicate_request_ignored(net: LocalSupernet, connect) -> None:
    ws = connect()
    req = job_request()
    run_project(ws, req)
    ws.send("jobRequest", req)
    net.toast("marker")
    frames = ws.until(lambda t, d: t == "toastMessage")
    assert [t for t, _ in frames] in (["toastMessage"], ["balanceUpdate", "toastMessage"])


def test_reconnect_recovers_active_and_unclaimed(net: LocalSupernet, connect) -> None:
    net.options.step_delay = 0.01
    app = f"rec-{uuid.uuid4()}"
    ws = connect(app_id=app)
    slow, fast = job_request(steps=60), job_request(steps=2)
    ws.send("jobRequest", slow)
    ws.send("jobRequest", fast)
    ws.until(lambda t, d: t == "jobProgress")
    ws.close()
    wait_for(lambda: app not in net.app_ids)
    wait_for(lambda: net.active_projects() == 1)
    again = connect(app_id=app, handshake=False)
    t, auth = again.recv()
    assert t == "authenticated"
    assert [p["id"] for p in auth["activeProjects"]] == [slow["jobID"]]
    done = auth["unclaimedCompletedProjects"]
    assert [p["id"] for p in done] == [fast["jobID"]]
    assert done[0]["completedWorkerJobs"][0]["resultUrl"].startswith("http://")
    again.until(lambda t, d: t == "jobState" and d.get("type") == "jobCompleted")
    third = connect(app_id=app, handshake=False)
    assert third.recv()[1]["unclaimedCompletedProjects"] == []  # delivered once


def test_project_snapshot_404_while_running(net: LocalSupernet, connect) -> None:
    net.options.step_delay = 0.01
    ws = connect()
    req = job_request(steps=30)
    ws.send("jobRequest", req)
    ws.until(lambda t, d: t == "jobProgress")
    assert api(net, f"/v1/projects/{req['jobID']}").status_code == 404
    v2 = api(net, f"/v2/projects/{req['jobID']}").json()["data"]["project"]
    assert v2["status"] in ("processing", "queued") and v2["finished"] is False
    active = api(net, "/api/v1/artist/projects/active").json()
    assert [p["id"] for p in active["projects"]] == [req["jobID"]]
    sync = api(net, "/api/v1/artist/projects/sync").json()
    assert sync["activeProjects"][0]["id"] == req["jobID"] and "serverTime" in sync
    ws.until(lambda t, d: t == "jobState" and d.get("type") == "jobCompleted")
    snap = api(net, f"/v1/projects/{req['jobID']}").json()["data"]["project"]
    assert snap["status"] == "completed" and snap["imageCount"] == 1
    job = snap["completedWorkerJobs"][0]
    assert job["status"] == "jobCompleted" and job["performedSteps"] == 30 and job["imgID"]


def test_workers_limit_queues(connect) -> None:
    with LocalSupernet(step_delay=0, workers=1) as small:
        import base64
        import json

        ws = websocket.create_connection(f"{small.socket_url}/?appId=w1",
                                         header=[f"api-key: {small.api_key}"], timeout=5)
        reqs = [job_request(count=2) for _ in range(3)]
        for req in reqs:
            ws.send(json.dumps({"type": "jobRequest", "data": base64.b64encode(
                json.dumps(req).encode()).decode()}))
        done = 0
        while done < 3:
            msg = json.loads(ws.recv())
            data = json.loads(base64.b64decode(msg["data"]))
            done += msg["type"] == "jobState" and data.get("type") == "jobCompleted"
        ws.close()
        assert len(small.sent("jobResult")) == 6


def test_expired_token_upgrade_closes_4021(net: LocalSupernet, connect) -> None:
    token = _login_token(net)
    net.expire_tokens()
    ws = connect(headers=[f"Authorization: {token}"], handshake=False)
    with pytest.raises(Closed) as info:
        ws.recv()
    assert info.value.code == 4021


def test_relaxed_network_from_url(net: LocalSupernet, connect) -> None:
    ws = connect(handshake=False, forceWorkerId="")
    swarm = ws.until(lambda t, d: t == "swarmModels")[-1][1]
    catalog = net.call(lambda s: s.catalog)
    assert swarm == catalog.swarm_models("relaxed")
    req = job_request()
    run_project(ws, req)
    snap = api(net, f"/v1/projects/{req['jobID']}").json()["data"]["project"]
    assert snap["network"] == "relaxed"


def test_old_finished_projects_are_forgotten() -> None:
    import base64
    import json

    with LocalSupernet(max_finished_projects=2) as small:
        ws = websocket.create_connection(f"{small.socket_url}/?appId=old",
                                         header=[f"api-key: {small.api_key}"], timeout=5)
        reqs = [job_request() for _ in range(3)]
        for req in reqs:
            ws.send(json.dumps({"type": "jobRequest", "data": base64.b64encode(
                json.dumps(req).encode()).decode()}))
            while True:  # settlement happens in the same step as jobCompleted
                msg = json.loads(ws.recv())
                data = json.loads(base64.b64decode(msg["data"]))
                if msg["type"] == "jobState" and data.get("type") == "jobCompleted":
                    break
        ws.close()
        codes = [api(small, f"/v1/projects/{r['jobID']}").status_code for r in reqs]
        assert codes == [404, 200, 200]
        assert small.call(lambda s: len(s.storage._objects)) == 2


@pytest.mark.parametrize("size", [10, 200, 70_000])
def test_frame_length_encodings(net: LocalSupernet, connect, size: int) -> None:
    ws = connect()
    net.send("toastMessage", {"message": "x" * size})
    assert ws.recv() == ("toastMessage", {"message": "x" * size})
