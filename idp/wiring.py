"""The whole system in one place: every slice and what it contributes.

`create_app` calls `install(app)`. Importing any other module registers nothing: authentication methods,
policy configurations, panels, MFA rules and hooks are listed here, and the modules whose route decorators
add pages and Graph operations are imported here, in one readable list. To add an authentication method,
write its slice under `idp/methods/<name>/` and add one `Slice(...)` entry below.
"""

from dataclasses import dataclass
from types import ModuleType

from flask import Flask

from . import branding, console, mailer, securityinfo
from .branding import api as branding_api
from .branding import pages as branding_pages
from .cli import idp_cli
from .console import apps as console_apps
from .console import groups as console_groups
from .console import logs as console_logs
from .console import users as console_users
from .demo import bp as demo_bp
from .directory import service as directory
from .graph import app_grants as graph_app_grants
from .graph import app_keys as graph_app_keys
from .graph import applications as graph_applications
from .graph import auditlogs as graph_auditlogs
from .graph import batch as graph_batch
from .graph.blueprint import bp as graph_bp
from .graph import directory_objects as graph_directory_objects
from .graph import groups as graph_groups
from .graph import methods_overview, openapi
from .graph import password_methods as graph_password_methods
from .graph import roles as graph_roles
from .graph import signin_preferences as graph_signin_preferences
from .graph import users as graph_users
from .guests import api as guests_api
from .guests import bp as guests_bp
from .guests import home_account
from .guests import pages as guests_pages
from .kit import console as console_kit
from .kit import graph as graph_kit
from .kit import securityinfo as securityinfo_kit
from .methods import password, registry
from .methods.email_otp import method as email_otp_method
from .methods.email_otp import policy as email_otp_policy
from .methods.oath import api as oath_api
from .methods.oath import inventory_api as oath_inventory_api
from .methods.oath import method as oath_method
from .methods.oath import pages as oath_pages
from .methods.oath import policy as oath_policy
from .methods.passkey import api as passkey_api
from .methods.passkey import method as passkey_method
from .methods.passkey import pages as passkey_pages
from .methods.passkey import policy as passkey_policy
from .methods.phone import api as phone_api
from .methods.phone import method as phone_method
from .methods.phone import pages as phone_pages
from .methods.phone import policy as phone_policy
from .methods.phone import voice as phone_voice
from .methods.phone import voice_messages
from .methods.push import api as push_api
from .methods.push import method as push_method
from .methods.push import pages as push_pages
from .methods.push import policy as push_policy
from .methods.push import simulator as push_simulator
from .methods.tap import api as tap_api
from .methods.tap import method as tap_method
from .methods.tap import pages as tap_pages
from .methods.tap import policy as tap_policy
from .methods.tap import service as tap_service
from .mfa import api as mfa_api
from .mfa import blocks, fraud, locations, lockout, remember, risk, settings
from .mfa import location_pages
from .mfa import pages as mfa_pages
from .oidc import claims
from .oidc import server as oidc_server
from .oidc import signout as oidc_signout
from .oidc.grants import device as oidc_device
from .oidc import discovery_views as oidc_discovery_views
from .oidc.views import bp as oidc_bp
from .policy import api as policy_api
from .policy import service as policy
from .policy import strength_pages, strengths_api
from .signin import hooks, sessions
from .signin import lockout as signin_lockout
from .signin.views import bp as signin_bp
from .signin.models import Step
from .telephony import register_handler as register_call_handler
from .telephony import simulator as telephony_simulator
from .telephony import twilio


@dataclass(frozen=True)
class Slice:
    """What one authentication method contributes. `routes` are the modules whose decorators add its pages
    and Graph operations to the shell blueprints (they are imported above, before any blueprint is registered)."""

    name: str
    methods: tuple = ()
    policies: tuple = ()
    security_info: tuple = ()  # (user, session) -> [MethodEntry]
    security_info_actions: tuple = ()  # (user, session) -> [{"label", "endpoint"}]
    console_panels: tuple = ()  # (caller, user) -> dict(template=..., ...) | None
    mfa_registrations: tuple = ()  # (tenant_id) -> ids of users registered for MFA with this slice
    refresh_rules: tuple = ()  # may refuse a refresh token (claims.refresh_rules)
    call_handlers: tuple = ()  # (kind, handler): the IVR of the calls it places (idp.telephony)
    registration_windows: tuple = ()  # (session) -> deadline | None (sessions.registration_windows)
    graph_methods: tuple = ()  # (user) -> [Graph method dicts] for /authentication/methods
    routes: tuple[ModuleType, ...] = ()


