"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi ..."""
import sys

from fieldapp import create_app
from fieldapp.config import ConfigError

try:
    app = create_app()
except ConfigError as e:  # a clear message naming the variable, not a traceback
    sys.exit(f"Doorstep configuration error: {e}")
