"""Accounts and authentication: wallet derivation, EIP-712 login, JWTs, API keys.

The emulator verifies logins for real: an account's address is derived from
``lowercase(username) + password`` exactly like the clients do (PBKDF2-HMAC-SHA256, salt
``sogni-salt-value``, 10 000 iterations, 32 bytes = secp256k1 key), and ``/v1/account/login``
recovers the signer of the ``Authentication {walletAddress, nonce}`` typed data with eth-account,
for the EIP-712 domain of the network emulated (mainnet ``Sogni AI``/8453, or testnet
``Sogni-testnet``/84532 with ``LocalSupernet(testnet=True)``), and compares it with the claimed
address and the nonce this emulator issued. A wrong password, or a signature for the other
network's domain, therefore yields another address and a 401.

Error answers (the server's ``{status: "error", message, errorCode}`` shape, codes are this
emulator's own where the protocol names none): 400/101 bad request body, 401/102 unknown
wallet or bad signature, 401/104 bad or expired refresh token, 400/108 username taken.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from decimal import Decimal
from typing import Any

from aiohttp import web

from sogni_sync.testing._state import Account, State, error, ok

__all__ = ["add_routes", "make_account", "mint_jwt", "wallet_address"]

VERIFYING_CONTRACT = "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
MAINNET_DOMAIN = {"name": "Sogni AI", "version": "1", "chainId": 8453,
                  "verifyingContract": VERIFYING_CONTRACT}
TESTNET_DOMAIN = {"name": "Sogni-testnet", "version": "1", "chainId": 84532,
                  "verifyingContract": VERIFYING_CONTRACT}
DOMAINS = [MAINNET_DOMAIN, TESTNET_DOMAIN]  # by ``int(testnet)``
AUTH_TYPES = {"Authentication": [{"name": "walletAddress", "type": "address"},
                                 {"name": "nonce", "type": "string"}]}
SIGNUP_TYPES = {"Signup": [
    {"name": "appid", "type": "string"}, {"name": "username", "type": "string"},
    {"name": "email", "type": "string"}, {"name": "subscribe", "type": "uint256"},
    {"name": "walletAddress", "type": "address"}, {"name": "nonce", "type": "string"}]}


def private_key(username: str, password: str) -> bytes:
    secret = (username.lower() + password).encode("utf-8")
    return hashlib.pbkdf2_hmac("sha256", secret, b"sogni-salt-value", 10_000, 32)


#: Addresses of credentials every emulator starts with, so that starting one does not import
#: eth-account (most of a ``sogni-sync … --emulator`` run's start-up); a test derives each again.
KNOWN_ADDRESSES = {
    ("emulator-artist", "emulator-password"): "0x046e89CeF40a7f8251919449aAa2F1E840dF71D0",
}


def wallet_address(username: str, password: str) -> str:
    """EIP-55 address of the wallet the clients derive from these credentials."""
    known = KNOWN_ADDRESSES.get((username, password))
    if known is not None:
        return known
    from eth_account import Account as EthAccount

    return str(EthAccount.from_key(private_key(username, password)).address)


def make_account(state: State, username: str, password: str, *, api_key: str | None = None,
                 balances: dict[str, Any] | None = None, address: str | None = None,
                 email: str = "") -> Account:
    """Create and register an account (address derived from the credentials unless given)."""
    amounts = {"sogni": Decimal("1000"), "spark": Decimal("1000")}
    for key, value in (balances or {}).items():
        amounts[key] = Decimal(str(value))
    account = Account(
        username=username, password=password,
        address=address or wallet_address(username, password),
        api_key=api_key or secrets.token_hex(20), sid=state.next_sid(),
        email=email or f"{username.lower()}@example.invalid", balances=amounts,
        initial=dict(amounts),
    )
    return state.add_account(account)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_jwt(claims: dict[str, Any], secret: bytes) -> str:
    """A structurally valid HS256 JWT (clients decode it without verifying)."""
    head = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64url(sig)}"


_SECRET = secrets.token_bytes(16)


def issue_tokens(state: State, account: Account) -> dict[str, str]:
    now = int(time.time())
    exp = now + int(state.token_ttl)
    token = mint_jwt({"addr": account.address, "env": "emulator", "iat": now, "exp": exp,
                      "jti": secrets.token_hex(6)}, _SECRET)
    refresh = mint_jwt({"type": "refresh", "env": "emulator", "iat": now,
                        "exp": now + 30 * 86400, "jti": secrets.token_hex(6)}, _SECRET)
    state.access_tokens[token] = (account, float(exp))
    state.refresh_tokens[refresh] = (account, float(now + 30 * 86400))
    return {"token": token, "refreshToken": refresh}


def _signed_by(address: str, domain: dict[str, Any], message_types: dict[str, Any],
               message: dict[str, Any], signature: str) -> bool:
    """Whether ``signature`` over ``message`` in ``domain`` recovers to ``address``."""
    from eth_account import Account as EthAccount
    from eth_account.messages import encode_typed_data

    try:
        signable = encode_typed_data(domain_data=domain, message_types=message_types,
                                     message_data=message)
        signer = str(EthAccount.recover_message(signable, signature=signature))
    except Exception:  # any malformed signature/address simply fails verification
        return False
    return signer.lower() == address.lower()


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except Exception:
        return {}
    return data if isinstance(data, dict) else {}


def add_routes(app: web.Application, state: State) -> None:
    routes = web.RouteTableDef()

    def signed(address: str, message_types: dict[str, Any], message: dict[str, Any],
               signature: str) -> bool:
        return _signed_by(address, DOMAINS[state.options.testnet], message_types, message,
                          signature)

    @routes.post("/v1/account/nonce")
    async def nonce(request: web.Request) -> web.Response:
        body = await _body(request)
        address = body.get("walletAddress")
        if not isinstance(address, str) or not address.startswith("0x"):
            return error(400, "walletAddress is required", 101)
        value = secrets.token_hex(16)
        state.nonces[address.lower()] = value
        return ok({"nonce": value})

    @routes.post("/v1/account/login")
    async def login(request: web.Request) -> web.Response:
        body = await _body(request)
        address, signature = body.get("walletAddress"), body.get("signature")
        if not isinstance(address, str) or not isinstance(signature, str):
            return error(400, "walletAddress and signature are required", 101)
        account = state.by_address.get(address.lower())
        issued = state.nonces.pop(address.lower(), None)
        if account is None or issued is None:
            return error(401, "Invalid username or password", 102)
        if not signed(address, AUTH_TYPES, {"walletAddress": address, "nonce": issued},
                      signature):
            return error(401, "Invalid signature", 102)
        return ok({**issue_tokens(state, account), "username": account.username})

    @routes.post("/v1/account/create")
    async def create(request: web.Request) -> web.Response:
        body = await _body(request)
        address, username = body.get("walletAddress"), body.get("username")
        signature = body.get("signature")
        if not all(isinstance(v, str) and v for v in (address, username, signature)):
            return error(400, "username, walletAddress and signature are required", 101)
        assert isinstance(address, str) and isinstance(username, str)
        assert isinstance(signature, str)
        if username.lower() in state.accounts or address.lower() in state.by_address:
            return error(400, "Username already taken", 108)
        issued = state.nonces.pop(address.lower(), None)
        message = {"appid": str(body.get("appid", "")), "username": username,
                   "email": str(body.get("email", "")),
                   "subscribe": int(body.get("subscribe") or 0),
                   "walletAddress": address, "nonce": issued or ""}
        if issued is None or not signed(address, SIGNUP_TYPES, message, signature):
            return error(401, "Invalid signature", 102)
        account = make_account(state, username, "", address=address,
                               email=str(body.get("email") or ""))
        return ok(issue_tokens(state, account))

    @routes.post("/v1/account/refresh-token")
    async def refresh(request: web.Request) -> web.Response:
        body = await _body(request)
        entry = state.refresh_tokens.pop(str(body.get("refreshToken", "")), None)
        if entry is None or entry[1] < time.time():
            return error(401, "Invalid refresh token", 104)
        return ok(issue_tokens(state, entry[0]))

    @routes.post("/v1/account/logout")
    async def logout(request: web.Request) -> web.Response:
        if state.authenticate(request) is None:
            return error(401, "Not authenticated", 105)
        token = request.headers.get("Authorization", "")
        state.access_tokens.pop(token, None)
        return ok()

    @routes.post("/v1/account/username/validate")
    async def validate(request: web.Request) -> web.Response:
        body = await _body(request)
        name = body.get("username")
        if not isinstance(name, str) or not name.strip():
            return error(400, "Username is required", 101)
        if name.lower() in state.accounts:
            return error(400, "Username already taken", 108)
        return ok()

    app.add_routes(routes)
