#!/usr/bin/env python
"""Django's command line for the example project, e.g. ``python examples/django_app/manage.py
runserver`` (no SOGNI_API_KEY: an in-process emulator answers)."""

from __future__ import annotations

import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # examples/

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
