"""Sign-in logs, audit logs and the dashboard of the console: filters, a detail pane, CSV/JSON export, charts."""

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Response, abort, g, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import String, cast, func, select

from .. import clock
from ..audit import first_party, reasons
from ..audit.models import AuditLog, SignInLog
from ..directory.models import User
from ..extensions import db
from ..i18n.names import N_
from ..methods import registry as methods
from ..mfa import fraud, locations
from ..oidc.models import Client
from . import admin_required, bp, charts, mfa_registrations

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
RESULTS = ("success", "failure", "interrupted")


def _day(name: str) -> datetime | None:
    try:
        return datetime.strptime(request.args.get(name, ""), "%Y-%m-%d")
    except ValueError:
        return None


def _signin_filters() -> tuple[dict, list]:
    """The filter form's values (kept as entered) and the SQL conditions they mean."""
    values = {
        name: request.args.get(name, "").strip()[:200] for name in ("user", "app", "result", "method", "from", "to")
    }
    where = [SignInLog.tenant_id == g.tenant.id]
    if values["user"]:
        where.append(SignInLog.upn.contains(values["user"].lower()))
    if values["app"]:
        where.append(SignInLog.client_id == values["app"])
    if values["result"] in RESULTS:
        where.append(SignInLog.result == values["result"])
    if values["method"]:
        where.append(_used_method(values["method"]))
    return values, where + _date_range(SignInLog)


def _used_method(name: str):
    """Methods are a JSON list of names: its text holds the name in quotes (the same on SQLite and PostgreSQL)."""
    escaped = json.dumps(name).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(SignInLog.methods, String).like(f"%{escaped}%", escape="\\")


def _date_range(model) -> list:
    where = []
    if (start := _day("from")) is not None:
        where.append(model.created_at >= start)
    if (end := _day("to")) is not None:
        where.append(model.created_at < end + timedelta(days=1))
    return where


def _apps() -> dict[str, str]:
    """Application names by id: the tenant's registrations and this server's own pages (no Client row)."""
    registered = db.session.execute(select(Client.id, Client.name).where(Client.tenant_id == g.tenant.id))
    return {app_id: _(name) for app_id, name in first_party.NAMES.items()} | {i: name for i, name in registered}


def method_label(name: str) -> str:
    method = methods.get(name)
    return _(method.label) if method else name


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


# --- one way to list, filter, page and export a log ------------------------------------------------------


@dataclass(frozen=True)
class LogKind:
    """A log the console lists: its rows, filters, export records and the page's own context."""

    model: type
    template: str
    export_name: str
    missing: str  # the 404 text for a detail id of another tenant (or none)
    filters: Callable[[], tuple[dict, list]]
    records: Callable[[list], list[dict]]  # rows -> exported records
    context: Callable[[list, object], dict]  # (rows shown, selected row) -> the template's own values


def _rows(model, where: list, export: bool) -> list:
    """Newest first, filtered in SQL; a page (and one more row, to know there is a next page) or the export."""
    stmt = select(model).where(*where).order_by(model.created_at.desc(), model.id.desc())
    stmt = stmt.limit(EXPORT_LIMIT) if export else stmt.offset(PAGE_SIZE * (_page() - 1)).limit(PAGE_SIZE + 1)
    return list(db.session.scalars(stmt))


def _selected(kind: LogKind):
    row_id = request.args.get("id", "")[:36]
    if not row_id:
        return None
    row = db.session.get(kind.model, row_id)
    if row is None or row.tenant_id != g.tenant.id:
        abort(404, description=_(kind.missing))
    return row


def _log_page(kind: LogKind):
    values, where = kind.filters()
    export = request.args.get("format")
    if export and export not in ("csv", "json"):
        abort(400, description=_("Export as csv or json."))
    rows = _rows(kind.model, where, bool(export))
    if export:
        return _export(export, kind.export_name, kind.records(rows))
    shown, selected = rows[:PAGE_SIZE], _selected(kind)
    return render_template(
        kind.template,
        rows=shown,
        values=values,
        more=len(rows) > PAGE_SIZE,
        page=_page(),
        selected=selected,
        **kind.context(shown, selected),
    )


