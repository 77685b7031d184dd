"""CI strictness: with CI set to any true value a missing PostgreSQL, Chromium or CJK font
fails the run; on a developer's machine the tests that need them are skipped."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .browser.conftest import CHROMIUM
from .conftest import ci_is_on

ROOT = Path(__file__).resolve().parent.parent
A_DATABASE_TEST = "tests/test_units.py::test_card_of_a_unit_without_arrears[postgresql]"
A_BROWSER_TEST = "tests/browser/test_smoke.py::test_login_page_is_accessible"


@pytest.mark.parametrize("value", ["1", "true", "True", "TRUE", "yes", " true "])
def test_any_true_value_turns_ci_on(value):
    """CI=1, CI=true, CI=True and CI=yes all make the run strict."""
    assert ci_is_on(value)


@pytest.mark.parametrize("value", [None, "", "0", "false", "False", "no"])
def test_unset_or_false_ci_is_lenient(value):
    """Without CI, or with CI=0/false, missing tools only skip their tests."""
    assert not ci_is_on(value)


def run_pytest(test_id: str, **env: str) -> subprocess.CompletedProcess:
    """One test in a child pytest, with the given environment changes."""
    environ = {k: v for k, v in os.environ.items() if k != "CI"} | env
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-rs", test_id], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("ci,fails", [("1", True), ("", False)])
def test_missing_postgresql(ci, fails):
    """No PostgreSQL server binaries: an error under CI, a skip elsewhere."""
    result = run_pytest(A_DATABASE_TEST, CI=ci, PG_BIN="/nonexistent/pg/bin")
    assert (result.returncode != 0) is fails, result.stdout[-2000:]
    assert "PostgreSQL server binaries not found" in result.stdout
    assert ("1 skipped" in result.stdout) is not fails


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs chromium to get to the fonts")
@pytest.mark.parametrize("ci,fails", [("true", True), ("", False)])
def test_missing_cjk_fonts(tmp_path, ci, fails):
    """No Noto Sans CJK (here: no fontconfig on the PATH at all): an error under CI, a
    skip elsewhere, before any page is opened."""
    result = run_pytest(A_BROWSER_TEST, CI=ci, PATH=str(tmp_path))
    assert (result.returncode != 0) is fails, result.stdout[-2000:]
    assert "Noto Sans CJK fonts are missing" in result.stdout
    assert ("1 skipped" in result.stdout) is not fails
