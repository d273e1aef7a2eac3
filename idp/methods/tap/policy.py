"""The TemporaryAccessPass configuration: lifetimes and length, with Entra's bounds."""

from ...policy.service import ConfigType

LIFETIME_RANGE = (10, 43_200)
LENGTH_RANGE = (8, 48)
DEFAULTS = {
    "minimumLifetimeInMinutes": 60,
    "maximumLifetimeInMinutes": 480,
    "defaultLifetimeInMinutes": 60,
    "isUsableOnce": False,
    "defaultLength": 8,
}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(settings: dict) -> str | None:
    low, high = LIFETIME_RANGE
    for name in ("minimumLifetimeInMinutes", "maximumLifetimeInMinutes", "defaultLifetimeInMinutes"):
        if not _is_int(settings[name]) or not low <= settings[name] <= high:
            return f"Property '{name}' must be a whole number of minutes from {low} to {high:,}."
    if settings["minimumLifetimeInMinutes"] > settings["maximumLifetimeInMinutes"]:
        return "Property 'minimumLifetimeInMinutes' must not exceed 'maximumLifetimeInMinutes'."
    if (
        not settings["minimumLifetimeInMinutes"]
        <= settings["defaultLifetimeInMinutes"]
        <= settings["maximumLifetimeInMinutes"]
    ):
        return (
            "Property 'defaultLifetimeInMinutes' must lie between 'minimumLifetimeInMinutes' and "
            "'maximumLifetimeInMinutes'."
        )
    if not _is_int(settings["defaultLength"]) or not LENGTH_RANGE[0] <= settings["defaultLength"] <= LENGTH_RANGE[1]:
        return f"Property 'defaultLength' must be a whole number from {LENGTH_RANGE[0]} to {LENGTH_RANGE[1]}."
    if not isinstance(settings["isUsableOnce"], bool):
        return "Property 'isUsableOnce' must be true or false."
    return None


CONFIG = ConfigType(
    method_id="TemporaryAccessPass",
    odata_type="#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
    defaults=DEFAULTS,
    validate=validate,
)
