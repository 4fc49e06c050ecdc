/* mail.c — building RFC 5322 messages: the part of the email sink that needs no network.
 *
 * Owns the byte layout of a message: header order, RFC 2047 encoded-words, folding, the
 * base64 body. Never lets a CR or LF from a value reach the header block (values with them are
 * refused; untrusted text is flattened by mail_header_text() first). Folds every header at its
 * white space to MAIL_LINE_MAX, but for a token that cannot be broken (an address, a msg-id),
 * which gets a continuation line of its own; the bounds on those keep every line within
 * MAIL_HARD_LINE_MAX (see mail.h). No I/O, no clock, no logging: see mail.h.
 */
#include <stdio.h>
#include <time.h>

#include "mail.h"

/* the longest unbreakable lines: " <addr>," in a list, " <left@domain>" (domain within addr) */
_Static_assert(1 + 1 + MAIL_ADDR_MAX + 1 + 1 <= MAIL_HARD_LINE_MAX, "an address line fits");
_Static_assert(1 + 1 + MAIL_MESSAGE_ID_LEFT_MAX + 1 + MAIL_ADDR_MAX + 1 <= MAIL_HARD_LINE_MAX,
               "a msg-id line fits");

static const char b64_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Length of the valid UTF-8 sequence at p (at most left bytes), 0 when it is not one.
 * NUL counts as invalid: it cannot travel in a C string or a mail header. */
static size_t utf8_valid_len(const unsigned char *p, size_t left)
{
        unsigned char c = p[0];
        size_t n;

        if (c == 0)
                return 0;
        if (c < 0x80)
                return 1;
        if (c < 0xC2) /* continuation byte or overlong 2-byte lead */
                return 0;
        n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
        if (n == 0 || n > left)
                return 0;
        for (size_t i = 1; i < n; i++)
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
        if ((c == 0xE0 && p[1] < 0xA0) ||  /* overlong 3-byte */
            (c == 0xED && p[1] >= 0xA0) || /* UTF-16 surrogates */
            (c == 0xF0 && p[1] < 0x90) ||  /* overlong 4-byte */
            (c == 0xF4 && p[1] >= 0x90))   /* beyond U+10FFFF */
                return 0;
        return n;
}

/* Line-breaking and control characters beyond ASCII: C1 controls (NEL among them) and
 * U+2028/U+2029, which some readers show as line breaks. */
static bool is_unicode_break_or_control(const unsigned char *p, size_t n)
{
        if (n == 2 && p[0] == 0xC2 && p[1] < 0xA0)
                return true;
        if (n == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9))
                return true;
        return false;
}

int mail_header_value_check(const char *s, size_t size)
{
        for (size_t i = 0; i < size; i++)
                if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
                        return -EINVAL;
        return 0;
}

int mail_utf8_sanitize(const char *s, size_t size, char **ret)
{
        struct strbuf sb = {0};
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;
        int r = 0;

        while (i < size && r >= 0) {
                size_t n = utf8_valid_len(p + i, size - i);
                if (n == 0) {
                        r = strbuf_puts(&sb, "\xEF\xBF\xBD"); /* U+FFFD */
                        i++;
                } else {
                        r = strbuf_append(&sb, s + i, n);
                        i += n;
                }
        }
        if (r >= 0)
                r = strbuf_append(&sb, "", 0);
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        *ret = sb.buf;
        return 0;
}

