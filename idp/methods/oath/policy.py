"""SoftwareOath and HardwareOath: separate configurations, each enabled and targeted on its own."""

from ...policy.service import ConfigType

SOFTWARE = ConfigType(
    method_id="SoftwareOath", odata_type="#microsoft.graph.softwareOathAuthenticationMethodConfiguration"
)
HARDWARE = ConfigType(
    method_id="HardwareOath", odata_type="#microsoft.graph.hardwareOathAuthenticationMethodConfiguration"
)
