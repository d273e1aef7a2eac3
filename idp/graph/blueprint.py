"""The Graph shell's blueprint, served under /v1.0 and /beta: it takes every operation's routes from the kit
(`idp.kit.graph.routes`, when idp.wiring installs it), answers every refusal in Graph's shape and echoes the
request ids."""

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from ..errors import ServiceError
from ..extensions import csrf, db, limiter
from ..kit.graph import error_response, request_ids

bp = Blueprint("graph", __name__)
csrf.exempt(bp)  # bearer-token API: no ambient credentials to forge
limiter.exempt(bp)


@bp.errorhandler(ServiceError)
def graph_error(error: ServiceError):
    """Every refusal of every service, answered once in Graph's shape."""
    db.session.rollback()
    return error_response(error.status, error.code, error.message, error.graph_details())


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    return error_response(error.code, None, error.description)


@bp.after_request
def request_id_headers(response):
    request_id, client_request_id = request_ids()
    response.headers.setdefault("request-id", request_id)
    response.headers.setdefault("client-request-id", client_request_id)
    return response
