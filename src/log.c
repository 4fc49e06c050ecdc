/* log.c — stderr logging; with sd-daemon "<N>" prefixes when stderr is connected to the journal.
 *
 * $JOURNAL_STREAM is "DEV:INODE" of the journal's stream socket; only when our stderr is that very
 * socket do the prefixes help (otherwise they'd show up as noise in a terminal or a pipe).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool journal_prefix;

void log_setup(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        struct stat st;
        uint64_t dev, ino;

        journal_prefix = false;
        if (!e || sscanf(e, "%" SCNu64 ":%" SCNu64, &dev, &ino) != 2)
                return;
        if (fstat(STDERR_FILENO, &st) < 0)
                return;
        journal_prefix = (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
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
