"""REST host and socket-host HTTP routes: auth, account, catalogue, estimates, storage."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from eth_account import Account as EthAccount
from eth_account.messages import encode_typed_data

from sogni_sync.testing import LocalSupernet
from sogni_sync.testing._auth import AUTH_TYPES, DOMAINS, SIGNUP_TYPES, private_key, wallet_address

from .helpers import api, job_request, run_project


def _login(net: LocalSupernet, username: str, password: str, domain: int = 0) -> requests.Response:
    address = wallet_address(username, password)
    nonce = api(net, "/v1/account/nonce", "POST", auth=False,
                json={"walletAddress": address}).json()["data"]["nonce"]
    msg = encode_typed_data(domain_data=DOMAINS[domain], message_types=AUTH_TYPES,
                            message_data={"walletAddress": address, "nonce": nonce})
    sig = EthAccount.from_key(private_key(username, password)).sign_message(msg)
    return api(net, "/v1/account/login", "POST", auth=False, json={
        "walletAddress": address, "signature": "0x" + sig.signature.hex(), "rememberMe": False})


def test_wallet_derivation_vector() -> None:
    assert wallet_address("ExampleUser", "correct horse") == \
        "0x1EaFAe6375931386791331EbDC9884600B5Cc651"


def test_auth_required_json_401(net: LocalSupernet) -> None:
    r = api(net, "/v1/account/me", auth=False)
    assert r.status_code == 401 and r.json()["status"] == "error"
    assert api(net, "/api/v1/models/list", auth=False).status_code == 401


def test_unknown_route_is_json_404(net: LocalSupernet) -> None:
    r = api(net, "/v9/nothing")
    assert r.status_code == 404 and r.json()["status"] == "error"


@pytest.fixture(params=[0, 1], ids=["mainnet", "testnet"])
def domain(net: LocalSupernet, request: pytest.FixtureRequest) -> Iterator[int]:
    """The emulator set to one network; the index of that network's EIP-712 domain."""
    net.options.testnet = bool(request.param)
    try:
        yield int(request.param)
    finally:
        net.options.testnet = False


def test_login_for_the_other_networks_domain_is_refused(net: LocalSupernet, domain: int) -> None:
    r = _login(net, net.username, net.password, 1 - domain)
    assert r.status_code == 401 and r.json()["errorCode"] == 102
    assert _login(net, net.username, net.password, domain).status_code == 200


def test_login_refresh_logout(net: LocalSupernet, domain: int) -> None:
    r = _login(net, net.username, net.password, domain)
    data = r.json()["data"]
    assert r.status_code == 200 and data["username"] == net.username
    assert len(data["token"].split(".")) == 3
    me = requests.get(net.rest_url + "/v1/account/me", timeout=5,
                      headers={"Authorization": data["token"]}).json()["data"]
    assert me["walletAddress"] == net.address
    new = api(net, "/v1/account/refresh-token", "POST", auth=False,
              json={"refreshToken": data["refreshToken"]}).json()["data"]
    assert new["token"] != data["token"]
    again = api(net, "/v1/account/refresh-token", "POST", auth=False,
                json={"refreshToken": data["refreshToken"]})
    assert again.status_code == 401  # rotated
    out = requests.post(net.rest_url + "/v1/account/logout", json={}, timeout=5,
                        headers={"Authorization": new["token"]})
    assert out.status_code == 200
    assert requests.get(net.rest_url + "/v1/account/me", timeout=5,
                        headers={"Authorization": new["token"]}).status_code == 401


def test_wrong_password_rejected(net: LocalSupernet) -> None:
    r = _login(net, net.username, "wrong")
    assert r.status_code == 401 and r.json() == {
        "status": "error", "message": "Invalid username or password", "errorCode": 102}


