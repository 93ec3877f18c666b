"""House rule: queries filter by tenant only through mostrador.kit.tenancy.scoped (polar's org_scope linter)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "mostrador"
ALLOWED = {SRC / "kit" / "tenancy.py"}


def inline_tenant_filters(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.In) for op in node.ops):
            sides = [node.left, *node.comparators]
            if any(
                isinstance(side, ast.Attribute)
                and side.attr == "account_id"
                and isinstance(side.value, ast.Name)
                and side.value.id[:1].isupper()
                for side in sides
            ):
                lines.append(node.lineno)
    return lines


def test_no_inline_account_filters() -> None:
    offenders = {
        str(path.relative_to(SRC)): lines
        for path in SRC.rglob("*.py")
        if path not in ALLOWED and (lines := inline_tenant_filters(path))
    }
    assert offenders == {}, f"filter by account only via kit.tenancy.scoped(): {offenders}"


def test_the_lint_catches_an_inline_filter(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("select(Contact).where(Contact.account_id == account_id)\n")
    assert inline_tenant_filters(sample) == [1]
