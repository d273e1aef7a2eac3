"""The admin console: users, their methods, and the authentication methods policy. Method slices add
panels to the user page; every change goes through the same services (and role checks) as the API."""
from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from ..audit import record_audit
from ..directory import service as directory
from ..directory.models import Group, User
from ..extensions import db
from ..graph.api import Caller
from ..policy import service as policy
from ..signin.sessions import login_required

bp = Blueprint("console", __name__, url_prefix="/<tenant>/admin")

#: callables (caller, user) -> dict(template=..., **context) rendered on the user page, or None
user_panels: list = []
ALL_DELEGATED = {"UserAuthenticationMethod.ReadWrite.All", "UserAuthenticationMethod.Read.All",
                 "Policy.ReadWrite.AuthenticationMethod", "Policy.Read.All", "User.Read.All"}


def console_caller() -> Caller:
    """The signed-in administrator, as the services see callers (the console is a first-party app)."""
    return Caller(g.tenant, "console", user=g.sso.user, scopes=set(ALL_DELEGATED))


def admin_required(view):
    from functools import wraps

    @wraps(view)
    @login_required
    def wrapper(**kwargs):
        if not g.sso.user.is_admin:
            abort(403, description="The admin console is for users with an administrator role.")
        g.caller = console_caller()
        return view(**kwargs)
    return wrapper


@bp.get("/")
@admin_required
def index():
    query = request.args.get("q", "").strip()[:100]
    stmt = select(User).where(User.tenant_id == g.tenant.id)
    if query:
        stmt = stmt.where(or_(User.upn.contains(query.lower()), User.display_name.contains(query)))
    users = db.session.scalars(stmt.order_by(User.upn).limit(200)).all()
    return render_template("console/index.html", users=users, query=query,
                           configs=[policy.get(g.tenant.id, t.method_id) for t in policy.all_types()])


@bp.get("/users/<user_id>")
@admin_required
def user_page(user_id):
    user = directory.find_user(g.tenant, user_id) or abort(404, description="No such user in this tenant.")
    panels = [p for panel in user_panels if (p := panel(g.caller, user))]
    return render_template("console/user.html", user=user, panels=panels)


@bp.route("/policies/<method_id>", methods=["GET", "POST"])
@admin_required
def policy_page(method_id):
    kind = policy.config_type(method_id) or abort(404, description="No such authentication method.")
    config = policy.get(g.tenant.id, kind.method_id)
    may_edit = bool(g.caller.roles & {"Global Administrator", "Authentication Policy Administrator"})
    error = None
    if request.method == "POST":
        if not may_edit:
            abort(403, description="Only an Authentication Policy Administrator may change the policy.")
        before = dict(config.__dict__)
        try:
            policy.apply_patch(kind, config, _policy_form(kind), g.tenant)
        except policy.PolicyError as problem:
            error = str(problem)
        else:
            policy.save(g.tenant.id, config)
            record_audit(tenant_id=g.tenant.id, actor_id=g.sso.user.id, actor_type="user",
                         activity="Update authentication methods policy", target_type="authenticationMethodConfiguration",
                         target_id=kind.method_id, before=before, after=dict(config.__dict__))
            db.session.commit()
            return redirect(url_for("console.policy_page", method_id=kind.method_id, saved=1))
    groups = db.session.scalars(select(Group).where(Group.tenant_id == g.tenant.id).order_by(Group.display_name)).all()
    return render_template("console/policy.html", kind=kind, config=config, groups=groups, error=error,
                           may_edit=may_edit, saved=request.args.get("saved")), (400 if error else 200)


def _policy_form(kind) -> dict:
    """Turn the generic policy form back into a Graph-style PATCH body."""
    body = {"state": "enabled" if request.form.get("state") == "enabled" else "disabled"}
    target = request.form.get("include", "all_users")
    body["includeTargets"] = [{"id": target, "targetType": "group"}]
    exclude = request.form.get("exclude", "")
    body["excludeTargets"] = [{"id": exclude, "targetType": "group"}] if exclude else []
    if kind.parse_form:
        body.update(kind.parse_form(request.form, policy.get(g.tenant.id, kind.method_id).settings))
    for name, default in kind.defaults.items():
        if name in body:
            continue
        raw = request.form.get(name)
        if isinstance(default, bool):
            body[name] = raw == "on"
        elif isinstance(default, int):
            try:
                body[name] = int(raw)
            except (TypeError, ValueError):
                raise policy.PolicyError(f"Property '{name}' must be a whole number.") from None
        elif raw is not None and not isinstance(default, (dict, list)):
            body[name] = raw
    return body