def test_forged_signature_rejected(net: LocalSupernet) -> None:
    address = net.address
    api(net, "/v1/account/nonce", "POST", auth=False, json={"walletAddress": address})
    msg = encode_typed_data(domain_data=DOMAINS[0], message_types=AUTH_TYPES,
                            message_data={"walletAddress": address, "nonce": "other"})
    sig = EthAccount.from_key(private_key(net.username, net.password)).sign_message(msg)
    r = api(net, "/v1/account/login", "POST", auth=False,
            json={"walletAddress": address, "signature": "0x" + sig.signature.hex()})
    assert r.status_code == 401 and r.json()["errorCode"] == 102


def test_expired_token_rejected(net: LocalSupernet) -> None:
    token = _login(net, net.username, net.password).json()["data"]["token"]
    net.expire_tokens()
    assert requests.get(net.rest_url + "/v1/account/me", headers={"Authorization": token},
                        timeout=5).status_code == 401


def test_account_create_and_validate(net: LocalSupernet) -> None:
    name = f"user{uuid.uuid4().hex[:8]}"
    assert api(net, "/v1/account/username/validate", "POST", auth=False,
               json={"username": name}).status_code == 200
    taken = api(net, "/v1/account/username/validate", "POST", auth=False,
                json={"username": net.username})
    assert taken.status_code == 400 and taken.json()["errorCode"] == 108
    address = wallet_address(name, "pw")
    nonce = api(net, "/v1/account/nonce", "POST", auth=False,
                json={"walletAddress": address}).json()["data"]["nonce"]
    message = {"appid": "app", "username": name, "email": "a@b.c", "subscribe": 0,
               "walletAddress": address, "nonce": nonce}
    sig = EthAccount.from_key(private_key(name, "pw")).sign_message(encode_typed_data(
        domain_data=DOMAINS[0], message_types=SIGNUP_TYPES, message_data=message))
    r = api(net, "/v1/account/create", "POST", auth=False, json={
        **message, "turnstileToken": "x", "signature": "0x" + sig.signature.hex(),
        "rememberMe": False})
    assert r.status_code == 200 and "refreshToken" in r.json()["data"]
    assert _login(net, name, "pw").status_code == 200


def test_balances_and_transactions(net: LocalSupernet, connect) -> None:
    full = api(net, "/v4/account/balance").json()["data"]
    assert set(full["spark"]) == {"settled", "credit", "debit", "net", "relaxedUnclaimed",
                                  "fastUnclaimed", "premiumCredit"}
    ws = connect()
    run_project(ws, job_request(count=2))
    ws.until(lambda t, d: t == "balanceUpdate" and d["spark"]["debit"] == "0")
    after = api(net, "/v4/account/balance").json()["data"]
    assert float(after["spark"]["net"]) < float(full["spark"]["net"])
    wallet = api(net, "/v2/wallet/balance", params={"walletAddress": net.address,
                                                    "provider": "base"}).json()["data"]
    assert set(wallet) == {"sogni", "spark", "ether"}
    tx = api(net, "/v1/transactions/list", params={"status": "completed", "limit": 10}).json()
    assert tx["data"]["transactions"][0]["source"] == "project"


def test_rewards_and_claim(net: LocalSupernet) -> None:
    rewards = api(net, "/v4/account/rewards").json()["data"]["rewards"]
    assert {r["id"] for r in rewards} >= {"welcome"}
    assert api(net, "/v3/account/reward/claim", "POST",
               json={"claims": ["welcome"], "provider": "base"}).status_code == 200
    again = api(net, "/v3/account/reward/claim", "POST", json={"claims": ["welcome"]})
    assert again.status_code == 400


def test_leaderboard(net: LocalSupernet) -> None:
    rows = api(net, "/v1/leaderboard/", params={"type": "jobCompleteArtist",
                                                "period": "day"}).json()["data"]
    assert rows[0]["rank"] == 1 and "username" in rows[0]
    assert api(net, "/v1/leaderboard/", params={"type": "bad", "period": "day"}).status_code == 400


