"""unit/test_exports — symbol hygiene of the built libraries:

- libengram.so exports exactly the functions the SDK headers mark EG_API
  (include/engram/*.h), no internal helper (spec_*, ds_*, eg__*), and carries the
  versioned SONAME libengram.so.1;
- every model plugin exports only eg_model_entry, every backend only
  eg_backend_entry (everything else is built with hidden visibility), so a function
  libengram adds later can never be replaced by a plugin's function of that name;
- no function or global a plugin's code defines (exported or hidden) uses the
  SDK's eg_ prefix besides its entry point (read from the plugin's objects).
"""
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "common"))
from engram_test import check, finish, nm_symbols, sdk_functions  # noqa: E402

SRC = os.environ.get("ENGRAM_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("ENGRAM_BUILD", os.path.join(SRC, "build"))
PLUGINS = ["bwdam", "compvae", "hopfield", "nem", "pcgmm", "vmfdam"]


def dynamic_exports(path):
    return nm_symbols(path, dynamic=True)[0]


def global_definitions(objects):
    """external symbols the objects define (static and inline functions are local: 't')"""
    return set().union(*(nm_symbols(o)[0] for o in objects)) if objects else set()


def main():
    lib = os.path.join(BUILD, "libengram.so")
    sdk = sdk_functions(SRC)
    exported = dynamic_exports(lib)
    extra, missing = sorted(exported - sdk), sorted(sdk - exported)
    check(not extra, "libengram.so exports nothing beyond the SDK (%d symbols) %s" % (len(exported), extra[:20]))
    check(not missing, "libengram.so exports every SDK function %s" % missing[:20])
    check(not [s for s in exported if s.startswith(("spec_", "ds_", "eg__", "shapes_"))],
          "no internal helper (spec_*, ds_*, eg__*) is exported")
    dyn = subprocess.run(["readelf", "-d", lib], capture_output=True, text=True, check=True).stdout
    check("Library soname: [libengram.so.1]" in dyn, "libengram.so's SONAME is libengram.so.1")

    for name in PLUGINS:
        path = os.path.join(BUILD, "plugins", "engram-model-%s.so" % name)
        if not os.path.exists(path):
            check(False, "plugin %s is built (%s)" % (name, path))
            continue
        exp = dynamic_exports(path)
        check(exp == {"eg_model_entry"}, "engram-model-%s.so exports only eg_model_entry %s" %
              (name, sorted(exp - {"eg_model_entry"})[:10]))
        objs = glob.glob(os.path.join(BUILD, "CMakeFiles", "engram-model-%s-code.dir" % name, "**", "*.o"),
                         recursive=True)
        own = sorted(s for s in global_definitions(objs) if s.startswith(("eg_", "EG_")) and s != "eg_model_entry")
        check(bool(objs) and not own, "plugin %s defines nothing external under the SDK's eg_ prefix %s" %
              (name, own[:10]))
    for path in sorted(glob.glob(os.path.join(BUILD, "plugins", "engram-backend-*.so"))):
        exp = dynamic_exports(path)
        check(exp == {"eg_backend_entry"}, "%s exports only eg_backend_entry %s" %
              (os.path.basename(path), sorted(exp - {"eg_backend_entry"})[:10]))
    finish()


if __name__ == "__main__":
    main()
