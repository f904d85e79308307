/* loader.c — dlopen-based loading of backend, model and data-source plugins with ABI checks. */
#define _GNU_SOURCE
#include "loader.h"

#include "base/sha256.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef EG_BUILD_PLUGIN_DIR
#define EG_BUILD_PLUGIN_DIR ""
#endif
#ifndef EG_INSTALL_PLUGIN_DIR
#define EG_INSTALL_PLUGIN_DIR "/usr/local/lib/engram"
#endif

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The directories searched, in order, as a malloc'ed NULL-terminated array: every
 * entry of ENGRAM_PLUGIN_PATH (however many), then the fixed places. */
enum { FIXED_DIRS = 5 }; /* <exe>/plugins, <exe>/../lib/engram, ~/.local/lib/engram, the build tree's, install */
/* dirs[*n] = a copy of s; -1 (and nothing added) when out of memory */
static int add_dir(char **dirs, size_t *n, const char *s) {
    if (!(dirs[*n] = strdup(s))) return -1;
    (*n)++;
    return 0;
}

static void free_dirs(char **dirs);

/* NULL when out of memory: a shorter search path would look like a missing plugin */
static char **search_dirs(void) {
    const char *env = getenv("ENGRAM_PLUGIN_PATH");
    size_t n_env = 0;
    for (const char *p = env; p && *p; p++)
        n_env += *p == ':';
    n_env += env && *env ? 1 : 0;
    char **dirs = calloc(n_env + FIXED_DIRS + 1, sizeof *dirs);
    size_t n = 0;
    if (!dirs) return NULL;
    int bad = 0;
    if (env && *env) {
        char *copy = strdup(env), *save = NULL;
        bad |= !copy;
        for (char *tok = copy ? strtok_r(copy, ":", &save) : NULL; tok && n < n_env; tok = strtok_r(NULL, ":", &save))
            if (*tok) bad |= add_dir(dirs, &n, tok);
        free(copy);
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char buf[PATH_MAX + 32];
            snprintf(buf, sizeof buf, "%s/plugins", exe);
            bad |= add_dir(dirs, &n, buf);
            char *up = strrchr(exe, '/'); /* <prefix>/bin/engram -> <prefix>/lib/engram, written plainly */
            if (up && up != exe)
                snprintf(buf, sizeof buf, "%.*s/lib/engram", (int)(up - exe), exe);
            else
                snprintf(buf, sizeof buf, "%s/../lib/engram", exe);
            bad |= add_dir(dirs, &n, buf);
        }
    }
    const char *home = getenv("HOME"); /* a user's own plugins, installed without root */
    if (home && *home) {
        char buf[PATH_MAX + 32];
        snprintf(buf, sizeof buf, "%s/.local/lib/engram", home);
        bad |= add_dir(dirs, &n, buf);
    }
    if (*EG_BUILD_PLUGIN_DIR) bad |= add_dir(dirs, &n, EG_BUILD_PLUGIN_DIR);
    bad |= add_dir(dirs, &n, EG_INSTALL_PLUGIN_DIR);
    dirs[n] = NULL; /* n <= n_env + FIXED_DIRS */
    if (bad) {
        free_dirs(dirs);
        return NULL;
    }
    return dirs;
}

static void free_dirs(char **dirs) {
    if (!dirs) return;
    for (int i = 0; dirs[i]; i++) free(dirs[i]);
    free(dirs);
}

/* Resolve "cpu" to <dir>/engram-backend-cpu.so along the search path; a name with '/' is a path.
 * NULL with err and *st: EG_ERR_NOTFOUND, or EG_ERR_NOMEM. */
