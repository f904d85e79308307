"""cli/spec_compose — composition and interpolation (issue 21, items 1 and 5):

- include: [base.yaml, {data: digits}] merges in order, the file's own keys last, overrides
  after; a config group lands under its package and is found in configs/groups/ above the
  spec; GROUP=OPTION on the command line picks another option;
- the run ids of a composed spec equal those of the same spec written out flat, so
  composition never changes a run's id (and neither does an interpolation);
- ${path.to.key} keeps an int an int, follows a swept key per run, embeds text in strings,
  and \\${ is a literal;
- every bad input (missing include, cycle, bad group, unknown or cyclic interpolation,
  a type change through interpolation, Hydra's `defaults:`, ...) is exit 2 with the file,
  line and column, names the including file for an error in an included one, and writes
  nothing;
- `engram plan --explain KEY` names each place that set KEY in the order applied.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish  # noqa: E402

BASE = """model: hopfield
backend: cpu
seeds: [0]
params:
  steps: 3
  beta: 2.0
task:
  kind: retrieve
  memories: 50
  queries: 5
  blocks: 4
  corrupt: {kind: noise, sigma: 0.2}
"""

FLAT = """experiment: comp
model: hopfield
backend: cpu
seeds: [0]
data: {source: digits}
params:
  steps: 4
  beta: 8.0
task:
  kind: retrieve
  memories: 50
  queries: 5
  blocks: 4
  corrupt: {kind: noise, sigma: 0.2}
sweep:
  cases:
    - {params.variant: mchn}
    - {params.variant: gmm, params.sigma: 0.5}
"""

COMPOSED = """include: [base.yaml, {data: digits}]
experiment: comp
params:
  beta: 8.0
sweep:
  cases:
    - {params.variant: mchn}
    - {params.variant: gmm, params.sigma: 0.5}
