/* cmd_new_plugin.c — `engram new-plugin NAME [--kind model|data] [--dir D]`: writes a
 * small, complete plugin project from the templates embedded in the executable
 * (host/cli/templates/<kind>/): CMakeLists.txt on find_package(engram), the plugin's
 * source and header, a test, a smoke spec and a README. In the templates
 * @NAME@ is the plugin's name, @NAME_UPPER@ the same in capitals, @ENGRAM_VERSION@
 * this engram's version, @ENGRAM_CMAKE_DIR@ where its CMake package is and @AUTHORS@
 * the user's login name (for the descriptor's authors). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_templates.h"
#include "engram/source.h"

static const char usage[] =
    "usage: engram new-plugin NAME [--kind model|data] [--dir D]\n"
    "\n"
    "Write a small working plugin project into D (default ./NAME): CMakeLists.txt using\n"
    "find_package(engram), the plugin's source and header, a test, smoke.yaml (a small sweep)\n"
    "and README.md.\n"
    "  --kind model (default): NAME_plugin.c, a parameter schema, metrics, the callbacks and a\n"
    "               soft nearest-memory retrieval on the shared retrieve task; test_NAME.c checks\n"
    "               the update against answers worked out by hand.\n"
    "  --kind data: NAME_source.c, a data source with options (n, dim, overlap, seed) generating\n"
    "               correlated +-1 patterns; test_NAME.c checks them against their definition;\n"
    "               smoke.yaml retrieves them with engram's hopfield model.\n"
    "Then:\n"
    "  cmake -S D -B D/build && cmake --build D/build && engram run D/smoke.yaml\n"
    "NAME: a C identifier in lower case (it prefixes the plugin's functions). D must not exist,\n"
    "or be empty.\n";

/* what the templates' @KEY@ placeholders become */
typedef struct subst {
    const char *key, *value;
} subst;

static int valid_name(const char *n) {
    if (!n || !*n || strlen(n) > 40 || !islower((unsigned char)n[0])) return 0;
    for (const char *p = n; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')) return 0;
    return strncmp(n, "eg_", 3) != 0; /* eg_ is the SDK's prefix */
}

/* the template text with every @KEY@ replaced; malloc'ed */
static char *expand(const cli_template *t, const subst *s, int n) {
    size_t cap = t->size * 2 + 256, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    for (size_t i = 0; i < t->size;) {
        const char *src = (const char *)t->data + i;
        const char *value = NULL;
        size_t klen = 0;
        for (int k = 0; k < n && src[0] == '@'; k++) {
            klen = strlen(s[k].key);
            if (i + klen + 2 <= t->size && strncmp(src + 1, s[k].key, klen) == 0 && src[klen + 1] == '@') {
                value = s[k].value;
                break;
            }
        }
        size_t add = value ? strlen(value) : 1;
        if (len + add + 1 > cap) {
            cap = 2 * (len + add + 1);
            char *grown = realloc(out, cap);
            if (!grown) return free(out), NULL;
            out = grown;
        }
        if (value) {
            memcpy(out + len, value, add);
            i += klen + 2;
        } else {
            out[len] = *src;
            i++;
        }
        len += add;
    }
    out[len] = 0;
    return out;
}

/* the CMake package of this engram: <exe>/../lib/cmake/engram when installed, the build
 * directory (which holds engramConfig.cmake) when run from a build tree */
static void cmake_dir(char *buf, size_t cap) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    buf[0] = 0;
    if (n <= 0) return;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = 0;
    char probe[PATH_MAX + 64];
    struct stat st;
    snprintf(probe, sizeof probe, "%s/../lib/cmake/engram/engramConfig.cmake", exe);
    char real[PATH_MAX];
    if (stat(probe, &st) == 0 && realpath(probe, real)) {
        *strrchr(real, '/') = 0;
        snprintf(buf, cap, "%s", real);
        return;
    }
    snprintf(probe, sizeof probe, "%s/engramConfig.cmake", exe);
    if (stat(probe, &st) == 0) snprintf(buf, cap, "%s", exe);
}

/* the file name a template is written as: plugin.c -> NAME_plugin.c, source.c ->
 * NAME_source.c, plugin.h -> NAME.h, test.c -> test_NAME.c, others as they are */
static void out_name(const char *file, const char *name, char *buf, size_t cap) {
    if (!strcmp(file, "plugin.c") || !strcmp(file, "source.c"))
        snprintf(buf, cap, "%s_%s", name, file);
    else if (!strcmp(file, "plugin.h"))
        snprintf(buf, cap, "%s.h", name);
    else if (!strcmp(file, "test.c"))
        snprintf(buf, cap, "test_%s.c", name);
    else
        snprintf(buf, cap, "%s", file);
}