/* Longest prefix of s not longer than max bytes that ends on a character boundary; s is valid
 * UTF-8. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
        if (len <= max)
                return len;
        while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
                max--;
        return max;
}

int mail_header_text(const char *s, size_t max_bytes, char **ret)
{
        _cleanup_free_ char *clean = NULL;
        struct strbuf sb = {0};
        bool space = true; /* drops leading spaces */
        int r;

        r = mail_utf8_sanitize(s ? s : "", s ? strlen(s) : 0, &clean);
        if (r < 0)
                return r;
        r = strbuf_append(&sb, "", 0);
        const unsigned char *end = (const unsigned char *)clean + strlen(clean);
        for (const unsigned char *p = (const unsigned char *)clean; *p && r >= 0;) {
                size_t n = utf8_valid_len(p, (size_t)(end - p));
                if (n == 0) /* cannot happen after sanitizing; be safe */
                        n = 1;
                bool blank =
                        (n == 1 && (*p <= 0x20 || *p == 0x7F)) || is_unicode_break_or_control(p, n);
                if (blank) {
                        if (!space)
                                r = strbuf_append(&sb, " ", 1);
                        space = true;
                } else {
                        r = strbuf_append(&sb, (const char *)p, n);
                        space = false;
                }
                p += n;
        }
        if (r < 0) {
                strbuf_done(&sb);
                return r;
        }
        while (sb.len > 0 && sb.buf[sb.len - 1] == ' ')
                sb.buf[--sb.len] = '\0';
        if (max_bytes > 0 && sb.len > max_bytes) {
                static const char ellipsis[] = "…";
                size_t keep =
                        max_bytes >= sizeof(ellipsis) - 1 ? max_bytes - (sizeof(ellipsis) - 1) : 0;
                keep = utf8_cut(sb.buf, sb.len, keep);
                sb.len = keep;
                sb.buf[keep] = '\0';
                if (keep + sizeof(ellipsis) - 1 <= max_bytes) {
                        r = strbuf_puts(&sb, ellipsis);
                        if (r < 0) {
                                strbuf_done(&sb);
                                return r;
                        }
                }
        }
        *ret = sb.buf;
        return 0;
}