def test_misc_routes_answer_json(net: LocalSupernet) -> None:
    assert api(net, "/v1/subscriptions/status").json()["status"] == "success"
    cap = api(net, "/v1/assets/capabilities")
    assert cap.status_code == 404 and cap.json()["status"] == "error"
    assert api(net, "/v1/projects/UNKNOWN").status_code == 404
    assert api(net, "/v2/projects/UNKNOWN").status_code == 404


def test_catalogue_routes(net: LocalSupernet) -> None:
    models = api(net, "/api/v1/models/list").json()
    assert any(m["id"] == "flux1-schnell-fp8" for m in models)
    tiers = api(net, "/api/v2/models/tiers").json()
    assert "flux-schnell" in tiers
    presets = api(net, "/api/v1/size-presets/network/fast/model/flux1-schnell-fp8").json()
    assert presets and all(p["width"] > 0 for p in presets)
    assert api(net, "/api/v1/size-presets/network/fast/model/nope").status_code == 404
    status = api(net, "/api/v1/status/network/fast/models").json()
    assert status["201"] > 0


def test_estimates(net: LocalSupernet) -> None:
    def cost(path: str) -> float:
        body = api(net, path).json()
        return float(body["quote"]["project"]["costInToken"])

    two = cost("/api/v2/job/estimate/spark/fast/flux1-schnell-fp8/2/4/0/0/0/1024/1024")
    four = cost("/api/v3/job/estimate/spark/fast/flux1-schnell-fp8/4/4/0/0/0/1024/1024/1/euler/0")
    assert 0 < two < four
    wan = "wan_v2.2-14b-fp8_t2v_lightx2v"
    assert cost(f"/api/v1/job-video/estimate/spark/{wan}/512/512/81/16/4/1") > 0
    assert cost(f"/api/v1/job-video/estimate/undefined/{wan}/512/512/81/16") > 0
    assert cost("/api/v1/job-audio/estimate/spark/ace_step_1.5_turbo/10/8/1") > 0
    llm = api(net, "/api/v1/job-llm/estimate/sogni/qwen3.6-35b-a3b-gguf-iq4xs/9/64").json()
    assert llm["quote"]["costInToken"] > 0 and llm["quote"]["inputTokens"] == 9
    assert api(net, "/api/v2/job/estimate/spark/fast/nope/1/4/0/0/0/0/0").status_code == 404
    assert api(net, "/api/v2/job/estimate/spark/fast/flux1-schnell-fp8/x/4/0/0/0/0/0"
               ).status_code == 400


def test_upload_put_and_download(net: LocalSupernet) -> None:
    pid = str(uuid.uuid4()).upper()
    up = api(net, "/v1/image/uploadUrl", params={"imageId": "I1", "jobId": pid,
                                                 "type": "startingImage",
                                                 "contentType": "image/png"}).json()
    url = up["data"]["uploadUrl"]
    bad = requests.put(url, data=b"x", headers={"Content-Type": "image/jpeg"}, timeout=5)
    assert bad.status_code == 403
    assert requests.put(url, data=b"\x89PNG....", headers={"Content-Type": "image/png"},
                        timeout=5).status_code == 200
    assert requests.put(url + "x", data=b"", timeout=5).status_code == 403
    dl = api(net, "/v1/image/downloadUrl", params={"jobId": pid, "imageId": "I1",
                                                   "type": "startingImage"}).json()
    got = requests.get(dl["data"]["downloadUrl"], timeout=5)
    assert got.content == b"\x89PNG...." and got.headers["Content-Type"] == "image/png"
    media = api(net, "/v1/media/uploadUrl", params={"jobId": pid, "type": "referenceAudio",
                                                    "contentType": "undefined"}).json()
    assert requests.put(media["data"]["uploadUrl"], data=b"abc", timeout=5).status_code == 200
    assert api(net, "/v1/media/uploadUrl", params={"jobId": pid, "type": "bogus"}
               ).status_code == 400
    assert api(net, "/v1/image/downloadUrl", params={"jobId": pid, "imageId": "zz",
                                                     "type": "complete"}).status_code == 404