SLICES = (
    Slice("password", methods=(password.PasswordMethod(),), security_info=(securityinfo.password_entries,)),
    Slice(
        "temporary access pass",
        methods=(tap_method.TemporaryAccessPassMethod(),),
        policies=(tap_policy.CONFIG,),
        security_info=(tap_pages.security_info_entries,),
        console_panels=(tap_pages.console_panel,),
        refresh_rules=(tap_service.refresh_rule,),
        registration_windows=(tap_service.registration_deadline,),
        graph_methods=(tap_api.overview,),
        routes=(tap_api, tap_pages),
    ),
    Slice(
        "oath",
        methods=(oath_method.OathMethodStep(),),
        policies=(oath_policy.SOFTWARE, oath_policy.HARDWARE),
        security_info=(oath_pages.security_info_entries,),
        security_info_actions=(oath_pages.security_info_actions,),
        console_panels=(oath_pages.console_panel,),
        mfa_registrations=(oath_pages.registered_user_ids,),
        graph_methods=(oath_api.overview,),
        routes=(oath_api, oath_inventory_api, oath_pages),
    ),
    Slice(
        "passkey",
        methods=(passkey_method.PasskeyMethod(),),
        policies=(passkey_policy.CONFIG,),
        security_info=(passkey_pages.security_info_entries,),
        security_info_actions=(passkey_pages.security_info_actions,),
        console_panels=(passkey_pages.console_panel,),
        mfa_registrations=(passkey_pages.registered_user_ids,),
        graph_methods=(passkey_api.overview,),
        routes=(passkey_api, passkey_pages),
    ),
    Slice(
        "phone",
        methods=(phone_method.SmsStep(), phone_method.VoiceStep()),
        policies=(phone_policy.SMS, phone_policy.VOICE),
        security_info=(phone_pages.security_info_entries,),
        security_info_actions=(phone_pages.security_info_actions,),
        mfa_registrations=(phone_pages.registered_user_ids,),
        call_handlers=(("mfa", phone_voice.handle),),
        graph_methods=(phone_api.overview,),
        routes=(phone_api, phone_pages),
    ),
    Slice(
        "authenticator push",
        methods=(push_method.PushStep(),),
        policies=(push_policy.CONFIG,),
        security_info=(push_pages.security_info_entries,),
        security_info_actions=(push_pages.security_info_actions,),
        mfa_registrations=(push_pages.registered_user_ids,),
        routes=(push_pages,),
    ),
    Slice("email one-time passcode", methods=(email_otp_method.EmailOtpMethod(),), policies=(email_otp_policy.CONFIG,)),
    Slice("guest home account", methods=(home_account.HomeAccountMethod(),), routes=(guests_api, guests_pages)),
)


def _remember_if_asked(txn, user, method, form) -> None:
    if form.get("remember_mfa") == "on" and txn.state == Step.MFA:
        remember.remember_device(user)


def _verification_method_enabled(txn, method) -> bool:
    """A verification method the tenant switched off is not offered."""
    if method.verification_method is None:
        return True
    return settings.get(txn.tenant_id, "verificationMethods")[method.verification_method]


