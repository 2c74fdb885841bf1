"""The offline commands name a missing journal and exit with 2 (no traceback, nothing written)."""
from __future__ import annotations

import pytest

from exchange.cli import main


@pytest.mark.parametrize("argv, prog", [
    (["replay", "{missing}"], "paperex replay"),
    (["export", "{missing}", "{db}"], "paperex export"),
    (["journal", "check", "{missing}"], "paperex journal check"),
    (["journal", "repair", "{missing}"], "paperex journal repair"),
    (["view", "{missing}"], "paperex view"),
])
def test_a_missing_journal_is_named(tmp_path, capsys, argv, prog):
    missing, db = tmp_path / "nope", tmp_path / "out.db"
    assert main([a.format(missing=missing, db=db) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"{prog}: {missing}: no such journal"
    assert not missing.exists() and not db.exists()
