"""MicrosoftAuthenticator: the methods policy's configuration for app notifications."""

from ...policy.service import ConfigType

CONFIG = ConfigType(
    method_id="MicrosoftAuthenticator",
    odata_type="#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
)
