"""Company branding on the tenant's sign-in pages (and nowhere else): the banner logo, the background colour,
the sign-in page text and the username hint. The logo and a one-rule stylesheet are served from this server
(the pages' CSP allows no inline style and no other origin)."""

from flask import Blueprint, abort, g, has_request_context, make_response, request

bp = Blueprint("branding", __name__, url_prefix="/<tenant>/branding")

#: the blueprints whose pages are the sign-in pages a tenant's branding applies to
SIGN_IN_BLUEPRINTS = ("signin", "guests")


def sign_in_branding():
    """The current tenant's branding when this page is one of its sign-in pages, else None."""
    from . import service

    if not has_request_context() or request.blueprint not in SIGN_IN_BLUEPRINTS or g.get("tenant") is None:
        return None
    return service.shown(g.tenant.id)


@bp.get("/bannerlogo")
def banner_logo():
    from . import service

    row = service.find(g.tenant.id)
    if row is None or row.banner_logo is None:
        abort(404)
    response = make_response(row.banner_logo)
    response.headers.update(
        {
            "Content-Type": row.banner_logo_type,  # checked from the bytes: PNG or JPEG, never SVG
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "public, max-age=300",
        }
    )
    return response


@bp.get("/style.css")
def stylesheet():
    """The background colour as a stylesheet (validated #RRGGBB: nothing else can reach the CSS)."""
    from . import service

    row = service.find(g.tenant.id)
    color = row.background_color if row is not None else None
    css = f"body.branded {{ background-color: {color}; }}\n" if color and service.COLOR.fullmatch(color) else ""
    response = make_response(css)
    response.headers.update({"Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=60"})
    return response
