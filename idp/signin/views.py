"""The sign-in pages: UPN, method steps, "Stay signed in?", cancel."""
from flask import Blueprint, abort, g, redirect, render_template, request, session as flask_session, url_for

from .. import methods
from ..extensions import db, limiter
from . import flow

bp = Blueprint("signin", __name__, url_prefix="/<tenant>/login")


def _txn_or_restart():
    txn = flow.current(g.tenant)
    if txn is None:
        return None, render_template("signin/expired.html", restart=url_for("signin.start", tenant=g.tenant_ref)), 400
    return txn, None, None


def _next(txn):
    """Where the browser goes for the transaction's current stage."""
    if txn.state in ("first", "mfa"):
        choice = flow.default_choice(txn)
        if choice is None:
            return render_template("signin/no_method.html", txn=txn, stage=txn.state,
                                   strength=flow.required_strength(txn)), 400
        return redirect(url_for("signin.method_step", tenant=g.tenant_ref, name=choice.name))
    if txn.state == "kmsi":
        return redirect(url_for("signin.stay_signed_in", tenant=g.tenant_ref))
    return redirect(url_for("signin.start", tenant=g.tenant_ref))


@bp.get("/")
def start():
    txn = flow.current(g.tenant)
    return_to = request.args.get("return_to", "")
    if not (return_to.startswith("/") and not return_to.startswith("//")):  # local paths only: no open redirect
        return_to = None
    if txn is None or return_to:
        txn = flow.start(g.tenant, return_to=return_to or url_for("signin.signed_in", tenant=g.tenant_ref),
                         login_hint=request.args.get("login_hint"))
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


def _account_key() -> str:
    """Failed attempts are also counted per account, so a credential-stuffing run spread over many addresses
    still meets a limit (Entra's smart lockout answers the same threat)."""
    txn = flow.current(g.tenant)
    return f"signin-account:{g.tenant.id}:{txn.login_hint if txn else request.remote_addr}"


@bp.route("/method/<name>", methods=["GET", "POST"])
@limiter.limit("60/minute", methods=["POST"])
@limiter.limit("10 per 5 minutes", key_func=_account_key, methods=["POST"],
               deduct_when=lambda response: response.status_code == 400)
def method_step(name):
    txn, page, status = _txn_or_restart()
    if txn is None:
        return page, status
    if txn.state not in ("first", "mfa"):
        return _next(txn)
    method = methods.get(name)
    options = flow.choices(txn)
    if method is None or method not in options:
        return _next(txn)
    error = notice = None
    if request.method == "POST" and request.form.get("action"):
        ctx = flow.method_context(txn, method)
        ok, message = method.action(ctx, request.form["action"][:32], request.form)
        flow.save_method_data(txn, method, ctx)
        notice, error = (message, None) if ok else (None, message)
        return render_template(method.template, txn=txn, method=method, error=error, notice=notice, stage=txn.state,
                               data=ctx.data, others=[m for m in options if m is not method]), (200 if ok else 400)
    if request.method == "POST":
        result = flow.submit(txn, method, request.form)
        if result.ok:
            return _next(txn)
        if txn.state == "done":
            return render_template("signin/refused.html", message=result.error), 403
        error = result.error
    ctx = flow.method_context(txn, method)  # read after any submit: verify may have changed it
    view = method.begin(ctx) if request.method == "GET" else {}  # begin has effects (send a code...)
    flow.save_method_data(txn, method, ctx)
    others = [m for m in options if m is not method]
    return render_template(method.template, txn=txn, method=method, others=others, error=error, notice=notice,
                           stage=txn.state, data=ctx.data, **view), (400 if error else 200)


@bp.post("/without-username/<name>")
@limiter.limit("60/minute")
def usernameless_step(name):
    """A username-less first factor posted from the username page (a discoverable passkey)."""
    txn, page, status = _txn_or_restart()
    if txn is None:
        return page, status
    method = methods.get(name)
    if method is None or method not in flow.usernameless_methods(txn) or txn.state not in ("identify", "first"):
        return _next(txn)
    flow.begin_usernameless(txn, method)
    result = flow.submit(txn, method, request.form)
    if result.ok:
        return _next(txn)
    if txn.user_id is None:
        txn.state = "identify"
        db.session.commit()
    return _identify_page(txn, result.error, 400)


@bp.route("/kmsi", methods=["GET", "POST"])
def stay_signed_in():
    txn, page, status = _txn_or_restart()
    if txn is None:
        return page, status
    if txn.state != "kmsi":
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
    txn.state = "done"
    db.session.commit()
    flask_session["cancelled_signin"] = txn.id
    return redirect(txn.authorize_uri)


@bp.errorhandler(429)
def too_many_attempts(error):
    return render_template("signin/refused.html",
                           message="Too many attempts. Wait a few minutes before you try again."), 429


@bp.get("/done")
def signed_in():
    from . import sessions
    session = sessions.current(g.tenant)
    if session is None:
        abort(401)
    return render_template("signin/signed_in.html", session=session)
