"""Account (``client.account``), stats (``client.stats``) and announcements
(``client.announcements``) APIs and their result classes."""

from sogni_sync.account._announcements import Announcement, AnnouncementsApi
from sogni_sync.account._api import AccountApi, StatsApi
from sogni_sync.account._models import (
    Balances,
    CurrentAccount,
    LeaderboardEntry,
    LoginResult,
    Me,
    Reward,
    TokenBalance,
    TransactionPage,
    TxHistoryEntry,
    UsernameCheck,
    WalletBalance,
)

__all__ = [
    "AccountApi",
    "Announcement",
    "AnnouncementsApi",
    "Balances",
    "CurrentAccount",
    "LeaderboardEntry",
    "LoginResult",
    "Me",
    "Reward",
    "StatsApi",
    "TokenBalance",
    "TransactionPage",
    "TxHistoryEntry",
    "UsernameCheck",
    "WalletBalance",
]
