"""A minimal Django project with ONE process-wide Sogni client (see ``views.py``)."""