int mail_base64_append(struct strbuf *sb, const void *data, size_t size, size_t line_max)
{
        const unsigned char *p = data;
        size_t col = 0;
        int r = 0;

        if (line_max > 0)
                line_max -= line_max % 4; /* whole quanta a line */
        for (size_t i = 0; i < size && r >= 0; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;
                size_t n = size - i < 3 ? size - i : 3;
                char quad[4];

                if (n > 1)
                        v |= (uint32_t)p[i + 1] << 8;
                if (n > 2)
                        v |= p[i + 2];
                quad[0] = b64_alphabet[(v >> 18) & 63];
                quad[1] = b64_alphabet[(v >> 12) & 63];
                quad[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
                quad[3] = n > 2 ? b64_alphabet[v & 63] : '=';
                if (line_max > 0 && col + 4 > line_max) {
                        r = strbuf_append(sb, "\r\n", 2);
                        col = 0;
                }
                if (r >= 0)
                        r = strbuf_append(sb, quad, 4);
                col += 4;
        }
        if (r >= 0 && line_max > 0 && col > 0)
                r = strbuf_append(sb, "\r\n", 2);
        return r;
}

static size_t b64_len(size_t n)
{
        return (n + 2) / 3 * 4;
}

#define EW_PREFIX   "=?UTF-8?B?"
#define EW_SUFFIX   "?="
#define EW_OVERHEAD (sizeof(EW_PREFIX) - 1 + sizeof(EW_SUFFIX) - 1)

int mail_append_encoded_words(struct strbuf *sb, const char *text, size_t *col)
{
        const char *p = text;
        size_t left = strlen(text);
        int r;

        while (left > 0) {
                size_t first = utf8_valid_len((const unsigned char *)p, left);
                if (first == 0)
                        return -EINVAL; /* callers sanitize first */
                /* the smallest word that makes progress must fit after a space */
                if (*col + 1 + EW_OVERHEAD + b64_len(first) > MAIL_LINE_MAX) {
                        r = strbuf_append(sb, "\r\n", 2);
                        if (r < 0)
                                return r;
                        *col = 0;
                }
                size_t avail = MAIL_LINE_MAX - *col - 1;
                if (avail > MAIL_WORD_MAX)
                        avail = MAIL_WORD_MAX;
                size_t max_text = (avail - EW_OVERHEAD) / 4 * 3;
                if (max_text > MAIL_WORD_TEXT_MAX)
                        max_text = MAIL_WORD_TEXT_MAX;

                size_t n = 0;
                while (n < left) {
                        size_t cl = utf8_valid_len((const unsigned char *)p + n, left - n);
                        if (cl == 0)
                                return -EINVAL;
                        if (n + cl > max_text)
                                break;
                        n += cl;
                }
                r = strbuf_puts(sb, " " EW_PREFIX);
                if (r >= 0)
                        r = mail_base64_append(sb, p, n, 0);
                if (r >= 0)
                        r = strbuf_puts(sb, EW_SUFFIX);
                if (r < 0)
                        return r;
                *col += 1 + EW_OVERHEAD + b64_len(n);
                p += n;
                left -= n;
        }
        return 0;
}

int mail_format_date(int64_t t, int32_t utc_offset, char *buf, size_t size)
{
        /* strftime's %a and %b follow LC_TIME: a Russian locale would write "Сб", which no mail
         * reader parses. RFC 5322 wants these English names whatever the locale. */
        static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t local = (time_t)(t + utc_offset);
        int32_t off = utc_offset < 0 ? -utc_offset : utc_offset;
        struct tm tm;

        if (!gmtime_r(&local, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
            tm.tm_mon > 11 || off >= 100 * 3600)
                return -EINVAL;
        int n = snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d", days[tm.tm_wday],
                         tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, utc_offset < 0 ? '-' : '+', (int)(off / 3600),
                         (int)(off % 3600 / 60));
        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        return 0;
}

/* RFC 5321 Mailbox, the way we accept it: a dot-atom local part and a domain, plain ASCII.
 * Quoted local parts and address literals are legal but never needed for a notification and
 * only widen what reaches libcurl's SMTP dialogue. */
static bool addr_valid(const char *a)
{
        const char *at = strchr(a, '@');
        static const char specials[] = "()<>[]:;@\\,\"";

        if (!at || at == a || strchr(at + 1, '@') || at[1] == '\0' || strlen(a) > MAIL_ADDR_MAX)
                return false;
        for (const char *p = a; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c <= 0x20 || c >= 0x7F)
                        return false;
                if (p != at && strchr(specials, c))
                        return false;
        }
        /* no empty dot-atoms: ".a@b", "a.@b", "a..b@c", "a@.b", "a@b." */
        if (a[0] == '.' || at[-1] == '.' || at[1] == '.' || a[strlen(a) - 1] == '.' ||
            strstr(a, ".."))
                return false;
        for (const char *p = at + 1; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
                        return false;
        return true;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

int mail_address_parse(const char *s, char **ret_display, char **ret_addr)
{
        _cleanup_free_ char *display = NULL, *addr = NULL;
        size_t len;

        if (!s || mail_header_value_check(s, strlen(s)) < 0)
                return -EINVAL;
        while (is_blank(*s))
                s++;
        len = strlen(s);
        while (len > 0 && is_blank(s[len - 1]))
                len--;
        if (len == 0)
                return -EINVAL;

        if (s[len - 1] == '>') {
                const char *lt = NULL;
                for (const char *p = s; p < s + len; p++)
                        if (*p == '<')
                                lt = p;
                if (!lt)
                        return -EINVAL;
                addr = strndup(lt + 1, (size_t)(s + len - 1 - (lt + 1)));
                if (!addr)
                        return -ENOMEM;

                size_t dlen = (size_t)(lt - s);
                while (dlen > 0 && is_blank(s[dlen - 1]))
                        dlen--;
                if (dlen >= 2 && s[0] == '"' && s[dlen - 1] == '"') {
                        /* quoted-string: drop the quotes, undo backslash escapes */
                        display = malloc(dlen);
                        if (!display)
                                return -ENOMEM;
                        size_t o = 0;
                        for (size_t i = 1; i + 1 < dlen; i++) {
                                if (s[i] == '\\' && i + 2 < dlen)
                                        i++;
                                display[o++] = s[i];
                        }
                        display[o] = '\0';
                } else if (dlen > 0) {
                        /* unquoted, it must not look like a second address or a quote */
                        for (size_t i = 0; i < dlen; i++)
                                if (s[i] == '<' || s[i] == '>' || s[i] == '"')
                                        return -EINVAL;
                        display = strndup(s, dlen);
                        if (!display)
                                return -ENOMEM;
                }
        } else {
                addr = strndup(s, len);
                if (!addr)
                        return -ENOMEM;
        }
        if (!addr_valid(addr))
                return -EINVAL;
        if (display) {
                /* the config is trusted, but not to put controls or bad UTF-8 into a header */
                const unsigned char *p = (const unsigned char *)display;
                const unsigned char *end = p + strlen(display);
                while (*p) {
                        size_t n = utf8_valid_len(p, (size_t)(end - p));
                        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F)) ||
                            is_unicode_break_or_control(p, n))
                                return -EINVAL;
                        p += n;
                }
                if (display[0] == '\0') {
                        free(display);
                        display = NULL;
                }
        }
        *ret_display = TAKE_PTR(display);
        *ret_addr = TAKE_PTR(addr);
        return 0;
}

