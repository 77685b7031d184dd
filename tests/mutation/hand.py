"""Hand-written mutants: the one-line bugs the issue tried, and bugs in code mutmut does
not mutate (it skips decorated functions, so Flask views are out of its reach). Each one
is applied to a throwaway copy of the project and must make its tests fail."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPY = ["fieldapp", "templates", "static", "migrations", "tests", "pyproject.toml", "babel.cfg"]
PYTEST = ["-x", "-q", "-p", "no:cacheprovider", "-k", "not postgresql"]


@dataclass(frozen=True)
class HandMutant:
    name: str
    what: str
    path: str
    edits: tuple[tuple[str, str], ...]  # (old, new); every occurrence of old is replaced
    tests: tuple[str, ...]


MUTANTS = [
    HandMutant("late-fee-half-down", "late fee rounds half down instead of half up",
               "fieldapp/domain/latefee.py",
               (("return (millionths + PPM // 2) // PPM", "return (millionths + PPM // 2 - 1) // PPM"),),
               ("tests/test_latefee.py", "tests/test_units.py")),
    HandMutant("hold-lifted-on-accept", "the dunning hold ends once the engineer accepts",
               "fieldapp/domain/holds.py",
               (("WorkOrder.status != WorkOrderStatus.CLOSED",
                 "WorkOrder.status == WorkOrderStatus.OPEN"),),
               ("tests/test_holds.py", "tests/test_workorders.py")),
    HandMutant("empty-patch-sees-all", "a housekeeper with no buildings sees every unit",
               "fieldapp/access.py",
               (("    if ids is None:\n        return query",
                 "    if not ids:\n        return query"),),
               ("tests/test_access_rules.py", "tests/test_route.py", "tests/test_units.py")),
    HandMutant("visit-repeat-ignores-user", "visit idempotency no longer checks the user",
               "fieldapp/visits/services.py",
               (("visit.user_id != user.id or ", ""),),
               ("tests/test_idempotency.py", "tests/test_visits.py")),
    HandMutant("hold-only-for-promises", "the hold refuses promises but not notices",
               "fieldapp/visits/routes.py",
               (("is_dunning(data.outcome, data.notice_type, data.promise_date is not None)",
                 "is_dunning(data.outcome, type(data.notice_type).NONE, "
                 "data.promise_date is not None)"),),
               ("tests/test_holds.py", "tests/test_workorders.py")),
    HandMutant("complaint-routes-skip-patch", "complaint and satisfaction routes load the "
               "unit without the patch check", "fieldapp/workorders/complaints.py",
               (("from ..models import ServiceCategory",
                 "from ..models import ServiceCategory, Unit"),
                ("get_unit_or_404(unit_id, current_user)", "db.get_or_404(Unit, unit_id)")),
               ("tests/test_access_rules.py", "tests/test_workorders.py")),
    HandMutant("hold-ignores-met-promise", "the hold refuses the old 'promised' outcome but "
               "not a promise made when the owner was met", "fieldapp/visits/routes.py",
               (("data.notice_type, data.promise_date is not None)", "data.notice_type, False)"),),
               ("tests/test_holds.py",)),
    HandMutant("visit-view-skips-hold", "the visit view never checks the hold",
               "fieldapp/visits/routes.py",
               (("if not errors and is_dunning(", "if False and is_dunning("),),
               ("tests/test_holds.py", "tests/test_workorders.py")),
    HandMutant("visit-view-files-others-queue", "a visit queued by another user is filed",
               "fieldapp/visits/routes.py",
               (("if queued_by and queued_by != str(current_user.id):", "if False:"),),
               ("tests/test_visits.py",)),
    HandMutant("visit-view-forgets-repeat-status", "a repeated visit answers 201 as if new",
               "fieldapp/visits/routes.py",
               (("(201 if created else 200)", "201"),),
               ("tests/test_idempotency.py", "tests/test_visits.py")),
    HandMutant("unit-card-shows-phones-to-all", "the unit card never masks phone numbers",
               "fieldapp/units/routes.py",
               (("show_phones=can_see_phone_numbers(current_user, unit)", "show_phones=True"),),
               ("tests/test_access_rules.py", "tests/test_units.py")),
]


def _project_copy(into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "screenshots", ".hypothesis")
    for name in COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=ignore)
        else:
            shutil.copy2(source, into / name)


def _apply(root: Path, mutant: HandMutant) -> None:
    path = root / mutant.path
    text = path.read_text()
    for old, new in mutant.edits:
        if old not in text:
            raise LookupError(f"{mutant.name}: {old!r} is no longer in {mutant.path}")
        text = text.replace(old, new)
    path.write_text(text)


def run_one(mutant: HandMutant) -> dict:
    """Apply the mutant to a fresh copy and run its tests there (SQLite half)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="doorstep-hand-") as tmp:
        root = Path(tmp)
        _project_copy(root)
        try:
            _apply(root, mutant)
        except LookupError as e:
            return {"name": mutant.name, "what": mutant.what, "status": "stale",
                    "detail": str(e), "seconds": 0.0}
        where = subprocess.run([sys.executable, "-c", "import fieldapp; print(fieldapp.__file__)"],
                               cwd=root, capture_output=True, text=True).stdout.strip()
        if not where.startswith(str(root)):
            raise RuntimeError(f"the copy imports fieldapp from {where}, not from {root}")
        result = subprocess.run([sys.executable, "-m", "pytest", *PYTEST, *mutant.tests],
                                cwd=root, capture_output=True, text=True)
    failed = [line.split(" ", 1)[1].split(" - ")[0] for line in result.stdout.splitlines()
              if line.startswith("FAILED ") or line.startswith("ERROR ")]
    status = {0: "survived", 1: "killed"}.get(result.returncode, "error")
    return {"name": mutant.name, "what": mutant.what, "status": status,
            "detail": failed[0] if failed else (result.stdout.strip().splitlines() or [""])[-1],
            "seconds": round(time.monotonic() - started, 1)}


def run_all(names: list[str] | None = None) -> list[dict]:
    chosen = [m for m in MUTANTS if not names or m.name in names]
    results = []
    for mutant in chosen:
        result = run_one(mutant)
        print(f"  hand mutant {result['name']:34} {result['status']:9} {result['seconds']:5.1f}s",
              flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    outcome = run_all(sys.argv[1:])
    sys.exit(0 if all(r["status"] == "killed" for r in outcome) else 1)
