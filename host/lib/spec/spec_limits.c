/* spec_limits.c — the YAML-level limits, checked on libyaml's event stream before
 * yaml_parser_load builds the document: nesting depth (the composer, the flattening
 * and libyaml's own scanner cost grows with it; 100 000 '[' would take minutes) and the
 * node count after alias expansion ("billion laughs": ten lines of anchors and aliases
 * that stand for 10^9 nodes). A syntax error is left to the loader, which reports it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spec_internal.h"

typedef struct frame {
    unsigned long long nodes; /* this collection's nodes so far, aliases expanded */
    int height;               /* levels below it */
    char *anchor;             /* its anchor, to record when it ends */
} frame;

typedef struct anchors {
    spec_map names; /* name -> index */
    char **name;
    unsigned long long *nodes;
    int *height;
    int n, cap;
} anchors;

static void anchors_free(anchors *a) {
    spec_map_free(&a->names);
    for (int i = 0; i < a->n; i++)
        free(a->name[i]);
    free(a->name);
    free(a->nodes);
    free(a->height);
}

/* records (or redefines: YAML allows it, the later one counts) an anchor; takes name */
static eg_status anchor_put(anchors *a, char *name, unsigned long long nodes, int height) {
    if (a->n == a->cap) {
        int cap = a->cap ? 2 * a->cap : 16;
        char **nm = realloc(a->name, (size_t)cap * sizeof *nm);
        if (nm) a->name = nm;
        unsigned long long *nd = nm ? realloc(a->nodes, (size_t)cap * sizeof *nd) : NULL;
        if (nd) a->nodes = nd;
        int *h = nd ? realloc(a->height, (size_t)cap * sizeof *h) : NULL;
        if (!h) {
            free(name);
            return EG_ERR_NOMEM;
        }
        a->height = h;
        a->cap = cap;
    }
    a->name[a->n] = name;
    a->nodes[a->n] = nodes;
    a->height[a->n] = height;
    eg_status st = spec_map_put(&a->names, name, a->n);
    a->n++;
    return st;
}

static char *dup_anchor(const yaml_char_t *s) {
    return s ? strdup((const char *)s) : NULL;
}

eg_status spec_prescan(const spec_ctx *ctx, const char *text, size_t len, const char *file, int line_override) {
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return EG_ERR_NOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    frame stack[SPEC_MAX_DEPTH + 2];
    int depth = 0; /* stack[0] is the document level */
    memset(stack, 0, sizeof stack);
    anchors an = {0};
    unsigned long long total = 0;
    eg_status st = EG_OK;
    int done = 0;
    while (!done && st == EG_OK) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) break; /* the loader reports the syntax error */
        int line = line_override ? line_override : (int)ev.start_mark.line + 1;
        int col = line_override ? 0 : (int)ev.start_mark.column + 1;
        unsigned long long add = 0; /* nodes this event adds to the collection it is in */
        int height = 0;
        char *anchor = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = 1; break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (depth >= SPEC_MAX_DEPTH) {
                st = spec_fail_at(ctx, file, line, col, NULL,
                                  "nested deeper than %d levels of mappings and lists; a spec needs a few",
                                  SPEC_MAX_DEPTH);
                break;
            }
            total++;
            depth++;
            stack[depth].nodes = 1;
            stack[depth].height = 0;
            stack[depth].anchor = dup_anchor(ev.type == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor
                                                                                 : ev.data.sequence_start.anchor);
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (depth == 0) break;
            add = stack[depth].nodes;
            height = stack[depth].height + 1;
            anchor = stack[depth].anchor;
            stack[depth].anchor = NULL;
            depth--;
            if (anchor) st = anchor_put(&an, anchor, add, height);
            break;
        case YAML_SCALAR_EVENT:
            total++;
            add = 1;
            if (ev.data.scalar.anchor) {
                char *a = dup_anchor(ev.data.scalar.anchor);
                st = a ? anchor_put(&an, a, 1, 0) : EG_ERR_NOMEM;
            }
            break;
        case YAML_ALIAS_EVENT: {
            const char *name = (const char *)ev.data.alias.anchor;
            for (int d = 1; d <= depth && st == EG_OK; d++)
                if (stack[d].anchor && !strcmp(stack[d].anchor, name))
                    st = spec_fail_at(ctx, file, line, col, NULL,
                                      "alias *%s names a mapping or list that contains it (a cycle)", name);
            if (st != EG_OK) break;
            int i = spec_map_get(&an.names, name);
            if (i < 0) break; /* undefined: the loader says so */
            add = an.nodes[i];
            height = an.height[i];
            total += add;
            if (depth + height > SPEC_MAX_DEPTH)
                st = spec_fail_at(ctx, file, line, col, NULL,
                                  "alias *%s nests deeper than %d levels of mappings and lists", name, SPEC_MAX_DEPTH);
            break;
        }
        default: break;
        }
        if (st == EG_OK && total > SPEC_MAX_NODES)
            st = spec_fail_at(ctx, file, line, col, NULL,
                              "more than %d YAML nodes (aliases count as copies of what they name); "
                              "split the spec or use fewer aliases",
                              SPEC_MAX_NODES);
        if (add && depth > 0) {
            stack[depth].nodes += add;
            if (stack[depth].nodes > SPEC_MAX_NODES) stack[depth].nodes = SPEC_MAX_NODES + 1ull; /* saturate */
            if (height > stack[depth].height) stack[depth].height = height;
        }
        yaml_event_delete(&ev);
    }
    for (int d = 1; d <= depth; d++)
        free(stack[d].anchor);
    anchors_free(&an);
    yaml_parser_delete(&p);
    return st;
}
