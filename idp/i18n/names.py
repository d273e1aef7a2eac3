"""Names the pages show that come from data rather than from a template (roles, method labels, log results):
marked here so the catalogues carry them; templates translate them with the `t` filter."""


def N_(message: str) -> str:  # noqa: N802  (gettext's name for "mark, don't translate yet")
    return message


class Message(str):
    """A message with values in it, for a page to translate later: its value is the English text (what logs
    and tests see); the `t` filter translates `msgid` and fills in `values`, dates in the reader's locale."""

    msgid: str
    values: dict

    def __new__(cls, msgid: str, **values: object) -> "Message":
        self = super().__new__(cls, msgid % {name: _english(value) for name, value in values.items()})
        self.msgid, self.values = msgid, values
        return self


def _english(value: object) -> object:
    from datetime import datetime

    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else value


ROLES = [
    N_("Global Administrator"),
    N_("Privileged Authentication Administrator"),
    N_("Authentication Administrator"),
    N_("Authentication Policy Administrator"),
    N_("Global Reader"),
    N_("Application Administrator"),
    N_("Cloud Application Administrator"),
]
#: the built-in authentication strengths (idp/policy/strengths.py)
STRENGTHS = [
    N_("Multifactor authentication"),
    N_("Combinations of methods that satisfy strong authentication, such as a password and a code."),
    N_("Passwordless MFA"),
    N_("Passwordless methods that satisfy strong authentication."),
    N_("Phishing-resistant MFA"),
    N_("Phishing-resistant, passwordless methods for the strongest authentication."),
]
METHODS = [
    N_("Password"),
    N_("Temporary Access Pass"),
    N_("Verification code from an authenticator app or token"),
    N_("Passkey or security key"),
    N_("Email one-time passcode"),
    N_("Your own organization's account"),
    N_("Text a code to my phone"),
    N_("Call my phone"),
    N_("Approve a request on my Microsoft Authenticator app"),
]
RESULTS = [N_("success"), N_("failure"), N_("interrupted")]
MFA_SECTIONS = [
    N_("Account lockout"),
    N_("Fraud alert"),
    N_("Report suspicious activity"),
    N_("Notifications"),
    N_("Trusted IPs"),
    N_("Verification methods"),
    N_("Phone call settings"),
    N_("Remember multifactor authentication"),
    N_("User risk"),
]
#: werkzeug's names and descriptions of the HTTP errors our pages show (error.html translates them)
HTTP_ERRORS = [
    N_("Bad Request"),
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_("Forbidden"),
    N_(
        "You don't have the permission to access the requested resource. It is either read-protected or not "
        "readable by the server."
    ),
    N_("Not Found"),
    N_(
        "The requested URL was not found on the server. If you entered the URL manually please check your "
        "spelling and try again."
    ),
    N_("Method Not Allowed"),
    N_("The method is not allowed for the requested URL."),
    N_("Request Entity Too Large"),
    N_("The data value transmitted exceeds the capacity limit."),
    N_("Too Many Requests"),
    N_("This user has exceeded an allotted request count. Try again later."),
    N_("Internal Server Error"),
    N_("Unauthorized"),
]
#: Authlib's descriptions that reach our error pages
OAUTH_ERRORS = [N_("Missing 'client_id' parameter."), N_("The client does not exist on this server.")]
#: the sign-in step's answer to an action a method does not have (methods/base.py stays free of imports)
STEP_MESSAGES = [N_("This action is not available.")]