static char *resolve(const char *kind, const char *name, char *err, size_t cap, eg_status *st) {
    *st = EG_ERR_NOTFOUND;
    if (strchr(name, '/')) {
        if (!file_exists(name)) {
            snprintf(err, cap, "%s plugin '%s': no such file", kind, name);
            return NULL;
        }
        char *full = realpath(name, NULL); /* absolute, so messages and records name one file */
        if (!full) full = strdup(name);
        if (!full) {
            snprintf(err, cap, "%s plugin '%s': out of memory", kind, name);
            *st = EG_ERR_NOMEM;
        }
        return full;
    }
    char **dirs = search_dirs();
    if (!dirs) {
        snprintf(err, cap, "looking for %s plugin '%s': out of memory", kind, name);
        *st = EG_ERR_NOMEM;
        return NULL;
    }
    char path[PATH_MAX + 64];
    char *found = NULL;
    for (int i = 0; dirs && dirs[i] && !found; i++) {
        snprintf(path, sizeof path, "%s/engram-%s-%s.so", dirs[i], kind, name);
        if (file_exists(path) && !(found = strdup(path))) {
            snprintf(err, cap, "%s: out of memory", path);
            *st = EG_ERR_NOMEM;
            free_dirs(dirs);
            return NULL;
        }
    }
    if (!found) {
        size_t off = (size_t)snprintf(err, cap, "no %s plugin named '%s' (looked for engram-%s-%s.so in", kind, name,
                                      kind, name);
        for (int i = 0; dirs && dirs[i] && off < cap; i++)
            off += (size_t)snprintf(err + off, cap - off, "%s %s", i ? "," : "", dirs[i]);
        if (off < cap) snprintf(err + off, cap - off, "; set ENGRAM_PLUGIN_PATH to add directories)");
    }
    free_dirs(dirs);
    return found;
}

const char *eg_model_meta(const eg_model_desc *d, const char *field) {
    if (!d || !field || d->abi_minor < 2) return NULL;
#define EG_META(name)                                                                                                  \
    if (strcmp(field, #name) == 0)                                                                                     \
        return d->struct_size >= offsetof(eg_model_desc, name) + sizeof d->name ? d->name : NULL;
    EG_META(license)
    EG_META(url)
    EG_META(authors)
#undef EG_META
    return NULL;
}

const char *eg_model_init_from_models(const eg_model_desc *d) {
    if (!d || d->abi_minor < 3 ||
        d->struct_size < offsetof(eg_model_desc, init_from_models) + sizeof d->init_from_models)
        return NULL;
    return d->init_from_models;
}

int eg_model_loads_from(const eg_model_desc *d, const char *model) {
    if (!d || !model || !*model) return 0;
    if (d->name && strcmp(d->name, model) == 0) return 1;
    size_t len = strlen(model);
    for (const char *p = eg_model_init_from_models(d); p && *p;) {
        size_t n = strcspn(p, "|");
        if (n == len && strncmp(p, model, len) == 0) return 1;
        p += n + (p[n] == '|');
    }
    return 0;
}

/* one remembered hash: the file identified by path, size and mtime */
typedef struct build_id_entry {
    char *path;
    off_t size;
    struct timespec mtime;
    char id[17];
} build_id_entry;

eg_status eg_plugin_build_id(const char *path, char out[17], char *err, size_t cap) {
    static build_id_entry cache[16];
    static int next;
    out[0] = 0;
    struct stat st;
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(err, cap, "%s: cannot read the plugin file to hash it", path ? path : "(null)");
        if (f) fclose(f);
        return EG_ERR_IO;
    }
    for (int i = 0; i < 16; i++)
        if (cache[i].path && !strcmp(cache[i].path, path) && cache[i].size == st.st_size &&
            cache[i].mtime.tv_sec == st.st_mtim.tv_sec && cache[i].mtime.tv_nsec == st.st_mtim.tv_nsec) {
            fclose(f);
            memcpy(out, cache[i].id, 17);
            return EG_OK;
        }
    eg_sha256 h;
    eg_sha256_init(&h);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        eg_sha256_update(&h, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, cap, "%s: read error while hashing", path);
        return EG_ERR_IO;
    }
    uint8_t digest[32];
    eg_sha256_final(&h, digest);
    eg_sha256_hex(digest, out, 16);
    build_id_entry *e = &cache[next];
    next = (next + 1) % 16;
    free(e->path);
    *e = (build_id_entry){strdup(path), st.st_size, st.st_mtim, ""};
    memcpy(e->id, out, 17);
    return EG_OK;
}

