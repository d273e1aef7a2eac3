"""The hardware token CSV import: a job that streams the file row by row, in bounded memory.

Header (required): upn,serial number,secret key,time interval,manufacturer,model[,hash function]
Valid rows are imported even when others fail; every rejected row goes to the error CSV with its line
number and reason. A serial number already in the inventory is rejected (never re-assigned), so re-importing
a file creates no duplicates. A job always ends: completed, or failed with a message.
"""

import csv
import io
import os
import threading

from flask import current_app
from sqlalchemy import insert, select, update

from ... import clock
from ...directory.models import User, new_id
from ...audit import reasons
from ...extensions import db
from ...i18n.names import Message, N_
from . import service
from .models import HardwareOathDevice, OathImportError, OathImportJob

HEADER = ["upn", "serial number", "secret key", "time interval", "manufacturer", "model"]
OPTIONAL = ["hash function"]
HASH_NAMES = {"sha1": "hmacsha1", "sha256": "hmacsha256", "": "hmacsha1"}
ERROR_FIELDS = ["Line", "SerialNumber", "UserPrincipalName", "Reason"]  # not the upload's names, as in Entra
BATCH = 500


def start(tenant_id: str, path: str, created_by: str | None, run_inline: bool = False) -> OathImportJob:
    """Create the job and run it in the background (or inline, for the CLI)."""
    job = OathImportJob(tenant_id=tenant_id, created_by=created_by)
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    if run_inline:
        run(job_id, path)
    else:
        app = current_app._get_current_object()
        threading.Thread(target=_run_in_app, args=(app, job_id, path), daemon=True).start()
    return db.session.get(OathImportJob, job_id)


def _run_in_app(app, job_id, path):
    with app.app_context():
        run(job_id, path)


def _count_rows(path: str) -> int:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


def run(job_id: str, path: str) -> None:
    job = db.session.get(OathImportJob, job_id)
    try:
        job.status, job.total_rows = "running", _count_rows(path)
        db.session.commit()
        with open(path, newline="", encoding="utf-8-sig") as handle:
            _import(job, csv.reader(handle))
        job = db.session.get(OathImportJob, job_id)
        if job.status != "failed":
            job.status = "completed"
    except (UnicodeDecodeError, csv.Error) as error:
        db.session.rollback()
        job = db.session.get(OathImportJob, job_id)
        job.status, job.message = "failed", str(Message(UNREADABLE, detail=str(error)))
    except Exception:  # never leave a job "running": the rows imported so far stay, the rest are not
        current_app.logger.exception("hardware token import %s failed", job_id)
        db.session.rollback()
        job = db.session.get(OathImportJob, job_id)
        job.status, job.message = (
            "failed",
            N_("The import stopped because of an internal error; rows counted as imported were kept."),
        )
    finally:
        os.remove(path)  # the upload holds token secrets: it does not outlive the job
    job.finished_at = clock.now()
    db.session.commit()


#: a job's message is stored in English (the inventory API returns it as it is) and shown translated: the ones
#: with a value in them are registered as templates (audit.reasons), so that the page finds the sentence again
UNREADABLE = reasons.template(N_("The file is not a readable CSV file: %(detail)s"))
BAD_HEADER = reasons.template(
    N_("The header row is missing or wrong. It must be: %(header)s (optionally followed by: hash function).")
)


def _import(job: OathImportJob, reader) -> None:
    header = [h.strip().lower() for h in next(reader, [])]
    if header[: len(HEADER)] != HEADER or any(h not in OPTIONAL for h in header[len(HEADER) :]):
        job.status = "failed"
        job.message = str(Message(BAD_HEADER, header=",".join(HEADER)))
        return
    has_hash = "hash function" in header
    job_id, tenant_id = job.id, job.tenant_id
    batch: list[tuple[int, list[str]]] = []
    for line, row in enumerate(reader, start=2):
        batch.append((line, row))
        if len(batch) == BATCH:
            _import_batch(job_id, tenant_id, batch, has_hash)
            batch = []
    if batch:
        _import_batch(job_id, tenant_id, batch, has_hash)


def _parse(row: list[str], has_hash: bool) -> tuple[str | None, dict]:
    """Check one row without the database: (reason it is rejected or None, its fields)."""
    width = len(HEADER) + (1 if has_hash else 0)
    if len(row) != width:  # the columns are shifted: any cell may be a secret, so none is echoed
        return f"Expected {width} columns, found {len(row)}.", {"upn": "", "serial": ""}
    upn, serial, secret, interval, manufacturer, model = (value.strip() for value in row[:6])
    hash_name = row[6].strip().lower() if has_hash else ""
    fields = {
        "upn": upn,
        "serial": serial,
        "secret": secret,
        "manufacturer": manufacturer or None,
        "model": model or None,
    }
    if hash_name == "hotp" or interval.lower() in ("", "0", "hotp"):
        return service.HOTP_REFUSAL, fields
    if hash_name not in HASH_NAMES:
        return "The hash function must be sha1 or sha256.", fields
    if not interval.isdigit():
        return "The time interval must be 30 or 60.", fields
    try:
        serial, secret, seconds, hash_function = service.validate_device_fields(
            serial, secret, int(interval), HASH_NAMES[hash_name]
        )
        service.validate_names({"manufacturer": manufacturer or None, "model": model or None})
    except service.OathError as error:
        return error.message, fields
    fields.update(serial=serial, secret=secret, interval=seconds, hash_function=hash_function)
    return None, fields


