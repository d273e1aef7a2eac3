"""WSGI entry point: `flask run` and gunicorn (`app:app`) find the app here."""
from idp import create_app

app = create_app()