/* A token of a structured header (a quoted display name, "<addr>,", a msg-id), preceded by a
 * space, or folded onto a continuation line before that space when it would make the line longer
 * than MAIL_LINE_MAX. A token longer than a line still gets a line of its own, the shortest it can
 * have. A line that holds nothing yet is never folded: a line of white space alone is not a fold
 * (RFC 5322 §3.2.2). */
static int append_token(struct strbuf *sb, size_t *col, const char *tok, size_t len)
{
        int r;

        if (*col + 1 + len > MAIL_LINE_MAX && *col > 1) {
                r = strbuf_append(sb, "\r\n", 2);
                if (r < 0)
                        return r;
                *col = 0;
        }
        r = strbuf_append(sb, " ", 1);
        if (r >= 0)
                r = strbuf_append(sb, tok, len);
        if (r >= 0)
                *col += 1 + len;
        return r;
}

static bool is_plain_phrase(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p >= 0x7F)
                        return false;
        /* "=?" would make a reader try to decode it as an encoded-word */
        return !strstr(s, "=?");
}

/* name-addr or addr-spec, with a display name as a quoted-string when it is ASCII and fits on a
 * line, as encoded-words otherwise: they fold between words, where a quoted-string would have to
 * fold inside its quotes, which readers handle badly. The address is never encoded. */
static int append_mailbox(struct strbuf *sb, size_t *col, const char *spec, bool comma)
{
        _cleanup_free_ char *display = NULL, *addr = NULL;
        struct strbuf tok = {0};
        int r;

        r = mail_address_parse(spec, &display, &addr);
        if (r < 0)
                return r;
        if (display && is_plain_phrase(display)) {
                r = strbuf_append(&tok, "\"", 1);
                for (const char *p = display; *p && r >= 0; p++) {
                        if (*p == '"' || *p == '\\')
                                r = strbuf_append(&tok, "\\", 1);
                        if (r >= 0)
                                r = strbuf_append(&tok, p, 1);
                }
                if (r >= 0)
                        r = strbuf_append(&tok, "\"", 1);
                if (r >= 0 && 1 + tok.len <= MAIL_LINE_MAX)
                        r = append_token(sb, col, tok.buf, tok.len);
                else if (r >= 0)
                        r = mail_append_encoded_words(sb, display, col);
                strbuf_done(&tok);
        } else if (display)
                r = mail_append_encoded_words(sb, display, col);
        if (r < 0)
                return r;
        if (display)
                r = strbuf_appendf(&tok, "<%s>%s", addr, comma ? "," : "");
        else
                r = strbuf_appendf(&tok, "%s%s", addr, comma ? "," : "");
        if (r >= 0)
                r = append_token(sb, col, tok.buf, tok.len);
        strbuf_done(&tok);
        return r;
}

/* Body text in canonical form (RFC 2045 §6.8 encodes CRLF line breaks): sanitized UTF-8, CR LF,
 * lone CR and lone LF all become CRLF, other controls but TAB become U+FFFD. */
