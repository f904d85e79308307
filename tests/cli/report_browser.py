"""cli/report_browser — the quickstart-shaped report in a real browser (Debian's
chromium, headless), from file://, no network:

- a copy of the page with a probe script appended is loaded; the probe records every
  uncaught error and, after load, every <img> whose naturalWidth is 0, the number of
  lines in the plot of retrieval/success against task.corrupt.sigma (two: mchn and
  gmm) and whether clicking the first column header sorts the table; chromium's
  console log (--enable-logging) must hold no error either;
- a screenshot of the page itself is a PNG of the window's size.
The sweep is the README's quickstart (configs/quickstart.yaml: 24 runs, a few seconds);
ENGRAM_REPORT_SCREENSHOT=path keeps the screenshot (docs/img/report-quickstart.png is one).
"""
import os
import re
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import ENGRAM, check, finish, setup, skip  # noqa: E402

SOURCE = os.environ.get("ENGRAM_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
QUICKSTART = os.path.join(SOURCE, "configs", "quickstart.yaml")

PROBE = """<script>
var probe = {errors: [], broken: [], lines: -1, sorted: false};
window.addEventListener('error', function (e) { probe.errors.push(String(e.message)); });
window.addEventListener('load', function () {
  document.querySelectorAll('img').forEach(function (im) { if (!im.naturalWidth) probe.broken.push(im.src); });
  document.querySelectorAll('figure.plot svg').forEach(function (s) {
    var t = s.querySelector('title');
    if (t && t.textContent == 'retrieval/success vs task.corrupt.sigma')
      probe.lines = s.querySelectorAll('g.line').length;
  });
  var ths = Array.from(document.querySelectorAll('table.sortable th')), tb = document.querySelector('table.sortable tbody');
  var i = ths.findIndex(function (h) { return h.textContent.indexOf('retrieval/success') == 0; });
  function column() { return Array.from(tb.rows).map(function (r) { return parseFloat(r.cells[i].dataset.v); }); }
  function ordered(v, dir) { for (var k = 1; k < v.length; k++) if (dir * (v[k] - v[k - 1]) < 0) return false; return true; }
  ths[i].click(); var up = ordered(column(), 1);
  ths[i].click(); var down = ordered(column(), -1);
  probe.sorted = i >= 0 && up && down && column()[0] > column()[column().length - 1];
  var out = document.createElement('pre'); out.id = 'probe'; out.textContent = JSON.stringify(probe);
  document.body.appendChild(out);
});
</script>
"""


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def main():
    browser = chromium()
    if not browser:
        skip("chromium is not installed (scripts/setup-deps.sh installs it)")
    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        skip("Fashion-MNIST is not installed (Debian's dataset-fashion-mnist; scripts/setup-deps.sh)")
    tmp, env = setup("eg-report-browser-")
    out = os.path.join(tmp, "results")
    p = subprocess.run([ENGRAM, "run", QUICKSTART, "--out", out, "-j", "2", "backend=cpu"], env=env,
                       capture_output=True, text=True)
    check(p.returncode == 0, "the quickstart runs %s" % p.stderr[-300:])
    rep = os.path.join(tmp, "report")
    p = subprocess.run([ENGRAM, "report", os.path.join(out, "quickstart"), "-o", rep], env=env,
                       capture_output=True, text=True)
    check(p.returncode == 0, "engram report")
    page = os.path.join(rep, "index.html")
    with open(page) as f:
        text = f.read()
    probe_page = os.path.join(rep, "probe.html")
    with open(probe_page, "w") as f:
        f.write(text.replace("</body>", PROBE + "</body>"))
    profile = os.path.join(tmp, "profile")
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile,
            "--enable-logging=stderr", "--v=0"]
    p = subprocess.run(base + ["--virtual-time-budget=5000", "--dump-dom", "file://" + probe_page],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="probe">(.*?)</pre>', p.stdout, re.S)
    check(m is not None, "the page loads and the probe reports (rc %d)" % p.returncode)
    if m:
        import json
        probe = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        check(probe["errors"] == [], "no script error %s" % probe["errors"])
        check(probe["broken"] == [], "every image loads (naturalWidth > 0) %s" % probe["broken"])
        check(probe["lines"] == 2, "success vs sigma has two lines, mchn and gmm (%s)" % probe["lines"])
        check(probe["sorted"], "clicking retrieval/success sorts the rows up, clicking again down")
    console = [ln for ln in p.stderr.splitlines() if "CONSOLE" in ln and ("rror" in ln or "ERROR" in ln)]
    check(not console, "no console error %s" % console[:3])
    shot = os.path.join(tmp, "shot.png")
    p = subprocess.run(base + ["--hide-scrollbars", "--window-size=1400,1500", "--screenshot=" + shot,
                               "file://" + page], capture_output=True, text=True, timeout=120)
    ok = os.path.exists(shot)
    if ok:
        with open(shot, "rb") as f:
            head = f.read(24)
        ok = head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1400, 1500)
    check(ok, "a 1400 x 1500 screenshot of the page")
    keep = os.environ.get("ENGRAM_REPORT_SCREENSHOT")
    if keep and os.path.exists(shot):
        shutil.copy(shot, keep)
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
