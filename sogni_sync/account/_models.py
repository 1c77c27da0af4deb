"""Public result classes of the account and stats APIs (frozen, snake_case).

Wire dicts are structured with the shared converter (``sogni_sync._convert``); the few fields
whose wire meaning differs (epoch units, 0/1 flags) go through small private raw classes first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from sogni_sync._convert import register_wire, structure, to_decimal
from sogni_sync.errors import UnexpectedResponseError

__all__ = [
    "Balances",
    "CurrentAccount",
    "LeaderboardEntry",
    "LoginResult",
    "Me",
    "Reward",
    "TokenBalance",
    "TransactionPage",
    "TxHistoryEntry",
    "UsernameCheck",
    "WalletBalance",
]


@attrs.frozen
class TokenBalance:
    """One token's balance (token units), exact: the wire's decimal strings as ``Decimal``."""

    settled: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    debit: Decimal = Decimal(0)
    net: Decimal = Decimal(0)
    premium_credit: Decimal | None = None
    relaxed_unclaimed: Decimal | None = None
    fast_unclaimed: Decimal | None = None


@attrs.frozen
class Balances:
    sogni: TokenBalance = attrs.field(factory=TokenBalance)
    spark: TokenBalance = attrs.field(factory=lambda: TokenBalance(premium_credit=Decimal(0)))


@attrs.frozen
class WalletBalance:
    sogni: Decimal = Decimal(0)
    spark: Decimal = Decimal(0)
    ether: Decimal = Decimal(0)


@attrs.frozen
class Me:
    """``GET /v1/account/me``."""

    username: str | None = None
    wallet_address: str | None = None
    current_email: str | None = None
    email_verified: bool | None = None
    requested_updated_email: str | None = None
    discord_linked: bool | None = None
    discord_server_member: bool | None = None
    discord_username: str | None = None
    discord_2fa: bool | None = attrs.field(default=None, metadata={"wire": "discord2FA"})


@attrs.frozen
class LoginResult:
    """Tokens from login/create; keep them to resume with ``client.set_tokens``.

    The tokens are credentials: they are excluded from ``repr``.
    """

    username: str | None
    token: str | None = attrs.field(repr=False)
    refresh_token: str | None = attrs.field(repr=False)


@attrs.frozen
class UsernameCheck:
    """Result of ``validate_username``: ``available`` is False for a taken name (code 108)."""

    available: bool
    message: str | None = None
    error_code: int | None = None


@attrs.frozen
class TxHistoryEntry:
    id: str
    address: str
    create_time: dt.datetime
    update_time: dt.datetime
    end_time: dt.datetime
    status: str
    role: str
    amount: float
    token_type: str
    description: str
    source: str
    type: str


@attrs.frozen
class TransactionPage:
    entries: tuple[TxHistoryEntry, ...]
    #: offset of the next page (pass as ``offset=`` to get it)
    next_offset: int | None


@attrs.frozen
class Reward:
    id: str
    type: str
    title: str
    description: str
    amount: str
    token_type: str
    claimed: bool
    can_claim: bool
    cant_claim_reason: str | None
    last_claim: dt.datetime | None
    next_claim: dt.datetime | None
    provider: str


@attrs.frozen
class LeaderboardEntry:
    rank: int
    username: str | None = None
    address: str | None = None
    country: str | None = None
    value: str | None = None
    role: str | None = None


@attrs.frozen
class CurrentAccount:
    """Snapshot of what the client knows about the signed-in account, kept current from
    socket events (``authenticated``, ``balanceUpdate``, ``changeNetwork``) and ``me``."""

    network_status: str = "disconnected"
    network: str | None = None
    balance: Balances = attrs.field(factory=Balances)
    wallet_address: str | None = None
    username: str | None = None
    email: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.wallet_address is not None


# -- wire helpers ----------------------------------------------------------------------------


#: what an absent key of a transaction reads as
_TX_DEFAULTS = {"id": "", "address": "", "createTime": 0, "updateTime": 0, "endTime": 0,
                "status": "", "role": "", "amount": 0, "tokenType": "", "description": "",
                "source": "", "type": ""}
register_wire(TxHistoryEntry, lambda raw: {**_TX_DEFAULTS, **raw})


def _reward_wire(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Rewards count in seconds and send 0/1 flags; the next claim is the last one plus the
    reset period (none when the reward does not reset, period -1)."""
    last = float(raw.get("lastClaimTimestamp") or 0)
    period = float(raw.get("claimResetFrequencySec", -1))
    return {
        "id": "", "type": "", "title": "", "description": "", "amount": "0", "tokenType": "",
        **raw,
        "claimed": bool(int(raw.get("claimed", 0))),
        "canClaim": bool(int(raw.get("canClaim", 0))),
        "lastClaim": last * 1000 if last else None,
        "nextClaim": (last + period) * 1000 if last and period > -1 else None,
    }


register_wire(Reward, _reward_wire)

_BALANCE_FIELDS = ("settled", "credit", "debit", "net")
#: wire key -> TokenBalance field, for every figure of one token's balance
_TOKEN_FIELDS = {
    **{key: key for key in _BALANCE_FIELDS},
    "premiumCredit": "premium_credit",
    "relaxedUnclaimed": "relaxed_unclaimed",
    "fastUnclaimed": "fast_unclaimed",
}
_REQUIRED = frozenset(_BALANCE_FIELDS)


def balances_from_wire(data: Any, path: str = "/v4/account/balance") -> Balances:
    """The ``{sogni: {...}, spark: {...}}`` balances of both tokens (decimal strings); anything
    else raises UnexpectedResponseError, never zeros.

    Built directly, each figure parsed once: a ``balanceUpdate`` follows every job's result on
    the socket thread, so this runs on the path of every ``complete()`` and ``wait()``.
    """
    tokens = ("sogni", "spark")
    if not isinstance(data, dict) or not all(
        isinstance(data.get(t), dict) and not _REQUIRED.isdisjoint(data[t]) for t in tokens
    ):
        raise UnexpectedResponseError(
            path, f"expected balances {{sogni: {{settled, net, ...}}, spark: {{...}}}}, "
            f"got {describe(data)}", payload=data)
    built: dict[str, TokenBalance] = {}
    for token in tokens:
        figures: dict[str, Any] = {}
        bad = []
        for key, value in data[token].items():
            field = _TOKEN_FIELDS.get(key)
            if field is None or value is None:
                continue
            number = to_decimal(value)
            if number is None:
                bad.append(key)
            figures[field] = number
        if bad:
            raise UnexpectedResponseError(
                path, f"{token} {', '.join(sorted(bad))} is not a decimal number", payload=data)
        built[token] = TokenBalance(**figures)
    return Balances(sogni=built["sogni"], spark=built["spark"])


describe = UnexpectedResponseError.describe


def reward_from_wire(data: Any, provider: str, path: str = "/v4/account/rewards") -> Reward:
    """A reward of the rewards list; ``provider`` is the one the list was asked for."""
    return structure({**data, "provider": provider} if isinstance(data, Mapping) else data,
                     Reward, path)
