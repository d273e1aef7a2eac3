"""The device endpoints of the authenticator protocol (docs/authenticator-protocol.md). JSON in and out; the
device proves itself by signatures, so these endpoints take no cookies and need no CSRF token."""

from flask import Blueprint, g, jsonify, request

from ...extensions import csrf, db, limiter
from . import service

bp = Blueprint("authenticator", __name__, url_prefix="/<tenant>/authenticator/v1")
csrf.exempt(bp)


@bp.errorhandler(service.PushError)
def push_error(error: service.PushError):
    db.session.rollback()
    codes = {400: "badRequest", 401: "unauthorized", 404: "notFound", 409: "conflict"}
    return jsonify({"error": {"code": codes.get(error.status, "badRequest"), "message": error.message}}), error.status


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise service.PushError("The request body must be a JSON object.")
    return body


@bp.post("/pair")
@limiter.limit("20/minute")
def pair():
    device = service.pair(g.tenant.id, _body())
    user = device_user(device)
    return jsonify({"deviceId": device.id, "tenantId": device.tenant_id, "userPrincipalName": user.upn}), 201


def device_user(device):
    from ...directory.models import User

    return db.session.get(User, device.user_id)


@bp.get("/devices/<device_id>/requests")
@limiter.limit("120/minute")
def pending(device_id):
    device = service.device_by_poll(
        device_id, request.headers.get("X-Authenticator-Timestamp"), request.headers.get("X-Authenticator-Signature")
    )
    if device.tenant_id != g.tenant.id:
        raise service.PushError("There is no such device.", 404)
    return jsonify({"value": [service.view(r) for r in service.pending_for(device)]})


@bp.post("/requests/<request_id>/response")
@limiter.limit("60/minute")
def respond(request_id):
    return jsonify({"state": service.respond(request_id, _body(), g.tenant.id)})
