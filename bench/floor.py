"""The ceiling of our stack on this machine: granian answering a constant JSON document with no database and
no IdP code, once as a bare WSGI callable and once through Flask. No endpoint of ours can beat these figures,
so they say how far the target ratio is reachable at all (bench/run.py measures them next to the peer)."""

from flask import Flask

BODY = b'{"keys": []}'

flask_app = Flask(__name__)


@flask_app.get("/", defaults={"path": ""})
@flask_app.get("/<path:path>")
def constant(path):
    return {"keys": []}


def bare_wsgi(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
