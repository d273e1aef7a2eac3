"""The token inventory in the admin console: upload, progress, rejected rows, assignment, activation."""

import re
import time

from sqlalchemy import select

from idp.extensions import db
from idp.methods.oath.models import HardwareOathDevice, OathMethod

from .support import PASSWORD
from .test_console_and_securityinfo import console
from .test_oath_api_and_signin import BAD_FILE, current_code


def test_upload_progress_errors_assign_and_activate(live, seed):
    admin = console(live, "admin@contoso.test", PASSWORD, "/contoso.test/admin/oath/tokens")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', admin.page.text).group(1)
    response = admin.http.post(
        f"{live.url}/contoso.test/admin/oath/tokens/import",
        data={"csrf_token": csrf},
        files={"file": ("tokens.csv", BAD_FILE.encode(), "text/csv")},
    )
    for _ in range(100):
        if "Status: completed" in re.sub(r"<[^>]+>|\s+", " ", response.text).replace("  ", " "):
            break
        time.sleep(0.05)
        response = admin.http.get(response.url)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))
    assert "completed" in text and "8 of 8 rows done" in text and "2 imported" in text and "6 rejected" in text
    errors = admin.http.get(response.url + "/errors.csv")
    assert errors.headers["Content-Type"].startswith("text/csv") and errors.text.startswith("Line,SerialNumber")
    admin.go("/contoso.test/admin/oath/tokens")
    assert "1234567" in admin.text() and "alice@contoso.test" in admin.text()
    # assign the free token to the admin's colleague and activate it with the code it shows
    admin.go(f"/contoso.test/admin/users/{seed.alice.id}")
    admin.submit("/oath/assign", serial="7654321")
    method = db.session.scalar(
        select(OathMethod).join(HardwareOathDevice).where(HardwareOathDevice.serial_number == "7654321")
    )
    admin.submit(f"/oath/{method.id}/activate", code=current_code("JBSWY3DPEHPK3PXP"))  # the file's secret
    db.session.expire_all()
    assert db.session.get(OathMethod, method.id).activated_at is not None
    assert "active" in admin.text()


def test_a_refused_import_file_is_explained_in_japanese(live, seed):
    from idp import i18n
    from idp.methods.oath.models import OathImportJob

    admin = console(live, "admin@contoso.test", PASSWORD, "/contoso.test/admin/oath/tokens")
    admin.http.cookies.set(i18n.COOKIE, "ja")
    admin.go("/contoso.test/admin/oath/tokens")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', admin.page.text).group(1)
    response = admin.http.post(
        f"{live.url}/contoso.test/admin/oath/tokens/import",
        data={"csrf_token": csrf},
        files={"file": ("tokens.csv", b"user,serial\nalice@contoso.test,1\n", "text/csv")},
    )
    for _ in range(100):
        if 'role="alert"' in response.text:
            break
        time.sleep(0.05)
        response = admin.http.get(response.url)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))
    assert "見出し行" in text and "header row" not in text
    db.session.expire_all()
    (job,) = db.session.scalars(select(OathImportJob)).all()
    assert job.message.startswith("The header row is missing or wrong. It must be: upn,")  # the API's English
