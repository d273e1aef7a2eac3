"""The sign-in transaction's scratch data is typed: one declared field per key, in one place (issue 17 item 4)."""

import re
from pathlib import Path

from idp.signin.models import SigninTransaction


def test_a_scratch_field_reads_a_copy_and_none_removes_it():
    txn = SigninTransaction(data={"oath": {"step": 7}})
    assert txn.factors == [] and txn.strength_id is None and txn.tenantless is False
    txn.factors = txn.factors + ["fido2"]
    txn.factors.append("changed-in-a-copy")  # a read is a copy: the stored list stays as written
    assert txn.data == {"oath": {"step": 7}, "_factors": ["fido2"]}
    txn.strength_id = "00000000-0000-0000-0000-000000000004"
    txn.strength_id = None
    assert "_strength" not in txn.data and txn.data["oath"] == {"step": 7}


def test_no_module_indexes_the_scratch_data_by_a_string_key():
    source = Path(__file__).resolve().parent.parent / "idp"
    offenders = [
        f"{path.relative_to(source)}:{number}"
        for path in source.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"""data(\.get\(|\[)\s*["']_""", line) or re.search(r"""["']_[a-z][a-z_]*["']\s*:""", line)
    ]
    assert offenders == []
