/* strbuf.h — a growing NUL-terminated string for building text (canonical configs, messages,
 * rewritten overrides). An allocation failure sets oom and every later call does nothing, so
 * a builder checks once at the end. Zero-initialised = empty. */
#ifndef EG_BASE_STRBUF_H
#define EG_BASE_STRBUF_H
#include <stddef.h>

typedef struct eg_strbuf {
    char *p; /* NULL until something is added */
    size_t n, cap;
    int oom;
} eg_strbuf;

void eg_sb_putn(eg_strbuf *b, const char *s, size_t len);
void eg_sb_puts(eg_strbuf *b, const char *s);
void eg_sb_printf(eg_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
