"""``python -m sogni_sync.testing``: run the emulator until SIGINT/SIGTERM."""

from __future__ import annotations

import sys

from sogni_sync.testing._main import main

if __name__ == "__main__":
    sys.exit(main())