def _install_mfa_rules() -> None:
    """The MFA settings, composed into the flow. MFA rules: lower order runs first, the first answer wins."""
    hooks.add_mfa_rule(400, remember.remembered_device)
    hooks.add_mfa_rule(500, locations.trusted_location)
    hooks.signin_guards.append(risk.signin_guard)
    hooks.mfa_guards.extend([blocks.guard, lockout.claim_attempt])
    hooks.prompt_checks.extend([blocks.guard, lockout.locked_check])  # before a prompt is shown or a code sent
    hooks.mfa_denial_hooks.append(lockout.record_denial)
    hooks.mfa_abandon_hooks.append(lockout.release)
    hooks.mfa_success_hooks.extend([lockout.record_success, _remember_if_asked])
    hooks.availability_rules.append(_verification_method_enabled)
    hooks.fraud_reporters.append(fraud.report)  # the fraud code on a call, "report" in the authenticator
    hooks.fraud_reporting_rules.append(fraud.can_report)
    claims.refresh_rules.append(remember.refresh_rule)


def _install_slice(piece: Slice) -> None:
    for method in piece.methods:
        registry.register(method)
    for config_type in piece.policies:
        policy.register(config_type)
    securityinfo.panels.extend(piece.security_info)
    securityinfo.add_actions.extend(piece.security_info_actions)
    console.user_panels.extend(piece.console_panels)
    console.mfa_registrations.extend(piece.mfa_registrations)
    claims.refresh_rules.extend(piece.refresh_rules)
    for kind, handler in piece.call_handlers:
        register_call_handler(kind, handler)
    sessions.registration_windows.extend(piece.registration_windows)
    methods_overview.listers.extend(piece.graph_methods)


_installed = False
#: modules that add routes to the shells by decorators, besides the slices' own (listed so nothing is implicit)
SHELL_ROUTES = (
    oidc_discovery_views,
    graph_users,
    graph_groups,
    graph_roles,
    graph_applications,
    graph_directory_objects,
    graph_app_grants,
    graph_app_keys,
    graph_auditlogs,
    graph_batch,
    graph_signin_preferences,
    branding_api,
    branding_pages,
    methods_overview,
    graph_password_methods,
    policy_api,
    strengths_api,
    strength_pages,
    mfa_api,
    mfa_pages,
    location_pages,
    openapi,
    console_logs,
    console_apps,
    console_groups,
    console_users,
)


def _install_registries() -> None:
    """Process-wide registries are filled once, however many apps a process creates (the tests make many)."""
    global _installed
    if _installed:
        return
    for piece in SLICES:
        _install_slice(piece)
    # the routes declared through the kit (by the slices and the Graph resources) join their shells' blueprints
    graph_kit.routes.add_to(graph_bp)
    console_kit.pages.add_to(console.bp)
    securityinfo_kit.pages.add_to(securityinfo.bp)
    _install_mfa_rules()
    console.user_sections.extend((mfa_pages.user_section, guests_pages.user_section))
    idp_cli.add_command(push_simulator.cli)  # `flask idp authenticator ...`
    directory.session_revokers.append(sessions.revoke_user)  # disabled, deleted or revoked users sign out
    sessions.sessions_revoked_hooks.append(oidc_signout.sessions_revoked)  # a revoked session voids its tokens
    sessions.user_revoked_hooks.append(oidc_signout.user_revoked)
    _installed = True


def install(app: Flask) -> None:
    _install_registries()
    oidc_server.init_app(app)
    app.after_request(remember.apply_cookies)
    app.add_template_global(mfa_pages.mfa_prompt_extras)
    app.add_template_global(branding.sign_in_branding)
    app.register_blueprint(graph_bp, url_prefix="/v1.0", name="graph_v1")
    app.register_blueprint(graph_bp, url_prefix="/beta", name="graph_beta")
    app.register_blueprint(openapi.bp, url_prefix="/graph")
    for blueprint in (
        oidc_bp,
        oidc_device.bp,
        signin_bp,
        demo_bp,
        guests_bp,
        mailer.bp,
        branding.bp,
        telephony_simulator.bp,
        twilio.bp,
        voice_messages.bp,
        push_api.bp,
        push_simulator.bp,
        console.bp,
        securityinfo.bp,
    ):
        app.register_blueprint(blueprint)
    app.after_request(sessions.apply_cookie_ops)
    app.after_request(signin_lockout.apply_device_cookie)  # familiar browsers for the smart lockout