def _stored(net: LocalSupernet, key: str) -> bytes | None:
    item = net.call(lambda s: s.storage.get(key))
    return None if item is None else item[0]


def test_upload_types_of_the_current_clients(net: LocalSupernet) -> None:
    pid = str(uuid.uuid4()).upper()
    mask = api(net, "/v1/image/uploadUrl", params={"imageId": "M1", "jobId": pid,
                                                   "type": "referenceMask",
                                                   "contentType": "image/png"})
    assert mask.status_code == 200  # GPT Image masks and LTX inpaint masks
    assert requests.put(mask.json()["data"]["uploadUrl"], data=b"mask", timeout=5,
                        headers={"Content-Type": "image/png"}).status_code == 200
    assert _stored(net, f"uploads/{pid}/referenceMask") == b"mask"
    # numbered media slots: the Python client's type=referenceVideo1 (no id) and the JS
    # client's type=referenceVideo&id=referenceVideo2 land in their numbered slot
    for params, slot in (({"type": "referenceVideo1"}, "referenceVideo1"),
                         ({"type": "referenceVideo", "id": "referenceVideo2"}, "referenceVideo2"),
                         ({"type": "referenceAudio3"}, "referenceAudio3")):
        up = api(net, "/v1/media/uploadUrl", params={"jobId": pid, **params})
        assert up.status_code == 200, params
        assert requests.put(up.json()["data"]["uploadUrl"], data=slot.encode(),
                            timeout=5).status_code == 200
        assert _stored(net, f"uploads/{pid}/{slot}") == slot.encode()
    for params in ({"type": "referenceVideo4"}, {"type": "referenceVideo", "id": "referenceAudio1"},
                   {"type": "referenceAudio", "id": "x"}):
        assert api(net, "/v1/media/uploadUrl", params={"jobId": pid, **params}
                   ).status_code == 400, params


def test_signed_urls_expire() -> None:
    with LocalSupernet(url_ttl=-1) as net:
        pid = "P1"
        net.call(lambda s: s.storage.put(f"results/{pid}/J/complete", b"x", "image/png"))
        dl = api(net, "/v1/image/downloadUrl", params={"jobId": pid, "imageId": "J",
                                                       "type": "complete"}).json()
        assert requests.get(dl["data"]["downloadUrl"], timeout=5).status_code == 403


def test_rest_calls_recorded_and_redacted(net: LocalSupernet) -> None:
    api(net, "/v1/account/me")
    call = net.rest_calls[-1]
    assert (call.method, call.path, call.status, call.host) == ("GET", "/v1/account/me", 200,
                                                                "rest")
    assert call.headers["api-key"] == "<redacted>"
    api(net, "/v1/account/nonce", "POST", auth=False, json={"walletAddress": net.address})
    assert net.rest_calls[-1].json == {"walletAddress": net.address}


def test_logout_requires_auth(net: LocalSupernet) -> None:
    r = api(net, "/v1/account/logout", "POST", auth=False, json={})
    assert r.status_code == 401 and r.json()["status"] == "error"


def test_nonce_and_login_validate_body(net: LocalSupernet) -> None:
    assert api(net, "/v1/account/nonce", "POST", auth=False, json={}).status_code == 400
    assert api(net, "/v1/account/login", "POST", auth=False, data="nope").status_code == 400


def test_known_addresses_are_the_derived_ones() -> None:
    """The start-up shortcut for the default account: each address is what eth-account derives."""
    from sogni_sync.testing._auth import KNOWN_ADDRESSES

    assert KNOWN_ADDRESSES
    for (username, password), address in KNOWN_ADDRESSES.items():
        assert EthAccount.from_key(private_key(username, password)).address == address
