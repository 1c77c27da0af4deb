"""Authentication: API key, username/password login (EIP-712), JWT refresh, wallet derivation."""

from sogni_sync._auth._manager import AuthManager, jwt_expiry
from sogni_sync._auth._wallet import Wallet, derive_private_key, eip712_domain

__all__ = ["AuthManager", "Wallet", "derive_private_key", "eip712_domain", "jwt_expiry"]
