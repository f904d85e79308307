/* cli_params.c — printing parameter schemas as text tables and JSON
 * (shared by `engram describe` and `engram datasets`). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli_params.h"

const char *cli_type_name(eg_param_type t) {
    switch (t) {
    case EG_PARAM_BOOL: return "bool";
    case EG_PARAM_INT: return "int";
    case EG_PARAM_FLOAT: return "float";
    case EG_PARAM_STRING: return "string";
    case EG_PARAM_ENUM: return "enum";
    case EG_PARAM_INT_LIST: return "int-list";
    case EG_PARAM_FLOAT_LIST: return "float-list";
    case EG_PARAM_PATH: return "path";
    }
    return "?";
}

static void num(double v, char *buf, size_t cap) {
    snprintf(buf, cap, "%.10g", v);
}

void cli_range_text(const eg_param_spec *p, char *buf, size_t cap) {
    buf[0] = 0;
    if (!(p->range_flags & (EG_RANGE_MIN | EG_RANGE_MAX | EG_RANGE_MIN_EXCL | EG_RANGE_MAX_EXCL))) return;
    char lo[32] = "-inf", hi[32] = "inf";
    int has_lo = p->range_flags & (EG_RANGE_MIN | EG_RANGE_MIN_EXCL);
    int has_hi = p->range_flags & (EG_RANGE_MAX | EG_RANGE_MAX_EXCL);
    if (has_lo) num(p->min, lo, sizeof lo);
    if (has_hi) num(p->max, hi, sizeof hi);
    snprintf(buf, cap, "%c%s, %s%c", has_lo && !(p->range_flags & EG_RANGE_MIN_EXCL) ? '[' : '(', lo, hi,
             has_hi && !(p->range_flags & EG_RANGE_MAX_EXCL) ? ']' : ')');
}

void cli_print_params(FILE *f, const char *prefix, const eg_param_spec *ps, int n) {
    int kw = 4;
    for (int i = 0; i < n; i++) {
        int len = (int)(strlen(prefix) + strlen(ps[i].key));
        if (len > kw) kw = len;
    }
    for (int i = 0; i < n; i++) {
        const eg_param_spec *p = &ps[i];
        char key[256], range[96];
        snprintf(key, sizeof key, "%s%s", prefix, p->key);
        cli_range_text(p, range, sizeof range);
        fprintf(f, "  %-*s  %-10s default %s", kw, key, cli_type_name(p->type),
                p->default_value ? p->default_value : "(required)");
        if (p->type == EG_PARAM_ENUM && p->choices) fprintf(f, "  choices: %s", p->choices);
        if (range[0]) fprintf(f, "  range %s", range);
        if (p->unit && *p->unit) fprintf(f, "  unit: %s", p->unit);
        fprintf(f, "\n  %-*s    %s\n", kw, "", p->doc ? p->doc : "");
    }
}

void cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs("null", f);
}

void cli_json_params(FILE *f, const eg_param_spec *ps, int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        const eg_param_spec *p = &ps[i];
        fprintf(f, "%s{\"key\": ", i ? ", " : "");
        cli_json_str(f, p->key);
        fprintf(f, ", \"type\": \"%s\", \"default\": ", cli_type_name(p->type));
        if (p->default_value)
            cli_json_str(f, p->default_value);
        else
            fputs("null", f);
        fprintf(f, ", \"required\": %s", p->default_value ? "false" : "true");
        fputs(", \"min\": ", f);
        if (p->range_flags & (EG_RANGE_MIN | EG_RANGE_MIN_EXCL))
            json_num(f, p->min);
        else
            fputs("null", f);
        fputs(", \"max\": ", f);
        if (p->range_flags & (EG_RANGE_MAX | EG_RANGE_MAX_EXCL))
            json_num(f, p->max);
        else
            fputs("null", f);
        fprintf(f, ", \"min_exclusive\": %s, \"max_exclusive\": %s",
                p->range_flags & EG_RANGE_MIN_EXCL ? "true" : "false",
                p->range_flags & EG_RANGE_MAX_EXCL ? "true" : "false");
        fputs(", \"choices\": ", f);
        if (p->type == EG_PARAM_ENUM && p->choices) {
            fputc('[', f);
            const char *c = p->choices;
            for (int k = 0; *c; k++) {
                const char *bar = strchr(c, '|');
                size_t len = bar ? (size_t)(bar - c) : strlen(c);
                char item[128];
                snprintf(item, sizeof item, "%.*s", (int)len, c);
                if (k) fputs(", ", f);
                cli_json_str(f, item);
                c += len + (bar ? 1 : 0);
            }
            fputc(']', f);
        } else {
            fputs("null", f);
        }
        fputs(", \"unit\": ", f);
        cli_json_str(f, p->unit);
        fputs(", \"doc\": ", f);
        cli_json_str(f, p->doc);
        fputc('}', f);
    }
    fputc(']', f);
}