# --- sign-in logs -------------------------------------------------------------------------------------


def _signin_records(rows: list) -> list[dict]:
    apps = _apps()
    return [_signin_record(row, apps) for row in rows]


def _signin_context(rows: list, selected) -> dict:
    apps = _apps()
    return {
        "apps": apps,
        "results": RESULTS,
        "method_names": [m.name for m in methods.all_methods()],
        "method_label": method_label,
        "failure_reason": failure_reason,
        "detail": _signin_detail(selected, apps) if selected else None,
    }


SIGN_INS = LogKind(
    SignInLog,
    "console/signin_logs.html",
    "sign-ins",
    N_("No such sign-in in this tenant."),
    _signin_filters,
    _signin_records,
    _signin_context,
)


@bp.get("/logs/sign-ins")
@admin_required
def signin_logs():
    return _log_page(SIGN_INS)


def failure_reason(row: SignInLog) -> str | None:
    """The list's reason column: why a sign-in did not complete, in the reader's language; None for a success
    (a single-factor success keeps its note for the detail pane)."""
    if row.result == "success":
        return None
    return reasons.shown(row.failure_reason) or _("no reason recorded")


def _signin_record(row: SignInLog, apps: dict) -> dict:
    """One sign-in as exported, with Graph's property names where Graph has one."""
    return {
        "id": row.id,
        "createdDateTime": clock.iso(row.created_at),
        "userPrincipalName": row.upn,
        "userId": row.user_id,
        "appId": row.client_id,
        "appDisplayName": apps.get(row.client_id),
        "ipAddress": row.ip,
        "authenticationMethods": row.methods or [],
        "result": row.result,
        "reason": row.failure_reason,
    }


def _signin_detail(row: SignInLog, apps: dict) -> dict:
    if row.result == "success":
        decision = (
            _("Multifactor authentication satisfied")
            if len(row.methods or []) > 1
            else _("Single-factor sign-in: %(reason)s", reason=reasons.shown(row.failure_reason))
            if row.failure_reason
            else _("Single-factor sign-in")
        )
    else:
        decision = _("Not completed: %(reason)s", reason=reasons.shown(row.failure_reason) or _("no reason recorded"))
    return {
        "steps": [method_label(name) for name in row.methods or []],
        "decision": decision,
        "location": reasons.shown(locations.trusted_because(row.tenant_id, row.ip)) if row.ip else None,
        "app": apps.get(row.client_id) or row.client_id,
        "fraud": row.failure_reason == fraud.DENIED,
    }


# --- audit logs ---------------------------------------------------------------------------------------


def _audit_filters() -> tuple[dict, list]:
    values = {name: request.args.get(name, "").strip()[:200] for name in ("activity", "actor", "target", "from", "to")}
    where = [AuditLog.tenant_id == g.tenant.id]
    if values["activity"]:
        where.append(AuditLog.activity.contains(values["activity"]))
    if values["actor"]:
        actor_ids = select(User.id).where(User.tenant_id == g.tenant.id, User.upn.contains(values["actor"].lower()))
        where.append(AuditLog.actor_id.in_(actor_ids))
    if values["target"]:
        where.append(AuditLog.target_id == values["target"])
    return values, where + _date_range(AuditLog)


def _actors(rows: list) -> dict[str, str]:
    """The user principal names of the rows' actors (only theirs: a tenant may have many users)."""
    ids = {row.actor_id for row in rows if row.actor_id}
    if not ids:
        return {}
    found = db.session.execute(select(User.id, User.upn).where(User.tenant_id == g.tenant.id, User.id.in_(ids)))
    return {user_id: upn for user_id, upn in found}


def _audit_records(rows: list) -> list[dict]:
    actors = _actors(rows)
    return [_audit_record(row, actors) for row in rows]


AUDIT = LogKind(
    AuditLog,
    "console/audit_logs.html",
    "audit",
    N_("No such audit record in this tenant."),
    _audit_filters,
    _audit_records,
    lambda rows, selected: {"actors": _actors(rows + ([selected] if selected else []))},
)


@bp.get("/logs/audit")
@admin_required
def audit_logs():
    return _log_page(AUDIT)


