"""WSGI entry point: `flask run` and granian (`app:app`, see idp/serve.py) find the app here."""

from idp import create_app

app = create_app()
