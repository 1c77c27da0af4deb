"""Authentication: wallet derivation, password login for real, tokens, redaction."""

from __future__ import annotations

import base64
import json
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from sogni_sync import Retries, SogniClient, Timeouts
from sogni_sync._auth import AuthManager, Wallet, derive_private_key, eip712_domain, jwt_expiry
from sogni_sync._auth._wallet import AUTHENTICATION_TYPES, SIGNUP_TYPES
from sogni_sync.errors import AuthenticationError, MissingDependencyError, SogniError
from sogni_sync.testing import LocalSupernet

ADDRESS = "0x1EaFAe6375931386791331EbDC9884600B5Cc651"


def jwt(**claims: Any) -> str:
    def part(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part(claims)}.sig"


def test_wallet_vectors() -> None:
    assert derive_private_key("ExampleUser", "correct horse").hex() == (
        "c7cbeb1f361122412e7d8eecfb9f79e0b11c2a9c49f5dbacb5aff6d98d98c3f7"
    )
    wallet = Wallet.from_credentials("ExampleUser", "correct horse")
    assert wallet.address == ADDRESS
    message = {"walletAddress": ADDRESS, "nonce": "example-nonce-123"}
    assert wallet.sign_typed_data(eip712_domain(), AUTHENTICATION_TYPES, message) == (
        "0x740fbe3db09ff73e4a189a064f45c7c0068587f5bf698fe6ba0cd8f9d056a68e125cec1037858a0fa7c8ad"
        "521eacfd1b0be423542802b9fb68162313a8703f401b"
    )
    assert wallet.sign_typed_data(eip712_domain(True), AUTHENTICATION_TYPES, message) == (
        "0x3c54fe32df76652dbbc58b7b3850f8d12787ab55dc33b95c6d2294cd70abd74747ffb7087d6598e0538c0e"
        "30b8946f0d5af2c193761234cca74aa403338229661c"
    )
    signup = {"appid": "example-app-id", "username": "ExampleUser", "email": "user@example.com",
              "subscribe": 0, **message}
    assert wallet.sign_typed_data(eip712_domain(), SIGNUP_TYPES, signup) == (
        "0xc29a85d939df9221d36aee41f237d0509437cdf1d31fe94565cc861854e1da18128b21bbb318023ac8e446"
        "72c61ad83cab5fdcb4fd0c6be52c1385453a64df2a1c"
    )
    assert "c7cbeb1f" not in repr(wallet)


def test_missing_eth_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "eth_account", None)
    client = SogniClient(app_id="x", rest_endpoint="http://127.0.0.1:9", disable_socket=True)
    try:
        with pytest.raises(MissingDependencyError) as info:
            client.account.login("u", "p")
        assert info.value.extra == "wallet" and info.value.package == "eth-account"
    finally:
        client.close()


