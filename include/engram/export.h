/* engram/export.h — the mark on every SDK function. libengram and the plugins are
 * built with hidden visibility, so only what carries EG_API is exported: the SDK
 * functions declared in include/engram/ and each plugin's entry point. */
#ifndef ENGRAM_EXPORT_H
#define ENGRAM_EXPORT_H

#define EG_API __attribute__((visibility("default")))

#endif
