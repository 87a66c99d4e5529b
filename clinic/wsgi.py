"""WSGI entry point: `gunicorn clinic.wsgi` (see README, "Running in production")."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
application = get_wsgi_application()

# Everything loaded at start-up lives as long as the process: move it out of the garbage
# collector's sight, so that collections during requests (a slot search makes thousands of
# small objects) do not walk Django's whole object graph each time.
gc.freeze()
