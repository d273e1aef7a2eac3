"""The sign-in pages: UPN, method steps, "Stay signed in?", cancel."""

from flask import Blueprint, abort, g, redirect, render_template, request, session as flask_session, url_for

from .. import methods, urls
from ..extensions import limiter
from ..i18n.names import N_
from . import flow, hooks, verification
from .models import Step

bp = Blueprint("signin", __name__, url_prefix="/<tenant>/login")


def _txn_or_restart():
    txn = flow.current(g.tenant)
    if txn is None:
        restart = url_for("signin.start", tenant=g.tenant_ref)
        report = flow.reported(g.tenant)
        if report is not None:  # reopened after "I didn't try to sign in": say so, not "timed out"
            return None, render_template("signin/reported.html", outcome=report, restart=restart), 400
        return None, render_template("signin/expired.html", restart=restart), 400
    return txn, None, None


def _next(txn):
    """Where the browser goes for the transaction's current stage."""
    if txn.state in (Step.FIRST, Step.MFA):
        choice = flow.default_choice(txn)
        if choice is None:
            return render_template(
                "signin/no_method.html",
                txn=txn,
                stage=txn.state,
                strength=flow.required_strength(txn),
                reasons=flow.unavailable_reasons(txn),
            ), 400
        return redirect(url_for("signin.method_step", tenant=g.tenant_ref, name=choice.name))
    if txn.state == Step.KMSI:
        return redirect(url_for("signin.stay_signed_in", tenant=g.tenant_ref))
    if txn.state == Step.NEW_PASSWORD:
        return redirect(url_for("signin.new_password", tenant=g.tenant_ref))
    return redirect(url_for("signin.start", tenant=g.tenant_ref))


@bp.route("/newpassword", methods=["GET", "POST"])
@limiter.limit("30/minute", methods=["POST"])
def new_password():
    """Update your password: the administrator set forceChangePasswordNextSignIn."""
    txn, page, status = _txn_or_restart()
    if txn is None:
        return page, status
    if txn.state != Step.NEW_PASSWORD:
        return _next(txn)
    error = None
    if request.method == "POST":
        error = verification.change_password(
            txn, request.form.get("new_password", "")[:256], request.form.get("confirm_password", "")[:256]
        )
        if error is None:
            return _next(txn)
    return render_template("signin/new_password.html", txn=txn, error=error), (400 if error else 200)


@bp.get("/")
def start():
    txn = flow.current(g.tenant)
    return_to = urls.local_target(request.args.get("return_to"))  # this origin only: no open redirect
    if txn is None or return_to:
        txn = flow.start(
            g.tenant,
            return_to=return_to or url_for("signin.signed_in", tenant=g.tenant_ref),
            login_hint=request.args.get("login_hint"),
        )
    return _identify_page(txn)


def _identify_page(txn, error=None, status=200):
    """The username page, with what username-less methods need (a passkey challenge for any credential)."""
    offers = []
    for method in flow.usernameless_methods(txn):
        ctx = flow.method_context(txn, method)
        offers.append({"method": method, **method.begin(ctx)})
        flow.save_method_data(txn, method, ctx)
    return render_template("signin/identify.html", txn=txn, error=error, offers=offers), status


@bp.post("/")
@limiter.limit("30/minute")
def identify():
    txn, page, status = _txn_or_restart()
    if txn is None:
        return page, status
    upn = request.form.get("username", "").strip()
    if not upn or "@" not in upn or len(upn) > 320:
        return _identify_page(txn, "Enter a valid email address or user principal name (name@domain).", 400)
    refusal = flow.identify(txn, upn)
    if refusal:
        return render_template("signin/refused.html", message=refusal), 400
    return _next(txn)


