"""This server's own pages as the applications a sign-in was for: they have no Client row, so the sign-in log
names them by a fixed application id (Entra's own ids for the Azure portal and My Sign-Ins)."""

import re

from ..i18n.names import N_

ADMIN_CONSOLE = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
MY_SECURITY_INFO = "19db86c3-b2b9-44cc-b339-36da233a3be2"
NAMES = {ADMIN_CONSOLE: N_("Admin console"), MY_SECURITY_INFO: N_("My Security Info")}
#: the local path a sign-in returns to (/<tenant>/admin/..., /<tenant>/mysecurityinfo/...) -> the page's app
PAGES = re.compile(r"/[^/?#]+/(admin|mysecurityinfo)(?:[/?#]|$)")
APP_OF_PAGE = {"admin": ADMIN_CONSOLE, "mysecurityinfo": MY_SECURITY_INFO}


def app_id_for(client_id: str | None, return_to: str | None) -> str | None:
    """The application a sign-in is logged for: the client's id, else the first-party page it returns to."""
    if client_id or not return_to:
        return client_id
    match = PAGES.match(return_to)
    return APP_OF_PAGE[match.group(1)] if match else None
