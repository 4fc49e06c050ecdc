/* log.h — logging to stderr, with sd-daemon priority prefixes when stderr is the journal.
 *
 * Library-like stages (parsers, classifier, scheduler) log at debug level at most; the caller
 * decides what a user sees. Never pass a secret to these functions.
 */
#pragma once

#include <syslog.h>

#include "util.h"

void log_setup(void);              /* decides on prefixes from $JOURNAL_STREAM */
bool log_to_journal(void);         /* stderr is the journal's stream ($JOURNAL_STREAM) */
bool log_fd_is_journal(int fd);    /* fd is the journal's stream */
void log_set_max_level(int level); /* LOG_INFO by default; --verbose gives LOG_DEBUG */
int log_get_max_level(void);

/* Returns -abs(error) (or 0 when error is 0) so callers can write return log_error_errno(r, ...).
 * %m in fmt expands to strerror(error). */
int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
        _printf_(5, 6);

#define log_full_errno(level, error, ...)                                                          \
        log_internal(level, error, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)            log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)             log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)           log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...)          log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)            log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")

/* One entry with fields ("KEY=value", NULL-terminated, at most 16; VK text is fine in values)
 * through sd-journal when stderr is the journal; elsewhere the message alone, like log_info().
 * Priority is level's. Returns 0. */
int log_struct_internal(int level, const char *const *fields, const char *file, int line,
                        const char *fmt, ...) _printf_(5, 6);
#define log_struct(level, fields, ...)                                                             \
        log_struct_internal(level, fields, __FILE__, __LINE__, __VA_ARGS__)

/* The entry itself, on the journal's native socket: message, priority, SYSLOG_IDENTIFIER,
 * CODE_FILE/CODE_LINE (file may be NULL), fields. sd_journal_sendv()'s result. */
int journal_send(int level, const char *message, const char *const *fields, const char *file,
                 int line);