eg_status eg_plugin_locate(const char *kind, const char *name, char *path, size_t cap) {
    eg_status st;
    char *found = resolve(kind, name, path, cap, &st);
    if (!found) return st;
    snprintf(path, cap, "%s", found);
    free(found);
    return EG_OK;
}

eg_status eg_check_abi(const char *path, const char *kind, uint32_t major, uint32_t minor, uint32_t host_major,
                       uint32_t host_minor, uint32_t struct_size, uint32_t min_size, char *err, size_t cap) {
    if (major != host_major) {
        snprintf(err, cap, "%s: %s plugin ABI %u.%u is incompatible with this engram's %u.%u (major differs)", path,
                 kind, major, minor, host_major, host_minor);
        return EG_ERR_ABI;
    }
    if (minor > host_minor) {
        snprintf(err, cap, "%s: %s plugin ABI %u.%u is newer than this engram's %u.%u; upgrade engram", path, kind,
                 major, minor, host_major, host_minor);
        return EG_ERR_ABI;
    }
    if (struct_size < min_size) {
        snprintf(err, cap, "%s: %s descriptor is %u bytes, smaller than the %u bytes ABI %u.0 requires", path, kind,
                 struct_size, min_size, major);
        return EG_ERR_ABI;
    }
    return EG_OK;
}

static void *open_entry(const char *path, const char *symbol, void **dl_out, char *err, size_t cap) {
    dlerror();
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        snprintf(err, cap, "%s (check its dependencies with `ldd %s`)", dlerror(), path);
        return NULL;
    }
    dlerror();
    void *sym = dlsym(dl, symbol);
    const char *e = dlerror();
    if (e || !sym) {
        snprintf(err, cap, "%s: not an engram plugin: entry symbol '%s' missing (%s)", path, symbol,
                 e ? e : "NULL");
        dlclose(dl);
        return NULL;
    }
    *dl_out = dl;
    return sym;
}

/* ABI 1.0 descriptors end with their last callback; a smaller struct_size is corrupt. */
#define BACKEND_MIN_SIZE ((uint32_t)(offsetof(eg_backend_desc, rand) + sizeof(void *)))
#define MODEL_MIN_SIZE ((uint32_t)(offsetof(eg_model_desc, destroy) + sizeof(void *)))

eg_status eg_backend_open(const char *name_or_path, eg_backend **out, char *err, size_t cap) {
    *out = NULL;
    eg_status rst;
    char *path = resolve("backend", name_or_path, err, cap, &rst);
    if (!path) return rst;
    /* allocated before the library is loaded: unloading it again after its constructors
     * ran can orphan what they allocated (and LeakSanitizer reports it) */
    eg_backend *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, cap, "%s: out of memory", path);
        free(path);
        return EG_ERR_NOMEM;
    }
    void *dl = NULL;
    void *sym = open_entry(path, EG_BACKEND_ENTRY_SYMBOL, &dl, err, cap);
    if (!sym) {
        free(b);
        free(path);
        return EG_ERR_LOAD;
    }
    const eg_backend_desc *d = ((eg_backend_entry_fn)sym)();
    eg_status st = d ? eg_check_abi(path, "backend", d->abi_major, d->abi_minor, EG_BACKEND_ABI_MAJOR,
                                    EG_BACKEND_ABI_MINOR, d->struct_size, BACKEND_MIN_SIZE, err, cap)
                     : EG_ERR_ABI;
    if (!d) snprintf(err, cap, "%s: %s returned NULL", path, EG_BACKEND_ENTRY_SYMBOL);
    if (st != EG_OK) {
        dlclose(dl);
        free(b);
        free(path);
        return st;
    }
    b->dl = dl;
    b->path = path;
    b->desc = d;
    *out = b;
    return EG_OK;
}

