"""Column names. engram's columns keep their dotted / slashed names (`params.beta`,
`retrieval/success`), the names `engram show`, the spec and the run files use.
pandas accepts them in `df.query` / `df.eval` between backticks: `col` writes that
form; `flat_name` / `flatten` give identifier-style names for code that wants them."""
import re

from .errors import ColumnError, EngramError


def col(name):
    """`params.beta` -> "`params.beta`", for pandas query/eval:
    ``runs.query(f"{engram.col('params.beta')} > 1")``."""
    if "`" in name:
        raise EngramError("column name %r contains a backtick; pandas cannot quote it" % name)
    return "`%s`" % name


def flat_name(name):
    """`params.beta` -> `params_beta`, `retrieval/success:mean` -> `retrieval_success_mean`:
    every character that cannot be in a Python identifier becomes `_`."""
    flat = re.sub(r"\W", "_", name, flags=re.ASCII)
    return "_" + flat if flat[:1].isdigit() else flat


def flatten(df):
    """A copy of the DataFrame with flat_name columns. Two columns that would get the same
    flat name (`a.b` and `a/b`) raise an error rather than silently losing one."""
    names = [flat_name(str(c)) for c in df.columns]
    seen = {}
    for old, new in zip(df.columns, names):
        if new in seen:
            raise EngramError("columns %r and %r both flatten to %r; use the dotted names with engram.col()"
                              % (seen[new], old, new))
        seen[new] = old
    out = df.copy()
    out.columns = names
    return out


def resolve(name, columns, metrics=(), what="column"):
    """A column by its full name, as params.<name>, or a metric by its short name (the name
    less its first path component: `success` for `retrieval/success`), as `engram show`
    --sort/--best do. Raises ColumnError naming the choices."""
    columns = list(columns)
    if name in columns:
        return name
    if "params." + name in columns:
        return "params." + name
    short = [m for m in metrics if m.split("/", 1)[-1] == name and "/" in m]
    if len(short) == 1:
        return short[0]
    if len(short) > 1:
        raise ColumnError("%s %r fits several metrics (%s); write the full name" % (what, name, ", ".join(short)))
    raise ColumnError("no %s %r (%s)" % (what, name, ", ".join(map(str, columns)) or "none"))
