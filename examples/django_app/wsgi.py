"""The WSGI entry point: ``gunicorn --chdir examples -w 2 --threads 8 -k gthread
django_app.wsgi``."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")
application = get_wsgi_application()

# Django imports views at the first request; importing them here builds the process-wide client
# when the server starts (in the master with --preload), so no request waits for the connection.
from django_app import views  # noqa: E402, F401
