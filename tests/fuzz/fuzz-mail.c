/* fuzz-mail.c — building the email sink's messages from config values and VK text.
 *
 * Input: NUL-separated fields (see fuzz.h): from, message_id, date, UTC offset, subject, body,
 * then up to three recipients. mail_build() refuses what it cannot write safely; what it builds
 * must be a message an MTA takes as it is:
 * - CRLF line ends only, no bare CR or LF, no NUL;
 * - every line at most 998 bytes (RFC 5322 §2.1.1), whatever the config holds;
 * - header lines folded (mail.c's promise, RFC 5322 §2.2.3): a header line longer than 78 bytes
 *   is one unbreakable word, with no white space at which it could have been folded;
 * - the header block ends with an empty line, then base64 body lines of at most 76 characters.
 * Also mail_header_text() on the subject, as the sink flattens VK text for it, must give one
 * line of valid UTF-8 within its limit.
 */
#include "fuzz.h"
#include "mail.h"

enum {
        F_FROM,
        F_MESSAGE_ID,
        F_DATE,
        F_OFFSET,
        F_SUBJECT,
        F_BODY,
        F_TO,
        _F_MAX = F_TO + 3,
};

static void check_message(const char *msg, size_t size)
{
        bool in_headers = true;
        size_t line = 0;

        fuzz_assert(strlen(msg) == size, "a NUL at %zu of %zu bytes", strlen(msg), size);
        for (size_t pos = 0; pos < size; line++) {
                const char *start = msg + pos;
                const char *lf = memchr(start, '\n', size - pos);
                fuzz_assert(lf, "line %zu does not end in CRLF", line + 1);
                size_t len = (size_t)(lf - start);
                fuzz_assert(len > 0 && start[len - 1] == '\r', "line %zu ends in a bare LF",
                            line + 1);
                len--; /* without the CR */
                fuzz_assert(!memchr(start, '\r', len), "line %zu holds a bare CR", line + 1);
                fuzz_assert(len <= 998, "line %zu is %zu bytes: \"%.60s...\"", line + 1, len,
                            start);
                if (in_headers && len == 0)
                        in_headers = false;
                else if (in_headers) {
                        /* a fold point is white space after the line's first non-blank byte */
                        size_t first = 0;
                        while (first < len && (start[first] == ' ' || start[first] == '\t'))
                                first++;
                        bool breakable = false;
                        for (size_t i = first; i < len && !breakable; i++)
                                breakable = start[i] == ' ' || start[i] == '\t';
                        fuzz_assert(len <= 78 || !breakable,
                                    "header line %zu is %zu bytes and could have been folded: "
                                    "\"%.*s\"",
                                    line + 1, len, (int)len, start);
                } else
                        fuzz_assert(len <= MAIL_LINE_MAX, "body line %zu is %zu bytes", line + 1,
                                    len);
                pos += (size_t)(lf - start) + 1;
        }
        fuzz_assert(!in_headers, "no empty line after the headers");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_fields f;
        if (fuzz_fields_split(data, size, _F_MAX, &f) < 0)
                return 0;

        char *to[4] = {0};
        size_t n_to = 0;
        for (size_t i = F_TO; i < _F_MAX; i++)
                if (f.v[i][0] || i == F_TO)
                        to[n_to++] = f.v[i];
        int64_t offset = fuzz_field_int(&f, F_OFFSET, 3 * 3600) % 86400;
        struct mail_message m = {
                .from = f.v[F_FROM],
                .to = to,
                .subject = f.v[F_SUBJECT],
                .body = f.len[F_BODY] ? f.v[F_BODY] : NULL,
                /* the send time, from the clock: years 1970..9999 */
                .date = (int64_t)((uint64_t)fuzz_field_int(&f, F_DATE, 1773144000) %
                                  UINT64_C(253402300800)),
                .utc_offset = (int32_t)offset,
                .message_id = f.v[F_MESSAGE_ID],
        };
        _cleanup_free_ char *msg = NULL;
        size_t msg_size = 0;
        if (mail_build(&m, &msg, &msg_size) >= 0)
                check_message(msg, msg_size);

        _cleanup_free_ char *flat = NULL;
        size_t limit = 1 + (size_t)((uint64_t)m.date % 200); /* any limit, from the input */
        if (mail_header_text(f.v[F_SUBJECT], limit, &flat) >= 0) {
                size_t len = strlen(flat);
                fuzz_assert(len <= limit, "header text of %zu bytes, limit %zu", len, limit);
                fuzz_assert(fuzz_utf8_valid(flat, len), "header text is not valid UTF-8");
                for (size_t i = 0; i < len; i++)
                        fuzz_assert((unsigned char)flat[i] >= 0x20 && flat[i] != 0x7F,
                                    "control character %#x in header text", flat[i]);
        }
        fuzz_fields_done(&f);
        return 0;
}