@bp.route("/method/<name>", methods=["GET", "POST"])
@limiter.limit("60/minute", methods=["POST"])  # per address; per account, the smart lockout (lockout.py) counts
def method_step(name):
    txn, page, status = _txn_or_restart()
    if txn is None:
        return page, status
    if txn.state not in (Step.FIRST, Step.MFA):
        return _next(txn)
    method = methods.get(name)
    options = flow.choices(txn)
    if method is None or method not in options:
        return _next(txn)
    refusal = hooks.prompt_refusal(txn, method) if request.method == "GET" or request.form.get("action") else None
    if refusal:  # blocked or locked out: no code is sent, no challenge made
        others = [m for m in options if m is not method]
        return _step_page(txn, method, others, {}, error=refusal), 403
    if request.method == "POST" and request.form.get("action"):
        return _step_action(txn, method, options)
    error = None
    if request.method == "POST":
        result = verification.submit(txn, method, request.form)
        if result.ok:
            return _next(txn)
        if txn.state == Step.DONE:
            return render_template("signin/refused.html", message=result.error), 403
        error = result.error
        if result.locked:
            others = flow.other_choices(txn, method, options)
            return _step_page(txn, method, others, flow.method_context(txn, method).data, error=error), 429
    ctx = flow.method_context(txn, method)  # read after any submit: verify may have changed it
    view = method.begin(ctx) if request.method == "GET" else {}  # begin has effects (send a code...)
    flow.save_method_data(txn, method, ctx)
    others = flow.other_choices(txn, method, options)
    return _step_page(txn, method, others, ctx.data, error=error, **view), (400 if error else 200)


def _step_action(txn, method, options):
    """A step's auxiliary action (send a code again, call another phone): its message on the same page."""
    ctx = flow.method_context(txn, method)
    ok, message = method.action(ctx, request.form["action"][:32], request.form)
    flow.save_method_data(txn, method, ctx)
    notice, error = (message, None) if ok else (None, message)
    others = flow.other_choices(txn, method, options)
    return _step_page(txn, method, others, ctx.data, error=error, notice=notice), (200 if ok else 400)


def _step_page(txn, method, others, data, error=None, notice=None, **view):
    return render_template(
        method.template,
        txn=txn,
        method=method,
        others=others,
        error=error,
        notice=notice,
        stage=txn.state,
        data=data,
        **view,
    )


@bp.post("/without-username/<name>")
@limiter.limit("60/minute")
def usernameless_step(name):
    """A username-less first factor posted from the username page (a discoverable passkey)."""
    txn, page, status = _txn_or_restart()
    if txn is None:
        return page, status
    method = methods.get(name)
    if method is None or method not in flow.usernameless_methods(txn) or txn.state not in (Step.IDENTIFY, Step.FIRST):
        return _next(txn)
    flow.begin_usernameless(txn, method)
    result = verification.submit(txn, method, request.form)
    if result.ok:
        return _next(txn)
    if txn.user_id is None:
        flow.back_to_username(txn)
    return _identify_page(txn, result.error, 400)


@bp.route("/kmsi", methods=["GET", "POST"])
def stay_signed_in():
    txn, page, status = _txn_or_restart()
    if txn is None:
        return page, status
    if txn.state != Step.KMSI:
        return _next(txn)
    if request.method == "GET" and not txn.user.is_external_guest:
        return render_template("signin/kmsi.html", txn=txn)
    persistent = request.form.get("stay") == "yes" and not txn.user.is_external_guest
    flow.complete(txn, persistent)
    return redirect(txn.authorize_uri or txn.return_to or url_for("signin.signed_in", tenant=g.tenant_ref))


@bp.post("/cancel")
def cancel():
    txn = flow.current(g.tenant)
    if txn is None or not txn.authorize_uri:
        return redirect(url_for("signin.start", tenant=g.tenant_ref))
    flow.cancel(txn)
    flask_session["cancelled_signin"] = txn.id
    return redirect(txn.authorize_uri)


@bp.errorhandler(429)
def too_many_attempts(error):
    return render_template(
        "signin/refused.html", message=N_("Too many attempts. Wait a few minutes before you try again.")
    ), 429


@bp.get("/done")
def signed_in():
    from . import sessions

    session = sessions.current(g.tenant)
    if session is None:
        abort(401)
    return render_template("signin/signed_in.html", session=session)
