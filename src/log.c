/* log.c — stderr logging; with sd-daemon "<N>" prefixes when stderr is connected to the journal,
 * and structured entries (fields a journalctl query can match) through sd-journal.
 *
 * $JOURNAL_STREAM is "DEV:INODE" of the journal's stream socket; only when our stderr is that very
 * socket do the prefixes help (otherwise they'd show up as noise in a terminal or a pipe), and
 * only then is the journal the place for structured entries.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
/* the call site is the caller's, which journal_send() passes itself */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool journal_prefix;

bool log_fd_is_journal(int fd)
{
        const char *e = getenv("JOURNAL_STREAM");
        struct stat st;
        uint64_t dev, ino;

        if (!e || sscanf(e, "%" SCNu64 ":%" SCNu64, &dev, &ino) != 2)
                return false;
        if (fstat(fd, &st) < 0)
                return false;
        return (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

void log_setup(void)
{
        journal_prefix = log_fd_is_journal(STDERR_FILENO);
}

bool log_to_journal(void)
{
        return journal_prefix;
}

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

#define JOURNAL_FIELDS_MAX 16

int journal_send(int level, const char *message, const char *const *fields, const char *file,
                 int line)
{
        char priority[32], code_file[512], code_line[32];
        struct iovec iov[5 + JOURNAL_FIELDS_MAX];
        size_t n = 0;
        _cleanup_free_ char *msg = NULL;

        if (asprintf(&msg, "MESSAGE=%s", message) < 0)
                return -ENOMEM;
        snprintf(priority, sizeof(priority), "PRIORITY=%d", level);
        iov[n++] = (struct iovec){msg, strlen(msg)};
        iov[n++] = (struct iovec){priority, strlen(priority)};
        iov[n++] = (struct iovec){(char *)"SYSLOG_IDENTIFIER=govwatchd",
                                  strlen("SYSLOG_IDENTIFIER=govwatchd")};
        if (file) {
                snprintf(code_file, sizeof(code_file), "CODE_FILE=%s", file);
                snprintf(code_line, sizeof(code_line), "CODE_LINE=%d", line);
                iov[n++] = (struct iovec){code_file, strlen(code_file)};
                iov[n++] = (struct iovec){code_line, strlen(code_line)};
        }
        for (const char *const *f = fields; f && *f && n < ELEMENTSOF(iov); f++)
                iov[n++] = (struct iovec){(char *)*f, strlen(*f)};
        return sd_journal_sendv(iov, (int)n);
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
{
        int saved_errno = errno;
        if (error < 0)
                error = -error;

        if (level <= max_level) {
                char msg[2048];
                va_list ap;

                /* %m means the error passed in, not whatever errno happens to hold */
                errno = error;
                va_start(ap, fmt);
                vsnprintf(msg, sizeof(msg), fmt, ap);
                va_end(ap);

                if (journal_prefix)
                        fprintf(stderr, "<%d>%s\n", level, msg);
                else if (max_level >= LOG_DEBUG)
                        fprintf(stderr, "govwatchd[%s:%d]: %s\n", file, line, msg);
                else
                        fprintf(stderr, "govwatchd: %s\n", msg);
        }
        errno = saved_errno;
        return -error;
}

int log_struct_internal(int level, const char *const *fields, const char *file, int line,
                        const char *fmt, ...)
{
        int saved_errno = errno;
        char msg[2048];
        va_list ap;

        if (level > max_level)
                return 0;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* the journal's native socket takes the fields; should it refuse, the line still goes to
         * the stream, with its priority */
        if (!journal_prefix || journal_send(level, msg, fields, file, line) < 0)
                log_internal(level, 0, file, line, "%s", msg);
        errno = saved_errno;
        return 0;
}