eg_status eg_backend_start(eg_backend *b, const eg_backend_config *cfg, char *err, size_t cap) {
    char reason[256] = "";
    if (!b->desc->available(reason, sizeof reason)) {
        snprintf(err, cap, "%s", reason[0] ? reason : "backend unavailable");
        return EG_ERR_UNAVAILABLE;
    }
    eg_backend_config def = {sizeof def, 0, 0};
    eg_status st = b->desc->init(cfg ? cfg : &def, &b->instance);
    if (st != EG_OK) {
        snprintf(err, cap, "%s: init failed: %s", b->desc->name, eg_strerror(st));
        b->instance = NULL;
    }
    return st;
}

void eg_backend_close(eg_backend *b) {
    if (!b) return;
    if (b->instance) b->desc->shutdown(b->instance);
    if (b->dl) dlclose(b->dl);
    free(b->path);
    free(b);
}

eg_status eg_backend_open_start(const char *name, int threads, eg_backend **out, char *err, size_t cap) {
    eg_backend_config cfg = {sizeof cfg, threads, 0};
    *out = NULL;
    if (strcmp(name, "auto") == 0) {
        eg_backend *b = NULL;
        char ignored[512];
        if (eg_backend_open("cuda", &b, ignored, sizeof ignored) == EG_OK) {
            if (eg_backend_start(b, &cfg, ignored, sizeof ignored) == EG_OK) {
                *out = b;
                return EG_OK;
            }
            eg_backend_close(b);
        }
        name = "cpu";
    }
    eg_backend *b = NULL;
    eg_status st = eg_backend_open(name, &b, err, cap);
    if (st != EG_OK) return st;
    st = eg_backend_start(b, &cfg, err, cap);
    if (st != EG_OK) {
        eg_backend_close(b);
        return st;
    }
    *out = b;
    return EG_OK;
}

eg_status eg_model_open(const char *name_or_path, eg_model_plugin **out, char *err, size_t cap) {
    *out = NULL;
    eg_status rst;
    char *path = resolve("model", name_or_path, err, cap, &rst);
    if (!path) return rst;
    eg_model_plugin *m = calloc(1, sizeof *m); /* before loading: see eg_backend_open */
    if (!m) {
        snprintf(err, cap, "%s: out of memory", path);
        free(path);
        return EG_ERR_NOMEM;
    }
    void *dl = NULL;
    void *sym = open_entry(path, EG_MODEL_ENTRY_SYMBOL, &dl, err, cap);
    if (!sym) {
        free(m);
        free(path);
        return EG_ERR_LOAD;
    }
    const eg_model_desc *d = ((eg_model_entry_fn)sym)();
    eg_status st = d ? eg_check_abi(path, "model", d->abi_major, d->abi_minor, EG_MODEL_ABI_MAJOR,
                                    EG_MODEL_ABI_MINOR, d->struct_size, MODEL_MIN_SIZE, err, cap)
                     : EG_ERR_ABI;
    if (!d) snprintf(err, cap, "%s: %s returned NULL", path, EG_MODEL_ENTRY_SYMBOL);
    if (st == EG_OK && (!d->name || !d->create || !d->eval || !d->destroy)) {
        snprintf(err, cap, "%s: model descriptor lacks a name or a create/eval/destroy callback", path);
        st = EG_ERR_ABI;
    }
    if (st != EG_OK) {
        dlclose(dl);
        free(m);
        free(path);
        return st;
    }
    m->dl = dl;
    m->path = path;
    m->desc = d;
    *out = m;
    return EG_OK;
}

/* Data ABI 1.0: the descriptor up to its source pointer, the source up to authors. */
#define DATA_MIN_SIZE ((uint32_t)(offsetof(eg_data_desc, source) + sizeof(void *)))
#define SOURCE_MIN_SIZE ((uint32_t)(offsetof(eg_data_source, authors) + sizeof(void *)))

/* the parts of a source the host relies on without looking again */
static eg_status check_source(const char *path, const eg_data_source *s, char *err, size_t cap) {
    const char *what = !s->name || !*s->name                 ? "a name"
                       : !s->load                            ? "a load callback"
                       : !s->splits || !*s->splits           ? "its splits"
                       : s->n_options < 0 || (s->n_options > 0 && !s->options) ? "a valid option table"
                                                                                : NULL;
    for (int i = 0; !what && i < s->n_options; i++)
        if (!s->options[i].key || !*s->options[i].key) what = "a key for every option";
    if (what) snprintf(err, cap, "%s: data source descriptor lacks %s", path, what);
    return what ? EG_ERR_ABI : EG_OK;
}

