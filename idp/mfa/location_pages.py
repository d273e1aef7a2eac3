"""The console's Named locations: list, create, edit and delete IP named locations through the same service
(and the same validation) as Graph's /identity/conditionalAccess/namedLocations."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import record_admin_change
from ..kit.console import admin_required
from ..kit.console import pages as console_pages
from ..kit.fields import Field, field_error
from ..directory.models import Roles
from ..extensions import db
from ..ui import say
from . import locations
from .api import graph_location
from .models import NamedLocation

FIELDS = {
    "displayName": Field(_l("Name"), _l("How the location appears in policies and the sign-in log."), "text"),
    "ipRanges": Field(
        _l("IP ranges, one per line"),
        _l(
            "IPv4 or IPv6 in CIDR notation, such as 203.0.113.0/24. Public addresses only, /8 (IPv4) or /16 (IPv6) at widest."
        ),
        "lines",
    ),
    "isTrusted": Field(
        _l("Mark as trusted location"),
        _l("Sign-ins from a trusted location skip the MFA prompt."),
        "switch",
    ),
}
ERRORS = {
    "displayName": _l("Enter a name."),
    "ipRanges": _l("Enter public IPv4 or IPv6 ranges in CIDR notation, one per line."),
    "isTrusted": _l("Choose whether the location is trusted."),
    "form": _l("The named location could not be saved."),
}
say({"location.name": _l("Enter a name."), "location.no_ranges": _l("Enter at least one IP range, one per line.")})
READ_ONLY = _l(
    "You can view named locations. Only an Authentication Policy Administrator or a Global Administrator can change them."
)


def _may_edit() -> bool:
    return bool(g.caller.roles & Roles.POLICY_ADMINS)


def _entered() -> dict:
    """The form as typed: kept for a refused form, and turned into a Graph body for the service."""
    return {
        "displayName": request.form.get("displayName", "")[:300],
        "ipRanges": [line.strip() for line in request.form.get("ipRanges", "").splitlines() if line.strip()][:2001],
        "isTrusted": request.form.get("isTrusted") == "on",
    }


def _body(entered: dict) -> dict:
    return {**entered, "ipRanges": [{"cidrAddress": cidr} for cidr in entered["ipRanges"]]}


def _values(location: NamedLocation | None) -> dict:
    if location is None:
        return {"displayName": "", "ipRanges": [], "isTrusted": False}
    return {"displayName": location.display_name, "ipRanges": location.ip_ranges, "isTrusted": location.is_trusted}


def _form(location: NamedLocation | None, values: dict, errors: dict | None = None):
    return render_template(
        "console/named_location.html",
        location=location,
        values=values,
        errors=errors or {},
        fields=FIELDS,
        may_edit=_may_edit(),
        read_only=READ_ONLY,
    ), (400 if errors else 200)


def _refused(location: NamedLocation | None, entered: dict, error: locations.LocationError):
    db.session.rollback()
    if location is not None:
        location = db.session.get(NamedLocation, location.id)
    field = error.field or "form"
    return _form(location, entered, {field: field_error(ERRORS[field], error)})


def _location(location_id: str) -> NamedLocation:
    return locations.find(g.tenant.id, location_id) or abort(404, description=_("No such named location."))


def _require_edit() -> None:
    if not _may_edit():
        abort(403, description=str(READ_ONLY))


@console_pages.get("/locations")
@admin_required
def named_locations():
    return render_template(
        "console/named_locations.html",
        locations=locations.named_locations(g.tenant.id),
        may_edit=_may_edit(),
        read_only=READ_ONLY,
    )


@console_pages.route("/locations/new", methods=["GET", "POST"])
@admin_required
def new_named_location():
    if request.method == "GET":
        return _form(None, _values(None))
    _require_edit()
    entered = _entered()
    if not entered["ipRanges"]:
        return _form(None, entered, {"ipRanges": _("Enter at least one IP range.")})
    try:
        location = locations.create(g.tenant.id, _body(entered))
    except locations.LocationError as error:
        return _refused(None, entered, error)
    record_admin_change("Add named location", "namedLocation", location.id, after=graph_location(location))
    db.session.commit()
    flash(_("Named location %(name)s created.", name=location.display_name), "ok")
    return redirect(url_for("console.named_locations"), 303)


@console_pages.route("/locations/<location_id>", methods=["GET", "POST"])
@admin_required
def named_location(location_id):
    location = _location(location_id)
    if request.method == "GET":
        return _form(location, _values(location))
    _require_edit()
    entered = _entered()
    if not entered["ipRanges"]:
        return _form(location, entered, {"ipRanges": _("Enter at least one IP range.")})
    before = graph_location(location)
    try:
        locations.apply(location, _body(entered), creating=False)
    except locations.LocationError as error:
        return _refused(location, entered, error)
    record_admin_change(
        "Update named location", "namedLocation", location.id, before=before, after=graph_location(location)
    )
    db.session.commit()
    flash(_("Saved."), "ok")
    return redirect(url_for("console.named_location", location_id=location.id), 303)


@console_pages.post("/locations/<location_id>/delete")
@admin_required
def delete_named_location(location_id):
    location = _location(location_id)
    _require_edit()
    if request.form.get("confirm") != "yes":
        abort(400, description=_("Confirm the deletion first."))
    record_admin_change("Delete named location", "namedLocation", location.id, before=graph_location(location))
    db.session.delete(location)
    db.session.commit()
    flash(_("Named location %(name)s deleted.", name=location.display_name), "ok")
    return redirect(url_for("console.named_locations"), 303)
