"""``python -m sogni_sync.cli``: the ``sogni-sync`` console script."""

from __future__ import annotations

import sys

from sogni_sync.cli import main

if __name__ == "__main__":
    sys.exit(main())