eg_status eg_data_plugin_open(const char *name_or_path, eg_data_plugin **out, char *err, size_t cap) {
    *out = NULL;
    eg_status rst;
    char *path = resolve("data", name_or_path, err, cap, &rst);
    if (!path) return rst;
    void *dl = NULL;
    void *sym = open_entry(path, EG_DATA_ENTRY_SYMBOL, &dl, err, cap);
    if (!sym) {
        free(path);
        return EG_ERR_LOAD;
    }
    const eg_data_desc *d = ((eg_data_entry_fn)sym)();
    eg_status st = d ? eg_check_abi(path, "data", d->abi_major, d->abi_minor, EG_DATA_ABI_MAJOR, EG_DATA_ABI_MINOR,
                                    d->struct_size, DATA_MIN_SIZE, err, cap)
                     : EG_ERR_ABI;
    if (!d) snprintf(err, cap, "%s: %s returned NULL", path, EG_DATA_ENTRY_SYMBOL);
    if (st == EG_OK && (!d->source || d->source_size < SOURCE_MIN_SIZE)) {
        snprintf(err, cap, "%s: data descriptor has %s (source_size %u, ABI %u.0 needs %u)", path,
                 d->source ? "a short source" : "no source", d->source_size, EG_DATA_ABI_MAJOR, SOURCE_MIN_SIZE);
        st = EG_ERR_ABI;
    }
    eg_data_plugin *p = st == EG_OK ? calloc(1, sizeof *p) : NULL;
    if (st == EG_OK && !p) st = EG_ERR_NOMEM, snprintf(err, cap, "%s: out of memory", path);
    if (p) { /* only the fields the plugin's build has; the rest stay NULL */
        size_t n = d->source_size < sizeof p->source ? d->source_size : sizeof p->source;
        memcpy(&p->source, d->source, n);
        st = check_source(path, &p->source, err, cap);
    }
    if (st != EG_OK) {
        free(p);
        dlclose(dl);
        free(path);
        return st;
    }
    p->dl = dl;
    p->path = path;
    p->desc = d;
    *out = p;
    return EG_OK;
}

void eg_data_plugin_close(eg_data_plugin *p) {
    if (!p) return;
    if (p->dl) dlclose(p->dl);
    free(p->path);
    free(p);
}

void eg_model_close(eg_model_plugin *m) {
    if (!m) return;
    if (m->dl) dlclose(m->dl);
    free(m->path);
    free(m);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int eg_plugin_scan(const char *kind, char ***names) {
    char **dirs = search_dirs();
    char prefix[64];
    snprintf(prefix, sizeof prefix, "engram-%s-", kind);
    size_t plen = strlen(prefix);
    int n = 0, cap = 16;
    char **out = malloc((size_t)cap * sizeof *out);
    for (int i = 0; dirs && dirs[i] && out; i++) {
        DIR *d = opendir(dirs[i]);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (strncmp(e->d_name, prefix, plen) != 0 || len < plen + 4 || strcmp(e->d_name + len - 3, ".so") != 0)
                continue;
            char *name = strndup(e->d_name + plen, len - plen - 3);
            int dup = 0;
            for (int j = 0; j < n; j++) dup |= strcmp(out[j], name) == 0;
            if (dup) {
                free(name);
                continue;
            }
            if (n == cap) {
                cap *= 2;
                char **grown = realloc(out, (size_t)cap * sizeof *out);
                if (!grown) {
                    free(name);
                    break;
                }
                out = grown;
            }
            out[n++] = name;
        }
        closedir(d);
    }
    free_dirs(dirs);
    if (out) qsort(out, (size_t)n, sizeof *out, cmp_str);
    *names = out;
    return n;
}
