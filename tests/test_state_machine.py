"""Issue 17 item 2: the flow engine alone moves a sign-in transaction. Views, fraud reports, guest redirects and
the grants read `txn.state`; only idp/signin/flow.py and idp/signin/verification.py (one submitted answer's path)
assign it, so "what next" is decided in one place. A new assignment anywhere else fails here."""

import ast
from pathlib import Path

import pytest

import idp

pytestmark = pytest.mark.once

ENGINE = {"signin/flow.py", "signin/verification.py"}
PACKAGE = Path(idp.__file__).parent


def _state_writes(tree: ast.AST) -> list[int]:
    """Lines that assign `<txn>.state`, or set `state=` in an UPDATE of the transaction table."""
    lines = []
    for node in ast.walk(tree):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign | ast.AugAssign)
            else []
        )
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "state" and _names_a_transaction(target.value):
                lines.append(node.lineno)
        if isinstance(node, ast.Call) and "SigninTransaction" in ast.unparse(node.func):
            if any(keyword.arg == "state" for keyword in node.keywords):
                lines.append(node.lineno)
    return lines


def _names_a_transaction(value: ast.expr) -> bool:
    text = ast.unparse(value)
    return text in ("txn", "transaction", "self") or text.endswith((".txn", ".transaction")) or "Transaction" in text


def test_only_the_flow_engine_moves_a_transaction():
    writers = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        lines = _state_writes(ast.parse(path.read_text()))
        if lines:
            writers[relative] = lines
    assert set(writers) <= ENGINE, {k: v for k, v in writers.items() if k not in ENGINE}
    assert ENGINE <= set(writers)  # the check finds the engine's own moves, so it can find others


def test_the_check_finds_a_move_written_elsewhere():
    planted = ast.parse(
        "def view(txn):\n    txn.state = Step.DONE\n\ndef other(t):\n    update(SigninTransaction).values(state='done')\n"
    )
    assert _state_writes(planted) == [2, 5]
