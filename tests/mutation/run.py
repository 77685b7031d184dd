"""`make mutation`: run mutmut over the rules, then the hand-written mutants, and print
the mutation score per module; tests/MUTATION.md is rewritten from the same run.

A module's score is killed / (mutants - equivalent). Equivalent mutants, and survivors
left on purpose, are listed with their reason in tests/mutation/equivalent.toml; each entry
names the changed line, so an entry that no longer matches its mutant is reported stale.
The run fails when a module scores under 90 %, a survivor is unexplained, an entry is
stale, or a hand mutant survives."""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXPLAINED = Path(__file__).with_name("equivalent.toml")
REPORT = ROOT / "tests" / "MUTATION.md"
THRESHOLD = 90.0
# A run stopped early (--report-only after a deadline) leaves mutants never tried: they
# are counted apart, not as survivors, and the report says how many.
# What is mutated, by mutant name: whole modules, and in the two service modules only
# the functions that hold the rules (visit idempotency, the route list's order); the rest
# of those modules is view plumbing, covered by the hand mutants and the suite.
SCOPE = [
    "fieldapp.domain.latefee.*", "fieldapp.domain.allocation.*", "fieldapp.domain.arrears.*",
    "fieldapp.domain.stages.*", "fieldapp.domain.holds.*", "fieldapp.domain.promises.*",
    "fieldapp.domain.money.*", "fieldapp.access.*", "fieldapp.workorders.access.*",
    "fieldapp.visits.services.x_find_repeat*", "fieldapp.visits.services.x_payload_sha256*",
    "fieldapp.route.services.x_page_hits*", "fieldapp.route.services.x_paused_last*",
    "fieldapp.route.services.x__build_band_exprs*", "fieldapp.route.services.x_row_badges*",
    "fieldapp.route.services.x_band_counts*", "fieldapp.route.services.x_page_hits_and_counts*",
    "fieldapp.route.services.x__paging*", "fieldapp.route.services.x__counts_query*",
    "fieldapp.route.services.x__chips*",
]
NOT_RUN = ("not checked", "check was interrupted by user")


@dataclass
class Module:
    path: str
    statuses: Counter = field(default_factory=Counter)
    equivalent: list = field(default_factory=list)
    left: list = field(default_factory=list)
    unexplained: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n for status, n in self.statuses.items() if status not in NOT_RUN)

    @property
    def not_run(self) -> int:
        return sum(self.statuses[status] for status in NOT_RUN)

    @property
    def killed(self) -> int:
        return self.statuses["killed"] + self.statuses["timeout"]

    @property
    def score(self) -> float:
        scored = self.total - len(self.equivalent)
        return 100.0 * self.killed / scored if scored else 100.0


def untried(survivors: bool = False) -> list[str]:
    """In-scope mutants without a verdict in mutants/ (a stopped run's rest), with
    `survivors` also those that survived and are not explained (to try again after
    new tests)."""
    explained = tomllib.loads(EXPLAINED.read_text())
    known = {e["mutant"] for kind in ("equivalent", "left") for e in explained.get(kind, [])}
    names = []
    for meta in sorted((ROOT / "mutants").glob("**/*.py.meta")):
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        names += [name for name, code in codes.items()
                  if (code is None or (survivors and code == 0 and name not in known))
                  and any(fnmatch.fnmatch(name, pattern) for pattern in SCOPE)]
    return names


