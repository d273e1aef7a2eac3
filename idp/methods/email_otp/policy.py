"""The Email configuration: `allowExternalIdToUseEmailOtp` (default, enabled, disabled). `default` means
enabled (managed by the service)."""

from ...policy.service import ConfigType

VALUES = ("default", "enabled", "disabled")


def validate(settings: dict) -> str | None:
    if settings.get("allowExternalIdToUseEmailOtp") not in VALUES:
        return "Property 'allowExternalIdToUseEmailOtp' must be 'default', 'enabled' or 'disabled'."
    return None


CONFIG = ConfigType(
    method_id="Email",
    odata_type="#microsoft.graph.emailAuthenticationMethodConfiguration",
    defaults={"allowExternalIdToUseEmailOtp": "default"},
    validate=validate,
)
