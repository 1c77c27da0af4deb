"""Account and stats APIs against the emulator (and ``responses`` for the wallet moves)."""

from __future__ import annotations

import threading
import time
from typing import Any

import attrs
import pytest
import responses

from sogni_sync._client import SogniClient, normalize_subscription_update
from sogni_sync._transport.envelope import encode_frame
from sogni_sync.account import Balances, CurrentAccount, LeaderboardEntry, Reward
from sogni_sync.errors import ApiError, UnexpectedResponseError, ValidationError


def test_me_and_balances(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client()
    me = client.account.me()
    assert me.username == sogni_supernet.username and me.wallet_address
    assert attrs.has(type(me))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        me.username = "x"
    balance = client.account.refresh_balance()
    assert isinstance(balance, Balances) and balance.sogni.net
    assert client.account.current_account.balance == balance
    assert client.account.account_balance() == balance
    wallet = client.account.wallet_balance()
    assert wallet.sogni == balance.sogni.net or wallet.sogni


def test_current_account_follows_socket(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client()
    updated = threading.Event()
    snapshots: list[CurrentAccount] = []

    def on_update(snapshot: CurrentAccount) -> None:
        snapshots.append(snapshot)
        if snapshot.balance.sogni.net != "0" and snapshot.network_status == "connected":
            updated.set()

    client.account.on_update(on_update)
    client.connect(timeout=5)
    assert updated.wait(5)
    current = client.account.current_account
    assert current.network == "fast" and current.username == sogni_supernet.username
    assert current.is_authenticated
    assert client.account.switch_network("relaxed", timeout=5) == "relaxed"
    assert client.account.current_account.network == "relaxed"
    assert client.network == "relaxed"
    assert sogni_supernet.received("changeNetwork")[-1] == "relaxed"
    assert "forceWorkerId=&" in client._transport.socket_url() + "&"


def test_history_rewards_and_claim(make_client: Any) -> None:
    client = make_client()
    client.account.me()
    page = client.account.transaction_history(limit=5)
    assert isinstance(page.entries, tuple)
    rewards = client.account.rewards()
    assert rewards and all(isinstance(r, Reward) for r in rewards)
    claimable = [r for r in rewards if r.can_claim]
    if claimable:
        client.account.claim_rewards([claimable[0].id])
        again = {r.id: r for r in client.account.rewards()}[claimable[0].id]
        assert again.claimed and again.last_claim is not None
    with pytest.raises(ValidationError):
        client.account.claim_rewards("not-a-list")


def test_leaderboard(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client(disable_socket=True)
    rows = client.stats.leaderboard("jobCompleteArtist", "lifetime", limit=5)
    assert rows and isinstance(rows[0], LeaderboardEntry) and rows[0].rank == 1
    calls = [c for c in sogni_supernet.rest_calls if c.path == "/v1/leaderboard/"]
    assert calls[0].query == {"type": "jobCompleteArtist", "period": "lifetime", "limit": "5"}
    with pytest.raises(ValidationError):
        client.stats.leaderboard("nope")
    assert len([c for c in sogni_supernet.rest_calls if c.path == "/v1/leaderboard/"]) == 1


def test_validation_before_io(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client(disable_socket=True, anonymous=True)
    with pytest.raises(ValidationError):
        client.account.switch_network("slow")
    with pytest.raises(ValidationError):
        client.account.wallet_balance("0xabc", provider="moon")
    with pytest.raises(ValidationError):
        SogniClient(app_id="x", network="medium")
    assert sogni_supernet.rest_calls == []


def test_subscription_normalisation() -> None:
    assert normalize_subscription_update({"modelAvailability": False}) == {
        "subscriptions": {"modelAvailability": False}}
    assert normalize_subscription_update({"subscribe": "swarmModels"}) == {
        "subscribe": "swarmModels"}
    assert normalize_subscription_update({"reset": True, "subscriptions": {"x": True, "y": "no"}}
                                         ) == {"reset": True, "subscriptions": {"x": True}}
    assert normalize_subscription_update({}) == {}
    assert normalize_subscription_update({"swarmModels": None}) == {}
    assert normalize_subscription_update({"modelAvailability": False, "reset": True}) == {
        "modelAvailability": False, "reset": True}
    assert normalize_subscription_update(None) == {}


REST = "https://rest.example"
PERMIT = {"domain": {"name": "Sogni AI", "version": "1", "chainId": 8453,
                     "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
          "types": {"Permit": [{"name": "owner", "type": "address"},
                               {"name": "deadline", "type": "uint256"}]},
          "message": {"owner": "0x1EaFAe6375931386791331EbDC9884600B5Cc651", "deadline": 99}}


ME = {"data": {"username": "ExampleUser",
              "walletAddress": "0x1EaFAe6375931386791331EbDC9884600B5Cc651"}}


def _signed_in(monkeypatch: pytest.MonkeyPatch) -> SogniClient:
    client = SogniClient(app_id="x", rest_endpoint=REST, disable_socket=True)
    client.set_api_key("k")
    client.account.me()
    monkeypatch.setattr(client._transport.rest, "_sleep", lambda s: None)
    return client


@responses.activate
def test_withdraw_signs_server_permit(monkeypatch: pytest.MonkeyPatch) -> None:
    responses.get(REST + "/v1/account/me", json=ME)
    responses.post(REST + "/v1/account/token/withdraw/permit", json={"data": PERMIT})
    responses.post(REST + "/v2/account/token/withdraw", json={"data": None})
    client = _signed_in(monkeypatch)
    try:
        with pytest.raises(ValidationError, match="Incorrect password"):
            client.account.withdraw("wrong", 1)
        assert not [c for c in responses.calls if "withdraw" in str(c.request.url)]  # nothing sent
        client.account.withdraw("correct horse", "1.5")
        import json

        body = json.loads(responses.calls[-1].request.body or "")
        assert body["amount"] == "1500000000000000000" and body["provider"] == "base"
        assert body["signature"].startswith("0x")
    finally:
        client.close()


@responses.activate
def test_deposit_approves_on_insufficient_allowance(monkeypatch: pytest.MonkeyPatch) -> None:
    responses.get(REST + "/v1/account/me", json=ME)
    responses.post(REST + "/v3/account/token/deposit", status=400,
                   json={"status": "error", "message": "allowance", "errorCode": 149})
    responses.post(REST + "/v1/contract/token/approve/permit", json={"data": PERMIT})
    responses.post(REST + "/v1/contract/token/approve", json={"data": None})
    responses.post(REST + "/v3/account/token/deposit", json={"data": None})
    client = _signed_in(monkeypatch)
    monkeypatch.setattr(client._transport.closing, "wait", lambda t=None: False)
    try:
        client.account.deposit("correct horse", 2)
        paths = [str(c.request.url).replace(REST, "") for c in responses.calls
                 if "account/me" not in str(c.request.url)]
        assert paths == ["/v3/account/token/deposit", "/v1/contract/token/approve/permit",
                         "/v1/contract/token/approve", "/v3/account/token/deposit"]
        import json

        approve = json.loads(responses.calls[-2].request.body or "")
        assert approve["deadline"] == 99 and approve["spender"] == "account"
    finally:
        client.close()


def test_env_defaults(monkeypatch: pytest.MonkeyPatch, sogni_supernet: Any) -> None:
    monkeypatch.setenv("SOGNI_API_KEY", sogni_supernet.api_key)
    monkeypatch.setenv("SOGNI_APP_ID", "env-app-id-1")
    monkeypatch.setenv("SOGNI_REST_ENDPOINT", sogni_supernet.rest_url)
    monkeypatch.setenv("SOGNI_SOCKET_ENDPOINT", sogni_supernet.socket_url)
    started = time.monotonic()
    with SogniClient() as client:
        assert client.app_id == "env-app-id-1"
        client.connect(timeout=5)
        assert client.account.me().username == sogni_supernet.username
    assert time.monotonic() - started < 5
    monkeypatch.delenv("SOGNI_APP_ID")
    a = SogniClient(disable_socket=True, api_key="")
    b = SogniClient(disable_socket=True, api_key="")
    try:
        assert a.app_id != b.app_id
        assert a.options.rest_endpoint == sogni_supernet.rest_url
    finally:
        a.close()
        b.close()


def test_defaults_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SOGNI_API_KEY", "SOGNI_APP_ID", "SOGNI_REST_ENDPOINT", "SOGNI_SOCKET_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    with SogniClient() as client:
        assert client.options.rest_endpoint == "https://api.sogni.ai"
        assert client.options.socket_endpoint == "wss://socket.sogni.ai"
        assert client._transport.socket_thread is None  # no key: nothing connects
        assert "api_key" not in repr(client)


def test_emulator_429_is_retried_post_is_not(make_client: Any, sogni_supernet: Any) -> None:
    from sogni_sync.errors import ServerError

    client = make_client(disable_socket=True)
    sogni_supernet.faults.rest_error("/v4/account/balance", status=429, retry_after=0.05)
    started = time.monotonic()
    assert client.account.account_balance().sogni.net
    assert time.monotonic() - started >= 0.04
    calls = [c for c in sogni_supernet.rest_calls if c.path == "/v4/account/balance"]
    assert [c.status for c in calls] == [429, 200]
    sogni_supernet.faults.rest_error("/v1/account/username/validate", status=503)
    with pytest.raises(ServerError):
        client.account.validate_username("someone")
    assert len([c for c in sogni_supernet.rest_calls
                if c.path == "/v1/account/username/validate"]) == 1


def test_concern_apis_are_lazy_and_cached(make_client: Any) -> None:
    client = make_client(disable_socket=True)
    assert client._lazy == {}
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(client.projects)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len({id(r) for r in results}) == 1
    assert type(client.projects).__name__ == "ProjectsApi"
    assert type(client.chat).__name__ == "ChatApi"
    assert type(client.creative_workflows).__name__ == "CreativeWorkflowsApi"
    assert client.chat is client.chat


def test_rest_from_many_threads(make_client: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client = make_client(disable_socket=True)
    with ThreadPoolExecutor(16) as pool:
        names = list(pool.map(lambda _: client.account.me().username, range(64)))
    assert len(set(names)) == 1 and names[0]


GOOD_TOKEN = {"settled": "1", "credit": "0", "debit": "0", "net": "1"}


@pytest.mark.parametrize("data", [
    {"balance": "5"}, [], None, "1000", {"sogni": {}, "spark": {}},
    {"sogni": GOOD_TOKEN}, {"sogni": GOOD_TOKEN, "spark": "0"},
    {"sogni": {**GOOD_TOKEN, "net": "lots"}, "spark": GOOD_TOKEN},
])
@responses.activate
def test_a_balance_of_the_wrong_shape_raises_instead_of_zeros(data: Any) -> None:
    responses.get(REST + "/v4/account/balance", json={"status": "success", "data": data})
    client = SogniClient(app_id="x", rest_endpoint=REST, disable_socket=True)
    try:
        with pytest.raises(UnexpectedResponseError, match="/v4/account/balance") as info:
            client.account.account_balance()
        assert isinstance(info.value, ApiError) and info.value.path == "/v4/account/balance"
    finally:
        client.close()


@responses.activate
def test_other_malformed_answers_raise_unexpected_response() -> None:
    responses.get(REST + "/v1/account/me", json={"data": ["not", "an", "object"]})
    responses.get(REST + "/v2/wallet/balance", json={"data": {"unrelated": 1}})
    responses.get(REST + "/v1/transactions/list", json={"data": {"next": 0}})
    responses.get(REST + "/v4/account/rewards", json={"data": {"rewards": "none"}})
    responses.get(REST + "/v1/leaderboard/", json={"data": {"rows": []}})
    client = SogniClient(app_id="x", rest_endpoint=REST, disable_socket=True)
    try:
        calls = [client.account.me,
                 lambda: client.account.wallet_balance("0xabc"),
                 lambda: client.account.transaction_history(address="0xabc"),
                 client.account.rewards,
                 lambda: client.stats.leaderboard("tokenVolume")]
        for call in calls:
            with pytest.raises(UnexpectedResponseError):
                call()
    finally:
        client.close()


def test_a_malformed_balance_update_is_ignored_not_applied() -> None:
    client = SogniClient(app_id="x", rest_endpoint=REST, disable_socket=True)
    try:
        good = {"sogni": GOOD_TOKEN, "spark": GOOD_TOKEN}
        client._transport.on_frames(0, [encode_frame("balanceUpdate", good).encode(),
                                       encode_frame("balanceUpdate", {"oops": 1}).encode()])
        assert client.account.current_account.balance.sogni.net == 1
    finally:
        client.close()
