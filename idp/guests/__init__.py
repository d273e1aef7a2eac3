"""B2B guests: invitations (Graph), the tenant-scoped redeem link, signing in with a home account on this
server, the entry points that carry (or lack) tenant context, and the "I didn't try to sign in" report."""

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from .. import urls
from ..directory import service as directory
from ..directory.models import User
from ..extensions import db, limiter
from ..i18n.names import N_
from ..oidc import home_realm
from ..signin import flow

bp = Blueprint("guests", __name__)


def _redeem_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="guest-redemption")


def redeem_url(guest: User) -> str:
    token = _redeem_serializer().dumps({"u": guest.id, "t": guest.tenant_id})
    return urls.external_url("guests.redeem", tenant=guest.tenant_id, token=token)


@bp.get("/")
def home():
    """`/?tenantid=<id>` carries the tenant; plain `/` offers the tenant-less sign-in (members only)."""
    tenant_ref = request.args.get("tenantid")
    if tenant_ref:
        tenant = directory.find_tenant(tenant_ref)
        if tenant is None:
            abort(404, description=N_("There is no such organization on this server."))
        return redirect(url_for("signin.start", tenant=tenant.id))
    return render_template("home.html")


@bp.get("/<tenant>/")
def tenant_home():
    """`/<tenant id>` or `/<verified domain>`: this organization's sign-in."""
    return redirect(url_for("signin.start", tenant=g.tenant_ref))


@bp.route("/common/login/", methods=["GET", "POST"])
@bp.route("/organizations/login/", methods=["GET", "POST"])
@limiter.limit("30/minute", methods=["POST"])
def tenantless_login():
    """Members find their organization from their UPN's domain; guests are told they need a tenant link.
    The answer depends on the domain only, never on whether the user exists: every name in an organization's
    domain goes on to that organization's password step, where unknown names fail like wrong passwords."""
    error = None
    ticket = request.values.get("request", "")[:64]
    if request.method == "POST":
        upn = request.form.get("username", "").strip().lower()[:320]
        tenant = directory.tenant_for_upn(upn) if "@" in upn else None
        waiting = home_realm.pending_request(ticket) if tenant is not None else None
        if waiting is not None:  # an app's /common or /organizations request goes on in the user's tenant
            return home_realm.at_home(tenant, waiting, upn)
        if tenant is not None:
            txn = flow.start(
                tenant, login_hint=upn, return_to=url_for("signin.signed_in", tenant=tenant.id), tenantless=True
            )
            if flow.identify(txn, upn) is None and flow.default_choice(txn) is not None:
                return redirect(url_for("signin.method_step", tenant=tenant.id, name=flow.default_choice(txn).name))
            return redirect(url_for("signin.start", tenant=tenant.id))
        error = flow.TENANTLESS_GUEST if "@" in upn else "Enter your email address or user principal name."
    app_name = home_realm.waiting_app(ticket)
    return render_template(
        "guests/tenantless.html", error=error, ticket=ticket if app_name else None, app_name=app_name
    ), (400 if error else 200)


@bp.get("/<tenant>/redeem/<token>")
def redeem(token):
    """The invitation link: the sign-in starts with the guest already named, in the inviting tenant."""
    try:
        data = _redeem_serializer().loads(token)
    except BadSignature:
        abort(400, description=N_("This invitation link is not valid."))
    guest = db.session.get(User, data.get("u"))
    if guest is None or guest.tenant_id != g.tenant.id or data.get("t") != g.tenant.id:
        abort(404, description=N_("This invitation no longer exists. Ask for a new one."))
    txn = flow.start(
        g.tenant,
        configured_target=guest.invite_redirect_url,
        return_to=url_for("signin.signed_in", tenant=g.tenant.id),
        login_hint=guest.mail,
    )
    flow.identify(txn, guest.mail)
    choice = flow.default_choice(txn)
    if choice is None:
        return render_template("signin/no_method.html", txn=txn, stage="first"), 400
    return redirect(url_for("signin.method_step", tenant=g.tenant.id, name=choice.name))


@bp.route("/<tenant>/report", methods=["GET", "POST"])
def report():
    """ "I didn't try to sign in", from the link in an emailed code: the MFA settings decide what it does.
    Reporting takes a POST (a mail scanner following the link must not report anything); a link works once,
    for as long as its code would have."""
    from ..methods.email_otp.service import redeem_report_link
    from ..mfa.pages import report_for

    token = request.values.get("r", "")[:512]
    if request.method == "POST":
        guest = redeem_report_link(token, g.tenant.id)
        outcome = report_for(guest) if guest is not None else None
        if outcome is None:
            return render_template(
                "guests/report.html",
                token=None,
                error=(
                    "This link has expired or was already used. If you keep receiving codes you did not ask for, "
                    "tell the organization that invited you."
                ),
            ), 400
        return render_template("guests/reported.html", outcome=outcome)
    return render_template("guests/report.html", token=token)


from . import home_account  # noqa: E402,F401  (registers the home-account step)
