"""Wallet derivation and EIP-712 signing, as the Sogni account service expects them.

The private key is PBKDF2-HMAC-SHA256 of ``lower(username) + password`` with the fixed salt
``sogni-salt-value``, 10 000 iterations, 32 bytes. eth-account (the ``wallet`` extra) does the
secp256k1 and typed-data work; it is imported only when a signature is actually needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sogni_sync.errors import MissingDependencyError

__all__ = [
    "AUTHENTICATION_TYPES",
    "SIGNUP_TYPES",
    "VERIFYING_CONTRACT",
    "Wallet",
    "derive_private_key",
    "eip712_domain",
]

VERIFYING_CONTRACT = "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
SALT = b"sogni-salt-value"
ITERATIONS = 10_000

AUTHENTICATION_TYPES: dict[str, list[dict[str, str]]] = {
    "Authentication": [
        {"name": "walletAddress", "type": "address"},
        {"name": "nonce", "type": "string"},
    ]
}
SIGNUP_TYPES: dict[str, list[dict[str, str]]] = {
    "Signup": [
        {"name": "appid", "type": "string"},
        {"name": "username", "type": "string"},
        {"name": "email", "type": "string"},
        {"name": "subscribe", "type": "uint256"},
        {"name": "walletAddress", "type": "address"},
        {"name": "nonce", "type": "string"},
    ]
}


def eip712_domain(testnet: bool = False) -> dict[str, Any]:
    return {
        "name": "Sogni-testnet" if testnet else "Sogni AI",
        "version": "1",
        "chainId": 84532 if testnet else 8453,
        "verifyingContract": VERIFYING_CONTRACT,
    }


def derive_private_key(username: str, password: str) -> bytes:
    secret = (username.lower() + password).encode("utf-8")
    return hashlib.pbkdf2_hmac("sha256", secret, SALT, ITERATIONS, 32)


def _eth_account(purpose: str) -> Any:
    try:
        from eth_account import Account
    except ImportError:
        raise MissingDependencyError("wallet", "eth-account", purpose) from None
    return Account


class Wallet:
    """A derived signing key. Its repr and str never show the key."""

    __slots__ = ("_account", "address")

    def __init__(self, private_key: bytes, *, purpose: str = "Password login") -> None:
        account_cls = _eth_account(purpose)
        self._account = account_cls.from_key(private_key)
        self.address: str = self._account.address

    @classmethod
    def from_credentials(
        cls, username: str, password: str, *, purpose: str = "Password login"
    ) -> Wallet:
        _eth_account(purpose)  # fail fast, before the 10 000 PBKDF2 rounds
        return cls(derive_private_key(username, password), purpose=purpose)

    def sign_typed_data(
        self,
        domain: Mapping[str, Any],
        types: Mapping[str, Any],
        message: Mapping[str, Any],
    ) -> str:
        """``eth_signTypedData_v4`` signature as ``0x`` + 130 hex digits (v = 27/28)."""
        primary = [name for name in types if name != "EIP712Domain"]
        if len(primary) != 1:
            # Server-chosen permits may carry helper types; the primary is the one no other
            # type references.
            referenced = {f["type"] for fields in types.values() for f in fields}
            primary = [n for n in primary if n not in referenced]
        full = {
            "types": {
                "EIP712Domain": _domain_type(domain),
                **{k: list(v) for k, v in types.items() if k != "EIP712Domain"},
            },
            "primaryType": primary[0],
            "domain": dict(domain),
            "message": dict(message),
        }
        signed = self._account.sign_typed_data(full_message=full)
        return "0x" + bytes(signed.signature).hex()

    def __repr__(self) -> str:
        return f"Wallet(address={self.address!r})"


def _domain_type(domain: Mapping[str, Any]) -> list[dict[str, str]]:
    order = [
        ("name", "string"),
        ("version", "string"),
        ("chainId", "uint256"),
        ("verifyingContract", "address"),
        ("salt", "bytes32"),
    ]
    return [{"name": n, "type": t} for n, t in order if n in domain]
