"""The guard of this server's own pages (console, My Security Info, device code): a signed-in browser, or a
sign-in through the flow that comes back here. It sits above both the flow and the sessions it joins."""

from functools import wraps

from flask import g, redirect, request, url_for

from . import flow
from .sessions import current


def login_required(view):
    """For pages of this server (console, My Security Info): the browser's session in g.tenant, or a
    sign-in that comes back here. The view receives the session as g.sso."""

    @wraps(view)
    def wrapper(**kwargs):
        session = current(g.tenant)
        if session is None:
            flow.start(g.tenant, return_to=request.full_path if request.method == "GET" else request.path)
            return redirect(url_for("signin.start", tenant=g.tenant_ref))
        g.sso = session
        return view(**kwargs)

    return wrapper