def _audit_record(row: AuditLog, actors: dict) -> dict:
    return {
        "id": row.id,
        "activityDateTime": clock.iso(row.created_at),
        "activityDisplayName": row.activity,
        "initiatedBy": actors.get(row.actor_id) or row.actor_id,
        "initiatorType": row.actor_type,
        "targetType": row.target_type,
        "targetId": row.target_id,
        "before": row.before,
        "after": row.after,
    }


def _export(kind: str, name: str, records: list[dict]) -> Response:
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    disposition = {"Content-Disposition": f'attachment; filename="{name}-{stamp}.{kind}"'}
    if kind == "json":
        return Response(
            json.dumps({"value": records}, ensure_ascii=False, indent=1),
            mimetype="application/json",
            headers=disposition,
        )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else ["id"])
    writer.writeheader()
    for record in records:
        writer.writerow({key: _csv_cell(value) for key, value in record.items()})
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers=disposition)  # BOM: Excel reads UTF-8


def _csv_cell(value):
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        value = "'" + value  # a spreadsheet must not run a cell as a formula
    return value


# --- the dashboard ------------------------------------------------------------------------------------


@bp.get("/")
@admin_required
def index():
    """The console's home page: a dashboard of the sign-in log."""
    data = dashboard_data(g.tenant.id)
    return render_template("console/index.html", data=data, charts=dashboard_charts(data))


def dashboard_data(tenant_id: str) -> dict:
    now = clock.now()
    day_ago, week_ago = now - timedelta(hours=24), now - timedelta(days=7)
    recent = db.session.execute(
        select(SignInLog.created_at, SignInLog.result, SignInLog.methods, SignInLog.failure_reason).where(
            SignInLog.tenant_id == tenant_id, SignInLog.created_at >= week_ago
        )
    ).all()
    hours = [(now - timedelta(hours=23 - i)).replace(minute=0, second=0, microsecond=0) for i in range(24)]
    per_hour = {hour: Counter() for hour in hours}
    used, failures = Counter(), Counter()
    for created, result, used_methods, reason in recent:
        if created >= day_ago:
            hour = created.replace(minute=0, second=0, microsecond=0)
            if hour in per_hour:
                per_hour[hour][result] += 1
        used.update(used_methods or [])
        if result == "failure":
            failures[reasons.shown(reason) or _("no reason recorded")] += 1
    members = (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.tenant_id == tenant_id, User.user_type == "Member")
        )
        or 0
    )
    registered = set().union(*(registrations(tenant_id) for registrations in mfa_registrations))
    registered_members = (
        db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.tenant_id == tenant_id, User.user_type == "Member", User.id.in_(registered))
        )
        if registered
        else 0
    )
    return {
        "hours": [(format_datetime(hour, "HH:mm"), dict(per_hour[hour])) for hour in hours],
        "methods": [(method_label(name), count) for name, count in used.most_common()],
        "failures": failures.most_common(),
        "members": members,
        "registered": registered_members,
        "totals": Counter(result for created, result, *_rest in recent if created >= day_ago),
    }


def dashboard_charts(data: dict) -> dict:
    series = [charts.Series(key, _(key), charts.COLOURS[key]) for key in RESULTS]
    per_hour, methods, failures = (
        _("Sign-ins per hour, last 24 hours, by result"),
        _("Authentication methods used, last 7 days"),
        _("Top failure reasons, last 7 days"),
    )
    red = charts.COLOURS["failure"]
    return {
        "per_hour": charts.responsive(
            charts.stacked_columns(per_hour, data["hours"], series),
            charts.stacked_columns(per_hour, data["hours"], series, width=charts.NARROW, labels=4),
        ),
        "methods": charts.responsive(
            charts.horizontal_bars(methods, data["methods"]), charts.labelled_bars(methods, data["methods"])
        ),
        "coverage": charts.share_bar(
            _("Members registered for multifactor authentication"),
            data["registered"],
            data["members"],
            _("Registered"),
            _("Not registered"),
        ),
        "failures": charts.responsive(
            charts.horizontal_bars(failures, data["failures"], colour=red),
            charts.labelled_bars(failures, data["failures"], colour=red),
        ),
        "series": series,
    }