"""


def run(*args, cwd=None):
    return subprocess.run([ENGRAM] + list(args), capture_output=True, text=True, cwd=cwd)


def ids(out):
    return re.findall(r"^\d+\s+([0-9a-f]{16})\s", out, re.M)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    tmp = tempfile.mkdtemp(prefix="engram-compose-")
    exp = os.path.join(tmp, "configs", "exp")
    groups = os.path.join(tmp, "configs", "groups")
    write(os.path.join(groups, "data", "digits.yaml"), "source: digits\n")
    write(os.path.join(groups, "data", "gauss.yaml"), "source: gaussians\nsplit: all\n")
    write(os.path.join(exp, "base.yaml"), BASE)
    write(os.path.join(exp, "flat.yaml"), FLAT)
    write(os.path.join(exp, "comp.yaml"), COMPOSED)
    flat, comp = os.path.join(exp, "flat.yaml"), os.path.join(exp, "comp.yaml")

    # precedence: base's beta 2.0 < the spec's 8.0; steps from base (3) < the override (4)
    p, q = run("plan", flat), run("plan", comp, "params.steps=4")
    check(p.returncode == 0 and q.returncode == 0 and len(ids(p.stdout)) == 2,
          "the flat and the composed spec plan:\n" + p.stderr + q.stderr)
    check(ids(p.stdout) == ids(q.stdout), "composed spec + override has the run ids of the flat spec: %s vs %s" %
          (ids(p.stdout), ids(q.stdout)))
    r = run("plan", comp, "params.steps=4", "--resolved")
    check("beta: 8.0" in r.stdout and "steps: 4" in r.stdout and "source: digits" in r.stdout,
          "resolved: the spec's beta wins over base's, the override over both, the group under data")
    # an include written without .yaml, and a relative path through ..
    write(os.path.join(exp, "sub", "c.yaml"), COMPOSED.replace("base.yaml", "../base"))
    r = run("plan", os.path.join(exp, "sub", "c.yaml"), "params.steps=4")
    check(r.returncode == 0 and ids(r.stdout) == ids(p.stdout), "include: ../base (no .yaml) resolves beside the "
          "file:\n" + r.stderr)
    # GROUP=OPTION on the command line picks another option of an included group
    r = run("plan", comp, "data=gauss", "--resolved")
    check(r.returncode == 0 and "source: gaussians" in r.stdout, "data=gauss picks the gauss option:\n" + r.stderr)
    r = run("plan", comp, "data={source: gaussians, split: all}", "--resolved")
    check(r.returncode == 0 and "source: gaussians" in r.stdout, "data={...} (a mapping) stays a plain override of the "
          "included group's keys:\n" + r.stderr)
    r = run("plan", comp, "include=x.yaml")
    check(r.returncode == 2 and "on the command line, choose an included group's option with GROUP=OPTION" in r.stderr,
          "include=... on the command line: exit 2, saying what to write:\n" + r.stderr)
    r = run("plan", comp, "data=gauss,digits")
    check(r.returncode == 2 and "a sweep over the options of group data is not supported" in r.stderr,
          "data=gauss,digits: a sweep over group options is refused with the alternative:\n" + r.stderr)
    r = run("plan", comp, "data=gaus")
    check(r.returncode == 2 and "override 'data=gaus'" in r.stderr and "did you mean 'gauss'" in r.stderr and
          "digits, gauss" in r.stderr, "data=gaus: exit 2 naming the override, a did-you-mean and the options:\n" +
          r.stderr)
    # the later include wins over the earlier
    write(os.path.join(exp, "b2.yaml"), "params: {beta: 5.0, steps: 6}\n")
    write(os.path.join(exp, "order.yaml"), "include: [base.yaml, b2.yaml]\nexperiment: ord\ndata: {source: digits}\n")
    r = run("plan", os.path.join(exp, "order.yaml"), "--resolved")
    check("beta: 5.0" in r.stdout and "steps: 6" in r.stdout, "a later include wins over an earlier one")
    # ENGRAM_CONFIG_PATH is searched first
    alt = os.path.join(tmp, "alt")
    write(os.path.join(alt, "data", "digits.yaml"), "source: gaussians\n")
    r = subprocess.run([ENGRAM, "plan", comp, "--resolved"], capture_output=True, text=True,
                       env=dict(os.environ, ENGRAM_CONFIG_PATH=alt))
    check("source: gaussians" in r.stdout, "ENGRAM_CONFIG_PATH's group directory comes first")

    # interpolation: an int stays an int, a swept key is followed per run, text is embedded
    interp = FLAT.replace("  beta: 8.0\n", "  beta: 8.0\n  n: ${task.blocks}\n").replace(
        "experiment: comp", "experiment: comp\ndescription: \"beta ${params.beta}, \\\\${literal}\"")
    interp = interp.replace("- {params.variant: gmm, params.sigma: 0.5}", "- {params.variant: gmm, params.sigma: 0.5}"
                            "\n    - {params.variant: mchn, params.beta: \"${params.sigma}\", params.sigma: 0.25}")
    write(os.path.join(exp, "interp.yaml"), interp)
    r = run("plan", os.path.join(exp, "interp.yaml"), "--resolved")
    check(r.returncode == 0 and r.stdout.count("  n: 4\n") == 3, "n: ${task.blocks} is the int 4 in every run:\n" +
          r.stderr)
    check("description: beta 8.0, ${literal}" in r.stdout or "description: \"beta 8.0, ${literal}\"" in r.stdout,
          "text is embedded and \\${ is a literal ${:\n" + "\n".join(x for x in r.stdout.splitlines()
                                                                       if "description" in x))
    runs = r.stdout.split("--- #")[1:]
    check(len(runs) == 3 and "beta: 0.25" in runs[2], "a case's ${params.sigma} follows that case's sigma (0.25)")
    hand = interp.replace("  n: ${task.blocks}\n", "  n: 4\n").replace('params.beta: "${params.sigma}"',
                                                                       "params.beta: 0.25")
    write(os.path.join(exp, "hand.yaml"), hand)
    a, b = run("plan", os.path.join(exp, "interp.yaml")), run("plan", os.path.join(exp, "hand.yaml"))
    check(ids(a.stdout) and ids(a.stdout) == ids(b.stdout), "interpolated runs have the ids of the runs written "
          "out:\n" + a.stderr + b.stderr)

    # --explain: every place in order, the override last
    r = run("plan", comp, "params.beta=3", "--explain", "params.beta")
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and len(lines) >= 4 and "base.yaml:6:3" in lines[1] and "2.0" in lines[1] and
          "included from %s:1:11" % comp in lines[1] and "comp.yaml:4:3" in lines[2] and
          "override 'params.beta=3'" in lines[3] and "<- wins" in lines[3] and "in the runs: 3.0" in r.stdout,
          "--explain params.beta: base, the spec, the override (wins), the runs' value:\n" + r.stdout)
    r = run("plan", comp, "--explain", "params.variant")
    check("case" in r.stdout and '"mchn", "gmm"' in r.stdout, "--explain names the cases that set a key:\n" +
          r.stdout)
    r = run("plan", comp, "--explain", "params.tol")
    check("not set by the spec" in r.stdout and "the model's default" in r.stdout, "--explain of a default:\n" +
          r.stdout)

    # bad inputs: exit 2, file:line:col, the including file named, nothing written
    bad = [
        ("missing include", "include: [nothere.yaml]\n" + FLAT, None,
         r"bad\.yaml:1:11: include: cannot include '.*nothere\.yaml': No such file"),
        ("include cycle", "include: [cyc.yaml]\n" + FLAT, ("cyc.yaml", "include: [bad.yaml]\n"),
         r"cyc\.yaml:1:11: include: include cycle: .*bad\.yaml -> .*cyc\.yaml -> .*bad\.yaml"),
        ("self include", "include: [bad.yaml]\n" + FLAT, None, r"bad\.yaml:1:11: include: include cycle"),
        ("missing group option", "include: [{data: fmnst}]\n" + FLAT.replace("data: {source: digits}\n", ""), None,
         r"bad\.yaml:1:18: include: group data has no option 'fmnst'.*options: digits, gauss"),
        ("missing group", "include: [{datum: digits}]\n" + FLAT, None, r"bad\.yaml:1:19: include: no config group "
         r"'datum'"),
        ("bad group name", "include: [{../data: digits}]\n" + FLAT, None, r"bad\.yaml:1:\d+: include: '\.\./data' is "
         "not a group name"),
        ("include a mapping", "include: {data: digits}\n" + FLAT, None, r"bad\.yaml:1:10: include: expected a list"),
        ("include item a list", "include: [[a.yaml]]\n" + FLAT, None, r"bad\.yaml:1:11: include: item 1: expected a "
         "file name"),
        ("Hydra defaults", "defaults: [base]\n" + FLAT, None, r"bad\.yaml:1:1: defaults: 'defaults' is Hydra's "
         "composition list; engram's is 'include' \(did you mean 'include'\?\)"),
        ("error inside an included file", "include: [inc.yaml]\n" + FLAT, ("inc.yaml", "params:\n  betta: 1.0\n"),
         r"inc\.yaml:2:\d+: params\.betta: .*\(.*inc\.yaml is included from .*bad\.yaml:1:11\)"),
        ("syntax error in an included file", "include: [inc.yaml]\n" + FLAT, ("inc.yaml", "params: [1,\n"),
         r"inc\.yaml:\d+:\d+: YAML syntax error.*included from .*bad\.yaml:1:11"),
        ("key twice in an included file", "include: [inc.yaml]\n" + FLAT, ("inc.yaml", "a: 1\na: 2\n"),
         r"inc\.yaml:2:1: a: set twice \(first at .*inc\.yaml:1:1\)"),
        ("include a directory", "include: [sub]\n" + FLAT, None, r"bad\.yaml:1:11: include: cannot include"),
        ("interpolation of an unknown key", FLAT.replace("beta: 8.0", "beta: ${params.sigmaa}"), None,
         r"bad\.yaml:8:9: params\.beta: \$\{params\.sigmaa\}: this run has no key params\.sigmaa"),
        ("interpolation of a default", FLAT.replace("beta: 8.0", "beta: ${params.tol}"), None,
         r"bad\.yaml:8:9: params\.beta: \$\{params\.tol\}: this run has no key .*model default cannot be referenced"),
        ("interpolation cycle", FLAT.replace("beta: 8.0", "beta: ${params.n}\n  n: ${params.beta}"), None,
         r"bad\.yaml:\d+:\d+: params\.\w+: interpolation cycle: params\.\w+ -> params\.\w+ -> params\.\w+"),
        ("unterminated interpolation", FLAT.replace("beta: 8.0", "beta: ${params.n"), None,
         r"bad\.yaml:8:9: params\.beta: unterminated '\$\{'"),
        ("resolver", FLAT.replace("beta: 8.0", "beta: ${oc.env:HOME}"), None,
         r"bad\.yaml:8:9: params\.beta: \$\{oc\.env:HOME\}: resolvers .* are not supported"),
        ("type change through interpolation", FLAT.replace("beta: 8.0", "beta: ${data.source}"), None,
         r"bad\.yaml:8:9: params\.beta: .*(float|number)"),
        ("interpolated experiment", FLAT.replace("experiment: comp", "experiment: c${seed}"), None,
         r"bad\.yaml:1:13: experiment: 'c\$\{seed\}' is not a valid name"),
        ("nested interpolation", FLAT.replace("beta: 8.0", "beta: ${params.${a}}"), None,
         r"bad\.yaml:8:9: params\.beta: nested '\$\{'"),
    ]
    os.makedirs(os.path.join(exp, "sub"), exist_ok=True)
    for what, text, extra, pattern in bad:
        spec = os.path.join(exp, "bad.yaml")
        write(spec, text)
        if extra:
            write(os.path.join(exp, extra[0]), extra[1])
        out = os.path.join(tmp, "results-bad")
        r = run("run", spec, "--out", out)
        check(r.returncode == 2 and re.search(pattern, r.stderr) is not None and not os.path.exists(out),
              "%s: exit 2, %s, nothing written:\n%s" % (what, pattern, r.stderr.strip()))
    # too deep: a chain of 17 files
    for i in range(18):
        write(os.path.join(exp, "deep%d.yaml" % i), "include: [deep%d.yaml]\n" % (i + 1) if i < 17 else "a: 1\n")
    write(os.path.join(exp, "bad.yaml"), "include: [deep0.yaml]\n" + FLAT)
    r = run("plan", os.path.join(exp, "bad.yaml"))
    check(r.returncode == 2 and "includes nest more than 16 files deep" in r.stderr, "18 nested includes: exit 2:\n" +
          r.stderr)
    finish()


if __name__ == "__main__":
    main()