def test_password_login_for_real(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client(anonymous=True)
    assert not client.is_authenticated
    result = client.account.login(sogni_supernet.username, sogni_supernet.password)
    assert result.token and result.refresh_token
    assert client.is_authenticated
    client.connect(timeout=5)
    assert client._transport.authenticated_payload["username"] == sogni_supernet.username
    assert client.account.me().username == sogni_supernet.username
    login = [c for c in sogni_supernet.rest_calls if c.path == "/v1/account/login"][-1]
    assert set(login.json) == {"walletAddress", "signature", "rememberMe"}
    assert login.json["signature"].startswith("0x") and len(login.json["signature"]) == 132
    me_call = [c for c in sogni_supernet.rest_calls if c.path == "/v1/account/me"][-1]
    assert me_call.status == 200


def test_wrong_password_is_rejected(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client(anonymous=True)
    with pytest.raises(AuthenticationError) as info:
        client.account.login(sogni_supernet.username, "not-the-password")
    assert "not-the-password" not in str(info.value) + repr(info.value)
    assert not client.is_authenticated


# The two signing domains as the protocol reference gives them (transport §3.4).
CONTRACT = "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
MAINNET = {"name": "Sogni AI", "version": "1", "chainId": 8453, "verifyingContract": CONTRACT}
TESTNET = {"name": "Sogni-testnet", "version": "1", "chainId": 84532,
           "verifyingContract": CONTRACT}


@pytest.fixture(scope="module")
def testnet_supernet() -> Iterator[LocalSupernet]:
    with LocalSupernet(step_delay=0, testnet=True) as net:
        yield net


def _anonymous(net: LocalSupernet, *, testnet: bool) -> SogniClient:
    return SogniClient(app_id=f"auth-{uuid.uuid4()}", rest_endpoint=net.rest_url,
                       socket_endpoint=net.socket_url, testnet=testnet)


def _signer(domain: dict[str, Any], types: dict[str, Any], message: dict[str, Any],
            signature: str) -> str:
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    signable = encode_typed_data(domain_data=domain, message_types=types, message_data=message)
    return str(Account.recover_message(signable, signature=signature))


def test_testnet_login_signs_for_the_testnet_domain(testnet_supernet: LocalSupernet,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    signed: list[tuple[dict[str, Any], dict[str, Any], str]] = []
    sign = Wallet.sign_typed_data

    def spy(wallet: Wallet, domain: Any, types: Any, message: Any) -> str:
        signature = sign(wallet, domain, types, message)
        signed.append((dict(domain), dict(message), signature))
        return signature

    monkeypatch.setattr(Wallet, "sign_typed_data", spy)
    net = testnet_supernet
    with _anonymous(net, testnet=True) as client:
        client.account.login(net.username, net.password)
        assert client.is_authenticated
        client.connect(timeout=5)
        assert client.account.me().username == net.username
    [(domain, message, signature)] = signed
    assert domain == TESTNET
    login = [c for c in net.rest_calls if c.path == "/v1/account/login"][-1]
    assert login.json["signature"] == signature
    address = login.json["walletAddress"]
    assert _signer(TESTNET, AUTHENTICATION_TYPES, message, signature) == address
    assert _signer(MAINNET, AUTHENTICATION_TYPES, message, signature) != address


@pytest.mark.parametrize("client_testnet", [False, True], ids=["mainnet-client", "testnet-client"])
def test_login_for_the_other_network_is_refused(client_testnet: bool, sogni_supernet: Any,
                                                testnet_supernet: LocalSupernet) -> None:
    net = sogni_supernet if client_testnet else testnet_supernet  # the other network's server
    with _anonymous(net, testnet=client_testnet) as client:
        with pytest.raises(AuthenticationError, match="Invalid signature"):
            client.account.login(net.username, net.password)
        assert not client.is_authenticated


def test_testnet_signup_is_checked_against_the_testnet_domain(
        testnet_supernet: LocalSupernet, sogni_supernet: Any) -> None:
    name = f"net-{uuid.uuid4().hex[:8]}"
    with _anonymous(testnet_supernet, testnet=True) as client:
        assert client.account.create(name, f"{name}@example.com", "pw-123456").token
    with _anonymous(sogni_supernet, testnet=True) as client, \
            pytest.raises(AuthenticationError, match="Invalid signature"):
        client.account.create(name, f"{name}@example.com", "pw-123456")


def test_set_tokens_resumes_and_logout(make_client: Any, sogni_supernet: Any) -> None:
    first = make_client(anonymous=True)
    tokens = first.account.login(sogni_supernet.username, sogni_supernet.password)
    second = make_client(anonymous=True)
    second.set_tokens(token=tokens.token, refresh_token=tokens.refresh_token)
    second.connect(timeout=5)
    assert second.account.me().username == sogni_supernet.username
    assert second.account.current_account.wallet_address
    second.account.logout()
    assert not second.is_authenticated
    assert second.account.current_account.wallet_address is None
    assert not second._transport.is_ready
    with pytest.raises(AuthenticationError):
        second.account.me()


def test_expired_access_token_is_refreshed(make_client: Any, sogni_supernet: Any) -> None:
    first = make_client(anonymous=True)
    tokens = first.account.login(sogni_supernet.username, sogni_supernet.password)
    client = make_client(anonymous=True)
    stale = jwt(exp=time.time() - 5, iat=time.time() - 100)
    client.set_tokens(token=stale, refresh_token=tokens.refresh_token)
    assert client.tokens[0] != stale
    assert any(c.path == "/v1/account/refresh-token" for c in sogni_supernet.rest_calls)
    client.connect(timeout=5)


def test_account_create(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client(anonymous=True)
    name = f"new-{uuid.uuid4().hex[:8]}"
    result = client.account.create(name, f"{name}@example.com", "pw-123456", subscribe=True)
    assert result.token and client.is_authenticated
    client.connect(timeout=5)
    assert client.account.me().username.lower() == name
    check = client.account.validate_username(name)
    assert check.available is False and check.error_code == 108
    assert client.account.validate_username(f"free-{uuid.uuid4().hex[:8]}").available


@responses.activate
def test_refresh_before_expiry_and_single_flight() -> None:
    from sogni_sync._config import resolve_options
    from sogni_sync._transport.rest import RestClient

    rest = RestClient(resolve_options(app_id="x", rest_endpoint="https://r.example"))
    auth = AuthManager(rest)
    rest.credentials = auth
    fresh = jwt(exp=time.time() + 3600, iat=time.time())
    responses.post("https://r.example/v1/account/refresh-token",
                   json={"data": {"token": fresh, "refreshToken": "r2." + fresh}})
    responses.get("https://r.example/v1/account/me", json={"data": {"username": "u"}})
    soon = jwt(exp=time.time() + 30, iat=time.time() - 3570)  # inside the 60 s margin
    auth.set_tokens(soon, jwt(exp=time.time() + 86400))
    assert rest.get("/v1/account/me") == {"username": "u"}
    assert rest.get("/v1/account/me") == {"username": "u"}
    assert [str(c.request.url).rsplit("/", 1)[-1] for c in responses.calls] == [
        "refresh-token", "me", "me"]
    assert responses.calls[1].request.headers["Authorization"] == fresh
    assert "Authorization" not in responses.calls[0].request.headers
    assert auth.tokens[1] == "r2." + fresh
    assert jwt_expiry(fresh) is not None
    assert "r2." not in repr(auth)


@responses.activate
def test_expired_refresh_token_fails_without_network() -> None:
    from sogni_sync._config import resolve_options
    from sogni_sync._transport.rest import RestClient

    rest = RestClient(resolve_options(app_id="x", rest_endpoint="https://r.example"))
    auth = AuthManager(rest)
    auth.set_tokens(None, jwt(exp=time.time() - 1))
    with pytest.raises(AuthenticationError, match="Refresh token expired"):
        auth.rest_headers()
    assert len(responses.calls) == 0
    assert auth.mode == "none"


def test_credentials_never_logged(
    make_client: Any, sogni_supernet: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api_client = make_client()
    api_client.connect(timeout=5)
    api_client.account.me()
    api_client._transport._socket.drop()
    api_client.account.switch_network("relaxed", timeout=5)  # reconnects with the key
    client = make_client(anonymous=True)
    result = client.account.login(sogni_supernet.username, sogni_supernet.password)
    client.connect(timeout=5)
    client._auth.refresh()
    client.account.me()
    with pytest.raises(AuthenticationError):
        make_client(anonymous=True).account.login(sogni_supernet.username, "wrong-pass-xyz")
    token, refresh = client.tokens
    proxied = make_client(proxy="http://puser:proxy-pw-xyz@127.0.0.1:1", disable_socket=True,
                          retries=Retries(attempts=1), timeouts=Timeouts(request=2))
    with pytest.raises(SogniError) as proxy_failure:  # nothing listens on port 1
        proxied.account.me()
    secrets = [
        "proxy-pw-xyz",
        sogni_supernet.api_key,
        sogni_supernet.password,
        "wrong-pass-xyz",
        result.token,
        result.refresh_token,
        token,
        refresh,
        derive_private_key(sogni_supernet.username, sogni_supernet.password).hex(),
    ]
    text = caplog.text + "".join(repr(x) for x in (client, api_client, result, client.options,
                                                    client._auth, client._transport.rest,
                                                    proxied, proxied.options,
                                                    proxy_failure.value))
    text += str(proxy_failure.value) + repr(proxy_failure.value.__cause__)
    assert "sogni_sync" in caplog.text  # DEBUG really was captured
    for secret in secrets:
        assert secret and secret not in text


def test_rejected_refresh_logs_out(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client(anonymous=True)
    stale = jwt(exp=time.time() - 5, iat=time.time() - 100)
    with pytest.raises(AuthenticationError):
        client.set_tokens(token=stale, refresh_token=jwt(exp=time.time() + 999, type="refresh"))
    assert not client.is_authenticated


def test_socket_reconnect_with_dead_session_fails_waiters(
    make_client: Any, sogni_supernet: Any
) -> None:
    first = make_client(anonymous=True)
    tokens = first.account.login(sogni_supernet.username, sogni_supernet.password)
    client = make_client(anonymous=True)
    client.set_tokens(token=tokens.token, refresh_token=tokens.refresh_token)
    client.connect(timeout=5)
    # The access token expires and the refresh token is revoked server-side (used elsewhere).
    first._auth.refresh()  # rotates: tokens.refresh_token is now invalid on the server
    with client._auth._lock:
        client._auth._token_exp = time.time() - 1
    client._transport._socket.drop()
    with pytest.raises(AuthenticationError):
        client._transport.send("changeNetwork", "fast", timeout=5)
    assert not client.is_authenticated