def _import_batch(job_id: str, tenant_id: str, batch, has_hash: bool) -> None:
    """One batch: a query for its serials, one for its users, bulk inserts; assignments one by one."""
    parsed = [(line, *_parse(row, has_hash)) for line, row in batch]
    existing, users = _known_serials_and_users(tenant_id, parsed)
    new_devices, errors, to_assign, seen = [], [], [], set()
    for line, problem, fields in parsed:
        serial, upn = fields["serial"], fields["upn"]
        user = users.get(upn.lower()) if upn else None
        problem = problem or _clash(job_id, fields, user, existing.get(serial), seen)
        if problem:
            errors.append(_rejected_row(job_id, line, fields, problem))
            continue
        seen.add(serial)
        device = _device_row(job_id, tenant_id, fields)
        new_devices.append(device)
        if user is not None:
            to_assign.append((line, device, user))
    if new_devices:
        db.session.execute(insert(HardwareOathDevice), new_devices)
    errors += _assign_all(job_id, to_assign)
    _finish_batch(job_id, len(batch), errors)


def _known_serials_and_users(tenant_id: str, parsed) -> tuple[dict, dict]:
    serials = {f["serial"] for _, problem, f in parsed if not problem}
    upns = {f["upn"].lower() for _, problem, f in parsed if not problem and f["upn"]}
    existing = {}
    if serials:
        rows = db.session.scalars(
            select(HardwareOathDevice).where(
                HardwareOathDevice.tenant_id == tenant_id, HardwareOathDevice.serial_number.in_(serials)
            )
        )
        existing = {d.serial_number: d for d in rows}
    users = {}
    if upns:
        users = {
            u.upn: u for u in db.session.scalars(select(User).where(User.tenant_id == tenant_id, User.upn.in_(upns)))
        }
    return existing, users


def _clash(job_id: str, fields: dict, user, device, seen: set) -> str | None:
    """Why a well-formed row still cannot be imported: an unknown user or a serial that exists already."""
    serial, upn = fields["serial"], fields["upn"]
    if upn and user is None:
        return f"There is no user '{upn}' in this organization."
    if serial in seen or (device is not None and device.import_job_id == job_id):
        return f"Serial number '{serial}' appears more than once in this file."
    if device is not None:
        return "A token with this serial number already exists."
    return None


def _rejected_row(job_id: str, line: int, fields: dict, reason: str) -> dict:
    """An error row; a value that is the secret itself (a shifted column) is never stored."""
    serial, upn, secret = fields["serial"], fields["upn"], fields.get("secret")
    return {
        "job_id": job_id,
        "line": line,
        "serial_number": None if not serial or serial == secret else serial[:128],
        "upn": None if not upn or upn == secret else upn[:320],
        "reason": reason,
    }


def _device_row(job_id: str, tenant_id: str, fields: dict) -> dict:
    return {
        "id": new_id(),
        "tenant_id": tenant_id,
        "serial_number": fields["serial"],
        "secret": service.seal(fields["secret"]),
        "time_interval": fields["interval"],
        "hash_function": fields["hash_function"],
        "manufacturer": fields["manufacturer"],
        "model": fields["model"],
        "status": "available",
        "import_job_id": job_id,
        "created_at": clock.now(),
    }


def _assign_all(job_id: str, to_assign) -> list[dict]:
    errors = []
    for line, row, user in to_assign:
        device = db.session.get(HardwareOathDevice, row["id"])
        try:
            service.assign(device, user)
        except service.OathError as error:  # raised before anything is written: the row stays, unassigned
            errors.append(
                {
                    "job_id": job_id,
                    "line": line,
                    "serial_number": device.serial_number,
                    "upn": user.upn,
                    "reason": error.message,
                }
            )
    return errors


def _finish_batch(job_id: str, rows: int, errors: list[dict]) -> None:
    if errors:
        db.session.execute(insert(OathImportError), errors)
    failed = len(errors)
    db.session.execute(
        update(OathImportJob)
        .where(OathImportJob.id == job_id)
        .values(
            processed_rows=OathImportJob.processed_rows + rows,
            imported_rows=OathImportJob.imported_rows + rows - failed,
            failed_rows=OathImportJob.failed_rows + failed,
        )
    )
    db.session.commit()
    db.session.expunge_all()  # bounded memory: nothing accumulates in the identity map


def error_csv(job_id: str):
    """The rejected rows as CSV, streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ERROR_FIELDS)
    yield buffer.getvalue()
    stmt = select(OathImportError).where(OathImportError.job_id == job_id).order_by(OathImportError.line)
    for error in db.session.scalars(stmt).yield_per(1000):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([error.line, *(inert(cell) for cell in (error.serial_number, error.upn, error.reason))])
        yield buffer.getvalue()


def inert(cell: str | None) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or CR) would be a formula."""
    cell = cell or ""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