static int dir_is_empty_or_absent(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT;
    int empty = 1;
    for (struct dirent *e; empty && (e = readdir(d)) != NULL;)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

int cmd_new_plugin(int argc, char **argv) {
    const char *name = NULL, *dir = NULL, *kind = "model";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--kind") || !strcmp(a, "--dir")) {
            if (i + 1 >= argc) return cli_usage_error("new-plugin", "%s needs a value", a);
            *(a[2] == 'k' ? &kind : &dir) = argv[++i];
        } else if (!strncmp(a, "--kind=", 7)) {
            kind = a + 7;
        } else if (!strncmp(a, "--dir=", 6)) {
            dir = a + 6;
        } else if (a[0] == '-') {
            return cli_usage_error("new-plugin", "unknown option '%s'", a);
        } else if (!name) {
            name = a;
        } else {
            return cli_usage_error("new-plugin", "one NAME only (got '%s' and '%s')", name, a);
        }
    }
    if (!name) return cli_usage_error("new-plugin", "missing the plugin's NAME");
    if (!valid_name(name))
        return cli_usage_error("new-plugin",
                               "NAME '%s': expected a lower-case C identifier ([a-z][a-z0-9_]*, at most 40 "
                               "characters, not starting with eg_)",
                               name);
    if (strcmp(kind, "model") != 0 && strcmp(kind, "data") != 0)
        return cli_usage_error("new-plugin", "--kind %s: expected model or data", kind);
    if (!strcmp(kind, "data") && eg_data_source_find(name) && !eg_data_source_origin(eg_data_source_find(name)))
        return cli_usage_error("new-plugin", "NAME '%s': a data source of that name is built into engram", name);
    char dbuf[PATH_MAX];
    if (!dir) snprintf(dbuf, sizeof dbuf, "./%s", name), dir = dbuf;
    if (!dir_is_empty_or_absent(dir)) {
        fprintf(stderr, "engram new-plugin: %s exists and is not an empty directory; choose another --dir\n", dir);
        return EG_EXIT_USAGE;
    }
    char merr[PATH_MAX + 128];
    if (eg_mkdirs(dir, merr, sizeof merr) != 0) {
        fprintf(stderr, "engram new-plugin: %s\n", merr);
        return EG_EXIT_USAGE;
    }
    char upper[64], cmake[PATH_MAX];
    size_t n = strlen(name);
    for (size_t i = 0; i <= n && i < sizeof upper; i++)
        upper[i] = (char)toupper((unsigned char)name[i]);
    cmake_dir(cmake, sizeof cmake);
    const char *authors = getenv("USER"); /* a starting point; the author edits it */
    if (!authors || !*authors || strchr(authors, '"') || strchr(authors, '\\')) authors = "the authors";
    const subst subs[] = {{"NAME", name},
                          {"NAME_UPPER", upper},
                          {"ENGRAM_VERSION", eg_engram_version()},
                          {"ENGRAM_CMAKE_DIR", cmake},
                          {"AUTHORS", authors}};
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s/", kind);
    int written = 0;
    for (int t = 0; t < cli_n_templates; t++) {
        if (strncmp(cli_templates[t].name, prefix, strlen(prefix)) != 0) continue;
        char file[128], path[PATH_MAX + 128];
        out_name(cli_templates[t].name + strlen(prefix), name, file, sizeof file);
        snprintf(path, sizeof path, "%s/%s", dir, file);
        char *text = expand(&cli_templates[t], subs, (int)(sizeof subs / sizeof *subs));
        FILE *f = text ? fopen(path, "w") : NULL;
        int ok = f && fputs(text, f) >= 0;
        if (f && fclose(f) != 0) ok = 0;
        free(text);
        if (!ok) {
            fprintf(stderr, "engram new-plugin: cannot write %s: %s\n", path, strerror(errno));
            return EG_EXIT_RUNS_FAILED;
        }
        printf("  wrote %s\n", path);
        written++;
    }
    if (written == 0) { /* a build whose embedded templates lack this kind */
        fprintf(stderr, "engram new-plugin: this engram has no templates for --kind %s (rebuild it)\n", kind);
        return EG_EXIT_RUNS_FAILED;
    }
    if (!cmake[0])
        fprintf(stderr, "engram new-plugin: warning: this engram has no CMake package beside it (neither "
                        "<prefix>/lib/cmake/engram nor a build tree); pass -Dengram_DIR=... to cmake\n");
    printf("%s plugin '%s': %d files in %s\n"
           "next: cmake -S %s -B %s/build && cmake --build %s/build && engram run %s/smoke.yaml\n",
           kind, name, written, dir, dir, dir, dir, dir);
    return 0;
}