def run_mutmut(jobs: int, log: Path, names: list[str] | None = None) -> float:
    """Run mutmut over SCOPE, or over `names` only; returns the wall time in seconds.
    (mutmut re-tries every mutant it is given by name or pattern, so a resumed run
    names the untried ones.)"""
    started = time.monotonic()
    done = threading.Event()

    def progress():
        while not done.wait(60):
            tail = log.read_bytes()[-400:].decode(errors="replace").replace("\r", "\n")
            lines = [line for line in tail.splitlines() if "/" in line and "🎉" in line]
            if lines:
                print(f"  [{int(time.monotonic() - started)} s] {lines[-1].strip()}", flush=True)

    threading.Thread(target=progress, daemon=True).start()
    with log.open("wb") as out:
        code = subprocess.run([str(BIN / "mutmut"), "run", "--max-children", str(jobs),
                               *(SCOPE if names is None else names)],
                              cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
    done.set()
    if code != 0:
        print(log.read_text(errors="replace")[-3000:])
        raise SystemExit(f"mutmut failed (exit {code}); the whole log is in {log}")
    return time.monotonic() - started


def changed_lines(name: str, path: str) -> list[str]:
    """The lines a mutant adds, as `mutmut show` prints them."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    diff = get_diff_for_mutant(name, path=path)
    return [line[1:].strip() for line in diff.splitlines()
            if line.startswith("+") and not line.startswith("+++")]


def collect() -> tuple[dict[str, Module], list[str]]:
    """Per module statuses from mutants/*.meta, with the explanations applied."""
    os.chdir(ROOT)
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    explained = tomllib.loads(EXPLAINED.read_text())
    reasons = {e["mutant"]: ("equivalent", e) for e in explained.get("equivalent", [])}
    reasons |= {e["mutant"]: ("left", e) for e in explained.get("left", [])}
    seen, problems = set(), []
    modules: dict[str, Module] = {}
    for path in sorted(walk_mutatable_files(), key=str):
        data = SourceFileMutationData(path=path)
        data.load()
        if not data.exit_code_by_key:
            continue
        module = modules.setdefault(str(path), Module(str(path)))
        for name, code in sorted(data.exit_code_by_key.items(), key=_natural):
            if not any(fnmatch.fnmatch(name, pattern) for pattern in SCOPE):
                continue
            status = status_by_exit_code[code]
            if status in NOT_RUN:
                module.statuses[status] += 1
                continue
            if status in ("killed", "timeout"):
                module.statuses[status] += 1
                if name in reasons:
                    problems.append(f"{name} is listed as {reasons[name][0]} but was killed")
                    seen.add(name)
                continue
            module.statuses[status] += 1
            kind, entry = reasons.get(name, (None, None))
            lines = changed_lines(name, str(path))
            if entry is not None:
                seen.add(name)
                if _squash(entry["change"]) not in [_squash(line) for line in lines]:
                    problems.append(f"{name}: the entry says `{entry['change']}` but the mutant "
                                    f"now changes `{' / '.join(lines)}` (stale entry)")
                    kind = None
            record = {"mutant": name, "status": status, "change": " / ".join(lines),
                      "why": entry["why"] if entry else "",
                      "kind": entry.get("kind", "") if entry else ""}
            {"equivalent": module.equivalent, "left": module.left,
             None: module.unexplained}[kind].append(record)
    for name in sorted(set(reasons) - seen):
        problems.append(f"{name} is listed in {EXPLAINED.name} but is no longer a mutant")
    return modules, problems


def _natural(item):
    name = item[0]
    head, _, number = name.rpartition("__mutmut_")
    return head, int(number) if number.isdigit() else 0


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def table(modules: dict[str, Module]) -> list[str]:
    rows = ["| module | mutants | killed | equivalent | survivors left (why) | score | not run |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    total = Module("all")
    for m in modules.values():
        kinds = Counter(r["kind"] for r in m.left) + Counter(
            {"unexplained": len(m.unexplained)} if m.unexplained else {})
        left = len(m.left) + len(m.unexplained)
        why = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        rows.append(f"| `{m.path}` | {m.total} | {m.killed} | {len(m.equivalent)} | "
                    f"{left}{f' ({why})' if why else ''} | "
                    f"{f'{m.score:.1f} %' if m.total else '–'} | {m.not_run} |")
        total.statuses.update(m.statuses)
        total.equivalent += m.equivalent
        total.left += m.left + m.unexplained
    rows.append(f"| **all** | {total.total} | {total.killed} | {len(total.equivalent)} | "
                f"{len(total.left)} | {total.score:.1f} % | {total.not_run} |")
    return rows


def write_report(modules, problems, hand, seconds, jobs) -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "fieldapp", "tests",
                            ":!tests/MUTATION.md"],
                           cwd=ROOT, capture_output=True, text=True).stdout.strip()
    out = ["# Mutation testing", "",
           "Generated by `make mutation` (tests/mutation/run.py); do not edit by hand: "
           "explanations live in `tests/mutation/equivalent.toml`.", "",
           f"Last run: {when}, commit {commit}{' plus uncommitted changes' if dirty else ''}; "
           f"mutmut {_mutmut_version()}, {jobs} workers, {seconds / 60:.0f} min for mutmut "
           f"and {sum(h['seconds'] for h in hand) / 60:.1f} min for the hand mutants.", "",
           "Mutants: " + ", ".join(f"`{p}`" for p in SCOPE) + ". Each mutant runs the "
           "tests of these rules that reach its function (`pytest_add_cli_args_test_selection` "
           "in pyproject.toml: " + ", ".join(f"`{t}`" for t in
                                            config["pytest_add_cli_args_test_selection"]) +
           "), on SQLite (`-k 'not postgresql'`); a mutant only another test file would kill "
           "counts as a survivor, so the scores are a lower bound. Out of scope: "
           "`domain/summary.py`, `domain/visits.py`, `domain/flags.py`, "
           "`domain/import_values.py`, `domain/photohash.py`, `domain/workorders.py` and the "
           "rest of the two service modules (the scope above takes about 90 minutes of two "
           "workers on these 2-core machines; those would more than double it). mutmut does "
           "not mutate decorated "
           "functions, so the Flask views are covered by the hand mutants below. "
           "Score = killed / (mutants − equivalent); \"not run\" counts mutants a run stopped "
           "at its time limit never tried.", "",
           *table(modules), ""]
    not_run = sum(m.not_run for m in modules.values())
    if not_run:
        out += [f"This run was stopped at its time limit: {not_run} mutants were never tried "
                "(mutmut tries the fastest first, so those left are the ones whose tests take "
                "longest; see the \"not run\" column). `make mutation` on a machine of its "
                "own finishes them.", ""]
    parts = ROOT / "mutants" / "parts"
    if parts.exists():
        out += [f"This run was made in {parts.read_text().strip()} parts (`--resume`): mutmut "
                "keeps each mutant's verdict under its function's hash, so each part tried the "
                "mutants not tried yet (and again those whose function changed), and "
                "`--retry-survivors` tried the unexplained survivors again against the tests "
                "written from them. The minutes above are the sum of the parts.", ""]
    if problems:
        out += ["## Problems", "", *[f"- {p}" for p in problems], ""]
    out += ["## Hand mutants", "",
            "The one-line bugs of the issue and of the views mutmut skips, applied one at a "
            "time to a copy of the project (tests/mutation/hand.py).", "",
            "| mutant | bug | result | first failing test |", "|---|---|---|---|"]
    out += [f"| `{h['name']}` | {h['what']} | {h['status']} | {h['detail']} |" for h in hand]
    for title, key, intro in (
            ("Survivors left", "left", "Not equivalent, not killed, and why."),
            ("Unexplained survivors", "unexplained", "To kill with a test or explain."),
            ("Equivalent mutants", "equivalent", "No test can tell these from the original.")):
        records = [r for m in modules.values() for r in getattr(m, key)]
        if not records:
            continue
        out += ["", f"## {title}", "", intro, "", "| mutant | change | why |", "|---|---|---|"]
        out += [f"| `{r['mutant'].removeprefix('fieldapp.')}` | `{_cell(r['change'])}` | "
                f"{_cell(r['why'])} |" for r in records]
    REPORT.write_text("\n".join(out) + "\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def _mutmut_version() -> str:
    from importlib.metadata import version
    return version("mutmut")


def _earlier_seconds() -> float:
    """mutmut time of the runs a resumed run continues (0 when none was recorded)."""
    try:
        return float((ROOT / "mutants" / "seconds").read_text())
    except (OSError, ValueError):
        return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", 2)))
    parser.add_argument("--report-only", action="store_true",
                        help="rebuild the report from the last run in mutants/")
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="with --report-only: the mutmut time to state in the report")
    parser.add_argument("--retry-survivors", action="store_true",
                        help="with --resume: also try again the unexplained survivors")
    parser.add_argument("--resume", action="store_true",
                        help="keep mutants/ from a stopped run: mutmut tries the mutants "
                             "not tried yet and re-tries those whose function or tests "
                             "changed since (its per-function hashes)")
    args = parser.parse_args()
    seconds = args.seconds
    if args.resume or (args.report_only and not seconds):
        seconds += _earlier_seconds()
    if not args.report_only:
        if not args.resume:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        (ROOT / "mutants").mkdir(exist_ok=True)
        modules = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
        print(f"mutmut over {', '.join(modules['only_mutate'])} with {args.jobs} workers "
              "(log: mutants/run.log)", flush=True)
        names = untried(args.retry_survivors) if args.resume else None
        if names is None or names:
            print(f"{'all' if names is None else len(names)} mutants to try", flush=True)
            seconds += run_mutmut(args.jobs, ROOT / "mutants" / "run.log", names)
            parts = ROOT / "mutants" / "parts"
            if args.resume:
                done = int(parts.read_text()) if parts.exists() else 1
                parts.write_text(str(done + 1))
            else:
                parts.unlink(missing_ok=True)
        (ROOT / "mutants" / "seconds").write_text(f"{seconds:.0f}")
        print(f"mutmut done in {seconds / 60:.1f} min; hand mutants:", flush=True)
    from tests.mutation.hand import run_all
    hand_file = ROOT / "mutants" / "hand.json"
    if args.report_only and hand_file.exists():
        hand = json.loads(hand_file.read_text())
    else:
        hand = run_all()
        hand_file.write_text(json.dumps(hand, indent=2))
    modules, problems = collect()
    write_report(modules, problems, hand, seconds, args.jobs)
    print()
    print("\n".join(table(modules)))
    failures = [f"{m.path}: {m.score:.1f} % < {THRESHOLD:.0f} %" for m in modules.values()
                if m.score < THRESHOLD]
    failures += [f"{m.path}: {m.not_run} mutants not run" for m in modules.values() if m.not_run]
    failures += [f"unexplained survivor {r['mutant']}: {r['change']}"
                 for m in modules.values() for r in m.unexplained]
    failures += problems
    failures += [f"hand mutant {h['name']} {h['status']}" for h in hand if h["status"] != "killed"]
    print(f"\nReport: {REPORT.relative_to(ROOT)}")
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