static int body_canonical(const char *body, struct strbuf *out)
{
        _cleanup_free_ char *clean = NULL;
        int r;

        r = mail_utf8_sanitize(body, strlen(body), &clean);
        if (r < 0)
                return r;
        const char *end = clean + strlen(clean);
        for (const char *p = clean; *p && r >= 0;) {
                size_t n = utf8_valid_len((const unsigned char *)p, (size_t)(end - p));
                if (n == 0)
                        n = 1;
                if (*p == '\r' || *p == '\n') {
                        r = strbuf_append(out, "\r\n", 2);
                        if (p[0] == '\r' && p[1] == '\n')
                                p++;
                } else if ((n == 1 && ((unsigned char)*p < 0x20 && *p != '\t')) || *p == 0x7F ||
                           is_unicode_break_or_control((const unsigned char *)p, n))
                        r = strbuf_puts(out, "\xEF\xBF\xBD");
                else
                        r = strbuf_append(out, p, n);
                p += n;
        }
        return r;
}

int mail_build(const struct mail_message *m, char **ret, size_t *ret_size)
{
        _cleanup_free_ char *from_display = NULL, *from_addr = NULL, *subject = NULL;
        struct strbuf sb = {0}, body = {0}, msg_id = {0};
        char date[40];
        size_t col;
        int r;

        if (!m->from || !m->to || !m->to[0] || !m->message_id || !m->message_id[0])
                return -EINVAL;
        if (strspn(m->message_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789.-") != strlen(m->message_id) ||
            strlen(m->message_id) > MAIL_MESSAGE_ID_LEFT_MAX)
                return -EINVAL;
        r = mail_address_parse(m->from, &from_display, &from_addr);
        if (r < 0)
                return r;
        for (char *const *t = m->to; *t; t++) {
                _cleanup_free_ char *d = NULL, *a = NULL;
                r = mail_address_parse(*t, &d, &a);
                if (r < 0)
                        return r;
        }
        if (m->subject && mail_header_value_check(m->subject, strlen(m->subject)) < 0)
                return -EINVAL;
        r = mail_utf8_sanitize(strempty(m->subject), strlen(strempty(m->subject)), &subject);
        if (r < 0)
                return r;
        r = mail_format_date(m->date, m->utc_offset, date, sizeof(date));
        if (r < 0)
                return r;

        r = strbuf_appendf(&sb, "Date: %s\r\n", date);
        if (r < 0)
                goto fail;

        r = strbuf_puts(&sb, "From:");
        col = strlen("From:");
        if (r >= 0)
                r = append_mailbox(&sb, &col, m->from, false);
        if (r >= 0)
                r = strbuf_puts(&sb, "\r\nTo:");
        col = strlen("To:");
        for (char *const *t = m->to; *t && r >= 0; t++)
                r = append_mailbox(&sb, &col, *t, t[1] != NULL);
        if (r >= 0)
                r = strbuf_puts(&sb, "\r\nSubject:");
        col = strlen("Subject:");
        if (r >= 0)
                r = mail_append_encoded_words(&sb, subject, &col);
        if (r >= 0)
                r = strbuf_puts(&sb, "\r\nMessage-ID:");
        col = strlen("Message-ID:");
        if (r >= 0)
                r = strbuf_appendf(&msg_id, "<%s@%s>", m->message_id, strchr(from_addr, '@') + 1);
        if (r >= 0)
                r = append_token(&sb, &col, msg_id.buf, msg_id.len);
        if (r >= 0)
                r = strbuf_puts(&sb, "\r\nMIME-Version: 1.0\r\n"
                                     "Content-Type: text/plain; charset=UTF-8\r\n"
                                     "Content-Transfer-Encoding: base64\r\n"
                                     /* RFC 3834: no vacation auto-replies to a robot */
                                     "Auto-Submitted: auto-generated\r\n"
                                     "\r\n");
        if (r >= 0)
                r = strbuf_append(&body, "", 0);
        if (r >= 0)
                r = body_canonical(strempty(m->body), &body);
        if (r >= 0)
                r = mail_base64_append(&sb, body.buf, body.len, MAIL_LINE_MAX);
        if (r < 0)
                goto fail;
        strbuf_done(&body);
        strbuf_done(&msg_id);
        *ret_size = sb.len;
        *ret = sb.buf;
        return 0;
fail:
        strbuf_done(&body);
        strbuf_done(&msg_id);
        strbuf_done(&sb);
        return r;
}
