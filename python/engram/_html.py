"""Experiment._repr_html_: the header line and the summary table as `engram show` prints
it (mean ± sd, 4 significant digits), for notebooks."""
import html
import math

MAX_GROUPS = 30


def fmt_mean(x):
    return "%.1f" % x if 1e3 <= abs(x) < 1e6 else "%.4g" % x


def cell(mean, sd, n):
    if n == 0:
        return "-"
    if n == 1 or math.isnan(sd):
        return "%s ± -" % fmt_mean(mean)
    return "%s ± %.2g" % (fmt_mean(mean), sd)


def render(exp):
    s = exp.summary()
    shown = s.head(MAX_GROUPS)
    esc = html.escape
    out = ["<div class=\"engram-experiment\">",
           "<p><b>%s</b> <code>%s</code>: %s</p>" % (esc(exp.name), esc(exp.path), esc(exp.headline()))]
    head = [esc(c) for c in exp.swept] + ["runs"] + [esc(m) + ("" if exp.goals.get(m) is None else
                                                            " (%s)" % exp.goals[m]) for m in exp.metrics]
    out.append("<table><thead><tr>%s</tr></thead><tbody>" % "".join("<th>%s</th>" % h for h in head))
    for _, row in shown.iterrows():
        cells = [esc(str(row[c])) for c in exp.swept] + ["%d/%d" % (row["ok"], row["total"])]
        cells += [esc(cell(row[m + ":mean"], row[m + ":sd"], row[m + ":n"])) for m in exp.metrics]
        out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % c for c in cells))
    out.append("</tbody></table>")
    if len(s) > len(shown):
        out.append("<p>… %d more groups: <code>.summary()</code></p>" % (len(s) - len(shown)))
    out.append("</div>")
    return "\n".join(out)
