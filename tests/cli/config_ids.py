"""cli/config_ids — the run ids of every shipped spec are pinned (docs/spec.md "Run ids").

`engram plan` of each spec of configs/ (configs/quickstart.yaml, configs/smoke/*.yaml,
configs/paper/*.yaml: SPECS below; the group files of configs/groups/ are not specs)
must give, run by run, the ids and the experiment name recorded in the golden file
tests/fixtures/config_ids.txt (one line per run: `spec index id experiment`).

A run's id is the SHA-256 of its fully resolved config, and `engram run` skips a run
whose id already has a run file in results/<experiment>/. So a changed id, or a
renamed experiment, means every existing result of that run is no longer found and
the run is computed again. Rewriting a spec (composing it from includes and config
groups, reordering keys, writing a default out or leaving it off) must never do that;
this test says which spec and which runs changed.

Some changes do change ids legitimately: a changed value in a spec, or a plugin's
schema change that changes a default (every run of that model gets new ids). Then
regenerate the golden file and say so (and why) in the commit message:

    ENGRAM_BIN=build/engram python3 tests/cli/config_ids.py --update

(ENGRAM_BIN defaults to build/engram of the source tree). To pin another directory of
specs, add it to SPECS and regenerate.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

SRC = os.path.abspath(os.environ.get("ENGRAM_SOURCE", os.path.join(os.path.dirname(__file__), "..", "..")))
if "ENGRAM_BIN" not in os.environ:
    os.environ["ENGRAM_BIN"] = os.path.join(SRC, "build", "engram")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish  # noqa: E402

GOLDEN = os.path.join(SRC, "tests", "fixtures", "config_ids.txt")
SPECS = ["configs/quickstart.yaml", "configs/smoke/*.yaml", "configs/paper/*.yaml"]

HEADER = """# The run ids of every spec in configs/ (tests/cli/config_ids.py): spec index id experiment.
# A change here means existing results would be re-run; regenerate only for a legitimate
# change (a spec's value, a model's default) with: python3 tests/cli/config_ids.py --update
"""


def specs():
    out = []
    for pat in SPECS:
        out += sorted(os.path.relpath(p, SRC) for p in glob.glob(os.path.join(SRC, pat)))
    return out


def plan(spec, cwd):
    """(experiment, [(index, id), ...]) of `engram plan SPEC`, or (None, error text)"""
    env = dict(os.environ)
    env.pop("ENGRAM_CONFIG_PATH", None)  # the groups of configs/groups/, not the caller's
    # run in an empty directory: the plan reads no results/ of the caller's
    p = subprocess.run([ENGRAM, "plan", os.path.join(SRC, spec)], capture_output=True, text=True, cwd=cwd, env=env)
    m = re.search(r"^experiment (\S+): (\d+) runs?\b", p.stdout, re.M)
    if p.returncode != 0 or not m:
        return None, "exit %d: %s" % (p.returncode, (p.stderr or p.stdout).strip()[:2000])
    rows = [(int(i), rid) for i, rid in re.findall(r"^(\d+)\s+([0-9a-f]{16})\s", p.stdout, re.M)]
    if len(rows) != int(m.group(2)):
        return None, "planned %s runs but %d rows were read:\n%s" % (m.group(2), len(rows), p.stdout[:2000])
    return m.group(1), rows


def read_golden():
    """{spec: [(index, id, experiment), ...]} in file order"""
    got = {}
    with open(GOLDEN) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split()
            if len(cols) != 4 or not cols[1].isdigit() or not re.fullmatch(r"[0-9a-f]{16}", cols[2]):
                raise SystemExit("%s:%d: expected `spec index id experiment`, got %r" % (GOLDEN, n, line))
            got.setdefault(cols[0], []).append((int(cols[1]), cols[2], cols[3]))
    return got


def update(cwd):
    lines, total = [], 0
    for spec in specs():
        exp, rows = plan(spec, cwd)
        if exp is None:
            raise SystemExit("config_ids --update: engram plan %s failed: %s" % (spec, rows))
        lines += ["%s %d %s %s\n" % (spec, i, rid, exp) for i, rid in rows]
        total += len(rows)
    with open(GOLDEN, "w") as f:
        f.write(HEADER)
        f.writelines(lines)
    print("wrote %s: %d runs of %d specs" % (GOLDEN, total, len(specs())))


def main():
    with tempfile.TemporaryDirectory(prefix="engram-config-ids-") as cwd:
        if "--update" in sys.argv[1:]:
            update(cwd)
            return
        compare(cwd)
    finish()


def compare(cwd):
    golden = read_golden()
    have = specs()
    hint = ("a changed run id (or experiment name) means the existing results of that run are not found and it is "
            "run again; if the "
            "change is meant (a spec's value, a model's default), regenerate with `python3 tests/cli/config_ids.py "
            "--update` and say so in the commit")
    runs = 0
    for spec in have:
        want = golden.get(spec)
        if want is None:
            check(False, "%s: its run ids are not in %s (a new spec? run --update to pin them)" %
                  (spec, os.path.relpath(GOLDEN, SRC)))
            continue
        exp, rows = plan(spec, cwd)
        if exp is None:
            check(False, "engram plan %s: %s" % (spec, rows))
            continue
        runs += len(rows)
        now = dict(rows)
        old = {i: rid for i, rid, _ in want}
        changed = [i for i in sorted(old) if i in now and now[i] != old[i]]
        gone = [i for i in sorted(old) if i not in now]
        new = [i for i in sorted(now) if i not in old]
        exps = sorted({e for _, _, e in want})
        msg = []
        if changed:
            shown = ", ".join("run %d %s -> %s" % (i, old[i], now[i]) for i in changed[:10])
            msg.append("%d of %d run ids changed: %s%s" % (len(changed), len(old), shown,
                                                           ", ..." if len(changed) > 10 else ""))
        if gone:
            msg.append("runs no longer planned: %s" % ", ".join(str(i) for i in gone[:20]))
        if new:
            msg.append("runs not in the golden file: %s" % ", ".join(str(i) for i in new[:20]))
        if exps != [exp]:
            msg.append("experiment %s, was %s (its results are in results/%s/)" % (exp, "/".join(exps), exps[0]))
        check(not msg, "%s: %d runs, ids and experiment as pinned%s" % (spec, len(rows), (":\n  " + "\n  ".join(msg) +
                                                                                        "\n  " + hint) if msg else ""))
    for spec in sorted(set(golden) - set(have)):
        check(False, "%s is in %s but no longer exists (renamed or removed? its results would be orphaned; "
              "run --update if meant)" % (spec, os.path.relpath(GOLDEN, SRC)))
    check(runs > 0, "%d runs of %d specs checked" % (runs, len(have)))


if __name__ == "__main__":
    main()
