/* test-mail.c — src/mail.c: the bytes of a notification e-mail.
 *
 * What a user notices when these fail: a subject shown as "=?UTF-8?B?..." or with broken
 * letters, a mail client that refuses the message, or a post that added a Bcc: to the mail.
 */
#include <locale.h>

#include "mail.h"
#include "test-helpers.h"

static int b64_value(char c)
{
        const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = strchr(alphabet, c);
        return c && p ? (int)(p - alphabet) : -1;
}

/* Decodes base64 (ignoring CR/LF) into out; returns the decoded size. */
static size_t b64_decode(const char *s, size_t len, char *out, size_t out_size)
{
        uint32_t v = 0;
        unsigned bits = 0;
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\r' || s[i] == '\n')
                        continue;
                if (s[i] == '=')
                        break;
                int d = b64_value(s[i]);
                assert_true(d >= 0);
                v = (v << 6) | (uint32_t)d;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        assert_true(o < out_size);
                        out[o++] = (char)((v >> bits) & 0xFF);
                }
        }
        return o;
}

static bool utf8_is_valid(const char *s, size_t len)
{
        _cleanup_free_ char *clean = NULL;
        assert_int_equal(mail_utf8_sanitize(s, len, &clean), 0);
        return strlen(clean) == len && memcmp(clean, s, len) == 0;
}

/* Every line of s (CRLF separated) is at most max chars; returns the number of lines. */
static size_t check_lines(const char *s, size_t max)
{
        size_t lines = 0;
        const char *p = s;
        for (;;) {
                const char *e = strstr(p, "\r\n");
                size_t len = e ? (size_t)(e - p) : strlen(p);
                if (len > max)
                        fail_msg("line of %zu chars (max %zu): %.*s", len, max, (int)len, p);
                /* a bare CR or LF would be a line break the reader sees and we did not count */
                assert_null(memchr(p, '\n', len));
                assert_null(memchr(p, '\r', len));
                lines++;
                if (!e)
                        return lines;
                p = e + 2;
        }
}

/* Encodes text after a header name of prefix_len chars, checks every RFC 2047 rule on the
 * result, and that decoding the words gives text back. */
static void check_encoded(const char *text, size_t prefix_len)
{
        struct strbuf sb = {0};
        size_t col = prefix_len;
        char decoded[8192];
        size_t dlen = 0;

        assert_int_equal(strbuf_append(&sb, "", 0), 0);
        assert_int_equal(mail_append_encoded_words(&sb, text, &col), 0);
        /* the first line includes the header name */
        char *first_end = strstr(sb.buf, "\r\n");
        size_t first_len = first_end ? (size_t)(first_end - sb.buf) : sb.len;
        assert_true(prefix_len + first_len <= MAIL_LINE_MAX);
        check_lines(sb.buf, MAIL_LINE_MAX);

        const char *p = sb.buf;
        while ((p = strstr(p, "=?"))) {
                assert_memory_equal(p, "=?UTF-8?B?", 10);
                const char *end = strstr(p + 10, "?=");
                assert_non_null(end);
                size_t word_len = (size_t)(end + 2 - p);
                assert_true(word_len <= MAIL_WORD_MAX);
                /* whitespace before each word: a space, or CRLF SP (folding) */
                assert_true(p > sb.buf ? p[-1] == ' ' : false);
                char piece[64];
                size_t n = b64_decode(p + 10, (size_t)(end - (p + 10)), piece, sizeof(piece));
                assert_true(n <= MAIL_WORD_TEXT_MAX);
                assert_true(n > 0);
                /* a word on its own decodes to whole characters */
                assert_true(utf8_is_valid(piece, n));
                assert_true(dlen + n < sizeof(decoded));
                memcpy(decoded + dlen, piece, n);
                dlen += n;
                p = end + 2;
        }
        assert_int_equal(dlen, strlen(text));
        assert_memory_equal(decoded, text, dlen);
        /* *col is where the next byte would go */
        const char *last = strrchr(sb.buf, '\n');
        assert_int_equal(col, last ? strlen(last + 1) : prefix_len + sb.len);
        strbuf_done(&sb);
}

static void test_encoded_words_cyrillic(void **state)
{
        /* 2-byte characters: 45 is odd, so a word must stop at 44 bytes, not split "э" */
        check_encoded("Прямой эфир с главой Северского района сегодня в 18:00 — задайте "
                      "вопрос в комментариях",
                      strlen("Subject:"));
        check_encoded("Ж", strlen("Subject:"));
        check_encoded("ЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖ", 0); /* 23 × 2 = 46 bytes: two words */
}

static void test_encoded_words_emoji(void **state)
{
        /* 4-byte characters: 45 bytes hold 11 of them (44); shifted by an ASCII byte the
         * boundary falls differently */
        check_encoded("🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴", strlen("Subject:"));
        check_encoded("a🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴🔴", strlen("Subject:"));
        check_encoded("ab🔴Ж€🔴Ж€🔴Ж€🔴Ж€🔴Ж€🔴Ж€🔴Ж€🔴Ж€🔴Ж€🔴Ж€🔴Ж€🔴Ж€🔴Ж€", strlen("Subject:"));
        /* a header name so long that not even one word fits after it: fold at once */
        check_encoded("🔴", 70);
}

static void test_encoded_words_exact_sizes(void **state)
{
        char buf[200];
        /* ASCII of every length around the word boundaries (39 on the first line, 45 after) */
        for (size_t len = 1; len < 150; len++) {
                memset(buf, 'x', len);
                buf[len] = '\0';
                check_encoded(buf, strlen("Subject:"));
        }
        /* a word of 45 bytes is 72 chars: within 75 */
        struct strbuf sb = {0};
        size_t col = 0;
        memset(buf, 'y', 45);
        buf[45] = '\0';
        assert_int_equal(mail_append_encoded_words(&sb, buf, &col), 0);
        assert_int_equal(sb.len, 1 + 72);
        strbuf_done(&sb);
}

static void test_encoded_words_refuse_invalid(void **state)
{
        struct strbuf sb = {0};
        size_t col = 0;
        assert_int_equal(mail_append_encoded_words(&sb, "a\xD0", &col), -EINVAL);
        strbuf_done(&sb);
}

static void test_header_text(void **state)
{
        char *s = NULL;

        /* a post cannot add header lines: CR, LF, TAB and friends become one space */
        assert_int_equal(mail_header_text("  Эфир\r\nBcc: evil@example.org\t\x01 ", 0, &s), 0);
        assert_string_equal(s, "Эфир Bcc: evil@example.org");
        free(s);
        /* NEL and LINE SEPARATOR too */
        assert_int_equal(mail_header_text("a\xC2\x85"
                                          "b\xE2\x80\xA8"
                                          "c",
                                          0, &s),
                         0);
        assert_string_equal(s, "a b c");
        free(s);
        /* invalid UTF-8 is replaced */
        assert_int_equal(mail_header_text("a\xFF\xC0\xAF"
                                          "b",
                                          0, &s),
                         0);
        assert_string_equal(s, "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                               "b");
        free(s);
        /* cut on a character boundary, marked with an ellipsis */
        assert_int_equal(mail_header_text("ЖЖЖЖЖ", 8, &s), 0);
        assert_string_equal(s, "ЖЖ…");
        free(s);
        assert_int_equal(mail_header_text("ЖЖ", 4, &s), 0);
        assert_string_equal(s, "ЖЖ");
        free(s);
}

static void test_utf8_sanitize(void **state)
{
        static const struct {
                const char *in;
                size_t len;
                const char *out;
        } cases[] = {
                {"ok Ж 🔴", sizeof("ok Ж 🔴") - 1, "ok Ж 🔴"},
                {"\xC0\xAF", 2, "\xEF\xBF\xBD\xEF\xBF\xBD"},                 /* overlong '/' */
                {"\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* surrogate */
                {"\xF4\x90\x80\x80", 4,
                 "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* > U+10FFFF */
                {"\xD0", 1, "\xEF\xBF\xBD"},                          /* truncated */
                {"a\0b", 3,
                 "a\xEF\xBF\xBD"
                 "b"}, /* NUL */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = NULL;
                assert_int_equal(mail_utf8_sanitize(cases[i].in, cases[i].len, &s), 0);
                assert_string_equal(s, cases[i].out);
        }
}

static void test_header_value_check(void **state)
{
        assert_int_equal(mail_header_value_check("plain", 5), 0);
        assert_int_equal(mail_header_value_check("a\rb", 3), -EINVAL);
        assert_int_equal(mail_header_value_check("a\nb", 3), -EINVAL);
        assert_int_equal(mail_header_value_check("a\0b", 3), -EINVAL);
}

static void test_address_parse(void **state)
{
        static const struct {
                const char *in;
                const char *display;
                const char *addr;
        } good[] = {
                {"me@example.org", NULL, "me@example.org"},
                {"  <me@example.org> ", NULL, "me@example.org"},
                {"Госпаблики <govwatch@example.org>", "Госпаблики", "govwatch@example.org"},
                {"\"Doe, \\\"Jane\\\"\" <j.doe+gw@mail.example.org>", "Doe, \"Jane\"",
                 "j.doe+gw@mail.example.org"},
        };
        static const char *const bad[] = {
                "me@example.org\r\nRCPT TO:<evil@example.org>",
                "me@example.org>\r\nDATA",
                "Name\n <me@example.org>",
                "me@example.org\n",
                "",
                "nobody",
                "a@b@c",
                "@example.org",
                "me@",
                "me example@example.org",
                "<me@exa mple.org>",
                "me@example.org>",
                "Name <me@example.org",
                "\"x\" <a<b@example.org>",
                "me..x@example.org",
                "me@ex_ample.org",
                "Name\x01 <me@example.org>",
                "Name\xFF <me@example.org>",
                "почта@example.org",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *d = NULL, *a = NULL;
                assert_int_equal(mail_address_parse(good[i].in, &d, &a), 0);
                if (good[i].display)
                        assert_string_equal(d, good[i].display);
                else
                        assert_null(d);
                assert_string_equal(a, good[i].addr);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *d = NULL, *a = NULL;
                if (mail_address_parse(bad[i], &d, &a) != -EINVAL)
                        fail_msg("accepted address '%s'", bad[i]);
        }
}

static void test_date(void **state)
{
        char buf[40];

        assert_int_equal(mail_format_date(0, 0, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 +0000");
        /* 2026-11-28 15:00:00 UTC, Moscow time */
        assert_int_equal(mail_format_date(1795878000, 3 * 3600, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "Sat, 28 Nov 2026 18:00:00 +0300");
        assert_int_equal(mail_format_date(1795878000, -(1 * 3600 + 30 * 60), buf, sizeof(buf)), 0);
        assert_string_equal(buf, "Sat, 28 Nov 2026 13:30:00 -0130");
        /* a Russian locale changes nothing (when it is installed at all) */
        if (setlocale(LC_ALL, "ru_RU.UTF-8") || setlocale(LC_ALL, "C.UTF-8")) {
                assert_int_equal(mail_format_date(1795878000, 3 * 3600, buf, sizeof(buf)), 0);
                assert_string_equal(buf, "Sat, 28 Nov 2026 18:00:00 +0300");
                setlocale(LC_ALL, "C");
        }
        assert_int_equal(mail_format_date(0, 0, buf, 10), -ENOBUFS);
}

static void test_base64_lines(void **state)
{
        struct strbuf sb = {0};
        char data[1000], back[1100];
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (char)(i * 7 + 3);
        assert_int_equal(mail_base64_append(&sb, data, sizeof(data), MAIL_LINE_MAX), 0);
        check_lines(sb.buf, MAIL_LINE_MAX);
        assert_int_equal(b64_decode(sb.buf, sb.len, back, sizeof(back)), sizeof(data));
        assert_memory_equal(back, data, sizeof(data));
        strbuf_done(&sb);
        assert_int_equal(mail_base64_append(&sb, "a", 1, 0), 0);
        assert_string_equal(sb.buf, "YQ==");
        strbuf_done(&sb);
}

/* Splits a message into its header block and body; returns the header value of name (first
 * occurrence, unfolded) or NULL. */
static char *header_of(const char *msg, const char *name)
{
        const char *end = strstr(msg, "\r\n\r\n");
        size_t nlen = strlen(name);
        assert_non_null(end);
        for (const char *p = msg; p < end;) {
                const char *eol = strstr(p, "\r\n");
                if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
                        struct strbuf v = {0};
                        const char *q = p + nlen + 1;
                        for (;;) {
                                eol = strstr(q, "\r\n");
                                assert_int_equal(strbuf_append(&v, q, (size_t)(eol - q)), 0);
                                if (eol[2] != ' ' && eol[2] != '\t')
                                        break;
                                q = eol + 2;
                        }
                        return v.buf;
                }
                p = eol + 2;
        }
        return NULL;
}

static size_t count_headers(const char *msg)
{
        const char *end = strstr(msg, "\r\n\r\n");
        size_t n = 0;
        for (const char *p = msg; p <= end; p = strstr(p, "\r\n") + 2)
                if (*p != ' ' && *p != '\t')
                        n++;
        return n;
}

static char *build(const struct mail_message *m, size_t *ret_size)
{
        char *msg = NULL;
        assert_int_equal(mail_build(m, &msg, ret_size), 0);
        assert_int_equal(strlen(msg), *ret_size);
        return msg;
}

static void test_build(void **state)
{
        char *to[] = {"me@example.org", "Сосед <neighbour@example.net>", NULL};
        struct mail_message m = {
                .from = "Госпаблики <govwatch@example.org>",
                .to = to,
                .subject = "Администрация Северского района: Прямой эфир 🔴",
                .body = "Прямой эфир сегодня в 18:00.\nЗадайте вопрос.\r\nhttps://vk.com/wall-1_2",
                .date = 1795878000,
                .utc_offset = 3 * 3600,
                .message_id = "0123456789abcdef.1",
        };
        size_t size;
        _cleanup_free_ char *msg = build(&m, &size);

        check_lines(msg, MAIL_LINE_MAX);
        assert_int_equal(count_headers(msg), 9);
        _cleanup_free_ char *date = header_of(msg, "Date");
        assert_string_equal(date, " Sat, 28 Nov 2026 18:00:00 +0300");
        _cleanup_free_ char *mid = header_of(msg, "Message-ID");
        assert_string_equal(mid, " <0123456789abcdef.1@example.org>");
        _cleanup_free_ char *mime = header_of(msg, "MIME-Version");
        assert_string_equal(mime, " 1.0");
        _cleanup_free_ char *ct = header_of(msg, "Content-Type");
        assert_string_equal(ct, " text/plain; charset=UTF-8");
        _cleanup_free_ char *cte = header_of(msg, "Content-Transfer-Encoding");
        assert_string_equal(cte, " base64");
        _cleanup_free_ char *from = header_of(msg, "From");
        assert_non_null(strstr(from, " <govwatch@example.org>"));
        assert_memory_equal(from, " =?UTF-8?B?", 11);
        _cleanup_free_ char *tos = header_of(msg, "To");
        assert_non_null(strstr(tos, " me@example.org,"));
        assert_non_null(strstr(tos, " <neighbour@example.net>"));
        _cleanup_free_ char *subject = header_of(msg, "Subject");
        assert_memory_equal(subject, " =?UTF-8?B?", 11);

        /* the body decodes to the text with canonical CRLF line breaks */
        const char *body = strstr(msg, "\r\n\r\n") + 4;
        char back[512];
        size_t n = b64_decode(body, strlen(body), back, sizeof(back));
        const char *want =
                "Прямой эфир сегодня в 18:00.\r\nЗадайте вопрос.\r\nhttps://vk.com/wall-1_2";
        assert_int_equal(n, strlen(want));
        assert_memory_equal(back, want, n);
}

static void test_build_plain_from(void **state)
{
        char *to[] = {"me@example.org", NULL};
        struct mail_message m = {
                .from = "\"govwatch \\\"bot\\\"\" <gw@example.org>",
                .to = to,
                .subject = "",
                .date = 0,
                .message_id = "x",
        };
        size_t size;
        _cleanup_free_ char *msg = build(&m, &size);
        _cleanup_free_ char *from = header_of(msg, "From");
        assert_string_equal(from, " \"govwatch \\\"bot\\\"\" <gw@example.org>");
        /* an empty body is an empty body */
        assert_string_equal(strstr(msg, "\r\n\r\n"), "\r\n\r\n");
}

static void test_build_hostile_text(void **state)
{
        /* a post's text cannot reach the header block, whatever it holds; invalid UTF-8 and a
         * very long line are carried in the body, in lines of at most 76 chars */
        char *to[] = {"me@example.org", NULL};
        size_t long_len = 10000;
        _cleanup_free_ char *body = malloc(long_len + 100);
        assert_non_null(body);
        memset(body, 'A', long_len);
        static const char hostile[] = "\r\nBcc: evil@example.org\r\n.\r\nQUIT\r\n\xFF\xFE end";
        memcpy(body + long_len, hostile, sizeof(hostile));
        struct mail_message m = {
                .from = "gw@example.org",
                .to = to,
                .subject = "Тема",
                .body = body,
                .date = 1,
                .message_id = "id",
        };
        size_t size;
        _cleanup_free_ char *msg = build(&m, &size);
        check_lines(msg, MAIL_LINE_MAX);
        assert_int_equal(count_headers(msg), 9);
        assert_null(strstr(msg, "Bcc"));
        assert_null(strstr(msg, "\r\n.\r\n"));

        const char *b = strstr(msg, "\r\n\r\n") + 4;
        _cleanup_free_ char *back = malloc(long_len + 200);
        size_t n = b64_decode(b, strlen(b), back, long_len + 200);
        assert_true(utf8_is_valid(back, n));
        const char *tail = "\r\nBcc: evil@example.org\r\n.\r\nQUIT\r\n\xEF\xBF\xBD\xEF\xBF\xBD end";
        assert_int_equal(n, long_len + strlen(tail));
        assert_memory_equal(back + long_len, tail, strlen(tail));
}

static void test_build_rejects_injection(void **state)
{
        char *good_to[] = {"me@example.org", NULL};
        char *bad_to[] = {"me@example.org", "x@example.org\r\nRCPT TO:<evil@example.org>", NULL};
        char *bad_to2[] = {"Me\n <me@example.org>", NULL};
        char *empty_to[] = {NULL};
        struct mail_message base = {
                .from = "gw@example.org",
                .to = good_to,
                .subject = "ok",
                .body = "ok",
                .message_id = "id",
        };
        char *msg = NULL;
        size_t size = 0;
        struct mail_message m;

        m = base;
        m.from = "gw@example.org\r\nRCPT TO:<evil@example.org>";
        assert_int_equal(mail_build(&m, &msg, &size), -EINVAL);
        m = base;
        m.from = "Evil\r\nBcc: evil@example.org <gw@example.org>";
        assert_int_equal(mail_build(&m, &msg, &size), -EINVAL);
        m = base;
        m.to = bad_to;
        assert_int_equal(mail_build(&m, &msg, &size), -EINVAL);
        m = base;
        m.to = bad_to2;
        assert_int_equal(mail_build(&m, &msg, &size), -EINVAL);
        m = base;
        m.to = empty_to;
        assert_int_equal(mail_build(&m, &msg, &size), -EINVAL);
        m = base;
        m.subject = "Тема\r\nBcc: evil@example.org";
        assert_int_equal(mail_build(&m, &msg, &size), -EINVAL);
        m = base;
        m.subject = "Тема\nBcc: evil@example.org";
        assert_int_equal(mail_build(&m, &msg, &size), -EINVAL);
        m = base;
        m.message_id = "a>\r\nBcc: x";
        assert_int_equal(mail_build(&m, &msg, &size), -EINVAL);
        assert_null(msg);
}

static void test_build_many_recipients_fold(void **state)
{
        char *to[12];
        char addrs[11][40];
        for (size_t i = 0; i < 11; i++) {
                snprintf(addrs[i], sizeof(addrs[i]), "resident%zu@district.example.org", i);
                to[i] = addrs[i];
        }
        to[11] = NULL;
        struct mail_message m = {
                .from = "Очень длинное имя отправителя, которое не помещается в одну строку "
                        "заголовка <gw@example.org>",
                .to = to,
                .subject = "x",
                .message_id = "id",
        };
        size_t size;
        _cleanup_free_ char *msg = build(&m, &size);
        check_lines(msg, MAIL_LINE_MAX);
        _cleanup_free_ char *tos = header_of(msg, "To");
        for (size_t i = 0; i < 11; i++)
                assert_non_null(strstr(tos, addrs[i]));
}

/* Every line of the header block, as RFC 5322 and 2047 want it: none over MAIL_HARD_LINE_MAX;
 * none over MAIL_LINE_MAX unless it is a continuation line holding a single token, which no
 * fold could have shortened; no line of white space alone; continuation lines start with one
 * space. Returns the number of header lines. */
static size_t check_header_lines(const char *msg)
{
        const char *end = strstr(msg, "\r\n\r\n");
        size_t lines = 0;
        assert_non_null(end);
        for (const char *p = msg; p <= end; lines++) {
                const char *eol = strstr(p, "\r\n");
                size_t len = (size_t)(eol - p);
                assert_null(memchr(p, '\n', len));
                assert_null(memchr(p, '\r', len));
                if (len > MAIL_HARD_LINE_MAX)
                        fail_msg("line of %zu chars: %.60s...", len, p);
                if (p[0] == ' ' || p[0] == '\t') {
                        assert_true(p > msg);
                        assert_true(len >= 2 && p[0] == ' ' && p[1] != ' ');
                        if (len > MAIL_LINE_MAX && memchr(p + 1, ' ', len - 1))
                                fail_msg("line of %zu chars that could fold: %.*s", len, (int)len,
                                         p);
                } else if (len > MAIL_LINE_MAX)
                        fail_msg("first line of %zu chars: %.*s", len, (int)len, p);
                p = eol + 2;
        }
        return lines;
}

/* The text of a run of encoded-words ("=?UTF-8?B?...?= =?UTF-8?B?...?="): RFC 2047 §6.2, the
 * white space between two of them is not text. False when a piece is not an encoded-word. */
static bool decode_words(const char *s, size_t len, struct strbuf *out)
{
        const char *p = s, *e = s + len;
        while (p < e) {
                while (p < e && *p == ' ')
                        p++;
                if (p == e)
                        break;
                const char *q = memchr(p, ' ', (size_t)(e - p));
                q = q ? q : e;
                size_t wlen = (size_t)(q - p);
                if (wlen < 12 || memcmp(p, "=?UTF-8?B?", 10) != 0 || memcmp(q - 2, "?=", 2) != 0)
                        return false;
                assert_true(wlen <= MAIL_WORD_MAX);
                char piece[64];
                size_t n = b64_decode(p + 10, wlen - 12, piece, sizeof(piece));
                assert_true(n > 0 && n <= MAIL_WORD_TEXT_MAX);
                assert_true(utf8_is_valid(piece, n));
                assert_int_equal(strbuf_append(out, piece, n), 0);
                p = q;
        }
        return true;
}

/* Reads the unfolded value of an address header back into display names and addresses, and
 * checks them against the specs they were built from: a reader sees what the config said. */
static void check_mailboxes(const char *value, char *const *specs)
{
        const char *p = value;
        size_t i = 0;
        for (; specs[i]; i++) {
                _cleanup_free_ char *want_display = NULL, *want_addr = NULL;
                assert_int_equal(mail_address_parse(specs[i], &want_display, &want_addr), 0);

                /* the mailbox ends at a comma outside a quoted-string */
                const char *q = p;
                bool quoted = false;
                for (; *q && (quoted || *q != ','); q++)
                        if (*q == '\\' && quoted && q[1])
                                q++;
                        else if (*q == '"')
                                quoted = !quoted;
                assert_false(quoted);
                assert_true(specs[i + 1] ? *q == ',' : *q == '\0');
                while (*p == ' ')
                        p++;
                size_t len = (size_t)(q - p);
                if (!want_display) {
                        assert_int_equal(len, strlen(want_addr));
                        assert_memory_equal(p, want_addr, len);
                } else {
                        const char *lt = memchr(p, '<', len);
                        assert_non_null(lt);
                        assert_true(q[-1] == '>');
                        assert_int_equal((size_t)(q - 1 - (lt + 1)), strlen(want_addr));
                        assert_memory_equal(lt + 1, want_addr, strlen(want_addr));
                        assert_true(lt > p && lt[-1] == ' ');
                        struct strbuf d = {0};
                        assert_int_equal(strbuf_append(&d, "", 0), 0);
                        if (*p == '"') {
                                assert_true(lt[-2] == '"');
                                for (const char *c = p + 1; c < lt - 2; c++) {
                                        if (*c == '\\')
                                                c++;
                                        assert_int_equal(strbuf_append(&d, c, 1), 0);
                                }
                        } else if (!decode_words(p, (size_t)(lt - 1 - p), &d))
                                fail_msg("display name neither quoted nor encoded: %.*s",
                                         (int)(lt - p), p);
                        assert_string_equal(d.buf, want_display);
                        strbuf_done(&d);
                }
                p = *q ? q + 1 : q;
        }
        assert_true(i > 0);
}

/* Builds m and checks every header: line lengths, and that unfolding (removing each CRLF before
 * white space) gives back From, To, Subject and Message-ID as they were asked for. */
static void check_message(const struct mail_message *m)
{
        size_t size;
        _cleanup_free_ char *msg = build(m, &size);
        check_header_lines(msg);
        assert_int_equal(count_headers(msg), 9);

        _cleanup_free_ char *from = header_of(msg, "From");
        char *const from_spec[] = {(char *)m->from, NULL};
        check_mailboxes(from, from_spec);
        _cleanup_free_ char *to = header_of(msg, "To");
        check_mailboxes(to, m->to);

        _cleanup_free_ char *subject = header_of(msg, "Subject");
        _cleanup_free_ char *want_subject = NULL;
        assert_int_equal(mail_utf8_sanitize(strempty(m->subject), strlen(strempty(m->subject)),
                                            &want_subject),
                         0);
        struct strbuf got = {0};
        assert_int_equal(strbuf_append(&got, "", 0), 0);
        assert_true(decode_words(subject, strlen(subject), &got));
        assert_string_equal(got.buf, want_subject);
        strbuf_done(&got);

        _cleanup_free_ char *mid = header_of(msg, "Message-ID");
        _cleanup_free_ char *display = NULL, *addr = NULL;
        assert_int_equal(mail_address_parse(m->from, &display, &addr), 0);
        _cleanup_free_ char *want_mid = NULL;
        assert_true(asprintf(&want_mid, " <%s@%s>", m->message_id, strchr(addr, '@') + 1) > 0);
        assert_string_equal(mid, want_mid);
}

/* A string of n copies of unit (UTF-8), then tail. */
static char *repeat(const char *unit, size_t n, const char *tail)
{
        struct strbuf sb = {0};
        assert_int_equal(strbuf_append(&sb, "", 0), 0);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(strbuf_puts(&sb, unit), 0);
        assert_int_equal(strbuf_puts(&sb, tail), 0);
        return sb.buf;
}

/* The unique part email.c puts in a Message-ID: 32 hex digits and ".govwatch". */
#define SINK_MESSAGE_ID "0123456789abcdef0123456789abcdef.govwatch"

static void test_fold_message_id(void **state)
{
        /* the finding: a 45-character domain made a 100-byte Message-ID line; every domain
         * length up to the longest an address allows, with the longest unique part */
        char *to[] = {"me@example.org", NULL};
        _cleanup_free_ char *longest_left = repeat("m", MAIL_MESSAGE_ID_LEFT_MAX, "");
        for (size_t dlen = 1; dlen <= MAIL_ADDR_MAX - 2; dlen++) {
                _cleanup_free_ char *from = repeat("d", dlen, "");
                from = realloc(from, dlen + 3);
                memmove(from + 2, from, dlen + 1);
                memcpy(from, "g@", 2);
                struct mail_message m = {
                        .from = from,
                        .to = to,
                        .subject = "x",
                        .message_id = dlen % 2 ? SINK_MESSAGE_ID : longest_left,
                };
                check_message(&m);
        }

        /* where it fits, it stays on the header's line */
        struct mail_message m = {
                .from = "gw@example.org",
                .to = to,
                .message_id = SINK_MESSAGE_ID,
        };
        size_t size;
        _cleanup_free_ char *msg = build(&m, &size);
        assert_non_null(strstr(msg, "\r\nMessage-ID: <" SINK_MESSAGE_ID "@example.org>\r\n"));
        /* where it does not, it has a line of its own */
        m.from = "gw@notifications.district-administration.example.org";
        _cleanup_free_ char *msg2 = build(&m, &size);
        assert_non_null(strstr(msg2, "\r\nMessage-ID:\r\n <" SINK_MESSAGE_ID
                                     "@notifications.district-administration.example.org>\r\n"));

        /* the unique part is bounded, so that the line is */
        char *bad = NULL;
        _cleanup_free_ char *too_long = repeat("m", MAIL_MESSAGE_ID_LEFT_MAX + 1, "");
        m.message_id = too_long;
        assert_int_equal(mail_build(&m, &bad, &size), -EINVAL);
        assert_null(bad);
}

static void test_fold_long_addresses(void **state)
{
        /* addresses up to the longest RFC 5321 allows, alone and in a list, with and without a
         * display name: each is one token on a line of its own, the line never past 998 */
        _cleanup_free_ char *a254 =
                repeat("a", MAIL_ADDR_MAX - strlen("@example.org"), "@example.org");
        _cleanup_free_ char *a100 = repeat("b", 100 - strlen("@example.org"), "@example.org");
        _cleanup_free_ char *d254 = repeat("c", 64, "@");
        d254 = realloc(d254, MAIL_ADDR_MAX + 1);
        memset(d254 + 65, 'd', MAIL_ADDR_MAX - 65);
        d254[MAIL_ADDR_MAX] = '\0';
        memcpy(d254 + MAIL_ADDR_MAX - 4, ".org", 4);
        _cleanup_free_ char *named = NULL;
        assert_true(asprintf(&named, "Житель <%s>", a254) > 0);
        char *to[] = {a254, "me@example.org", a100, named, d254, "\"Q\" <q@example.org>", NULL};
        for (size_t i = 0; to[i]; i++) {
                char *one[] = {to[i], NULL};
                struct mail_message m = {
                        .from = to[i],
                        .to = one,
                        .subject = "Тема",
                        .message_id = SINK_MESSAGE_ID,
                };
                check_message(&m);
        }
        struct mail_message m = {
                .from = named,
                .to = to,
                .subject = "Тема",
                .message_id = SINK_MESSAGE_ID,
        };
        check_message(&m);

        /* one byte more is refused: no config value can make a line past 998 */
        _cleanup_free_ char *a255 =
                repeat("a", MAIL_ADDR_MAX + 1 - strlen("@example.org"), "@example.org");
        char *d = NULL, *a = NULL;
        assert_int_equal(mail_address_parse(a255, &d, &a), -EINVAL);
        char *bad_to[] = {"me@example.org", a255, NULL};
        m.to = bad_to;
        char *msg = NULL;
        size_t size;
        assert_int_equal(mail_build(&m, &msg, &size), -EINVAL);
        assert_null(msg);
}

static void test_fold_many_recipients(void **state)
{
        /* fifty mailboxes of every kind: the list folds between them, never inside one */
        char *to[51];
        for (size_t i = 0; i < 50; i++) {
                switch (i % 5) {
                case 0:
                        assert_true(asprintf(&to[i], "resident%zu@district.example.org", i) > 0);
                        break;
                case 1:
                        assert_true(asprintf(&to[i],
                                             "Житель дома №%zu по улице Ленина "
                                             "<r%zu@example.org>",
                                             i, i) > 0);
                        break;
                case 2:
                        assert_true(asprintf(&to[i], "\"Doe, \\\"Jane\\\" %zu\" <j%zu@example.net>",
                                             i, i) > 0);
                        break;
                case 3:
                        assert_true(asprintf(&to[i], "<only%zu@example.org>", i) > 0);
                        break;
                default:
                        assert_true(asprintf(&to[i], "A %s name %zu <n%zu@example.org>",
                                             i % 2 ? "plain" : "=?looking?=", i, i) > 0);
                }
        }
        to[50] = NULL;
        struct mail_message m = {
                .from = "Госпаблики <govwatch@example.org>",
                .to = to,
                .subject = "Прямой эфир",
                .message_id = SINK_MESSAGE_ID,
        };
        check_message(&m);
        for (size_t i = 0; i < 50; i++)
                free(to[i]);
}

static void test_fold_long_names_and_subjects(void **state)
{
        /* display names and subjects of every length in Cyrillic, emoji and ASCII: encoded-words
         * of at most 75, lines of at most 76, a quoted ASCII name only when it fits on a line */
        static const char *const units[] = {"Ж", "🔴", "x", "ab ", "\"\\"};
        char *to[] = {"me@example.org", NULL};
        for (size_t u = 0; u < ELEMENTSOF(units); u++)
                for (size_t n = 1; n <= 120; n += (n < 40 ? 1 : 7)) {
                        _cleanup_free_ char *name = repeat(units[u], n, "");
                        _cleanup_free_ char *from = NULL, *quoted_from = NULL;
                        assert_true(asprintf(&from, "%s <gw@example.org>", name) > 0);
                        struct strbuf q = {0};
                        assert_int_equal(strbuf_puts(&q, "\""), 0);
                        for (const char *c = name; *c; c++) {
                                if (*c == '"' || *c == '\\')
                                        assert_int_equal(strbuf_puts(&q, "\\"), 0);
                                assert_int_equal(strbuf_append(&q, c, 1), 0);
                        }
                        assert_int_equal(strbuf_puts(&q, "\" <gw@example.org>"), 0);
                        char *named_to[] = {"me@example.org", q.buf, from, NULL};
                        struct mail_message m = {
                                .from = strchr(name, ' ') || strchr(name, '"') ? q.buf : from,
                                .to = u % 2 ? named_to : to,
                                .subject = name,
                                .message_id = SINK_MESSAGE_ID,
                        };
                        check_message(&m);
                        strbuf_done(&q);
                }

        /* a 1000-byte subject, as long as a post's first lines */
        _cleanup_free_ char *subject = repeat("Отключение воды ", 34, "!");
        assert_true(strlen(subject) > 1000);
        struct mail_message m = {
                .from = "Администрация Северского района — уведомления о прямых эфирах "
                        "<gw@example.org>",
                .to = to,
                .subject = subject,
                .message_id = SINK_MESSAGE_ID,
        };
        check_message(&m);

        /* an ASCII name that fits stays readable; one that does not is encoded, not cut */
        size_t size;
        char *fits_to[] = {"\"Northern District Administration Notifications\" <gw@example.org>",
                           NULL};
        m = (struct mail_message){
                .from = "gw@example.org", .to = fits_to, .message_id = SINK_MESSAGE_ID};
        _cleanup_free_ char *msg = build(&m, &size);
        _cleanup_free_ char *tos = header_of(msg, "To");
        assert_string_equal(tos, " \"Northern District Administration Notifications\" "
                                 "<gw@example.org>");
        _cleanup_free_ char *long_ascii = repeat("Northern District ", 6, "<gw@example.org>");
        char *long_to[] = {long_ascii, NULL};
        m.to = long_to;
        _cleanup_free_ char *msg2 = build(&m, &size);
        _cleanup_free_ char *tos2 = header_of(msg2, "To");
        assert_memory_equal(tos2, " =?UTF-8?B?", 11);
        check_message(&m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_encoded_words_cyrillic),
                cmocka_unit_test(test_encoded_words_emoji),
                cmocka_unit_test(test_encoded_words_exact_sizes),
                cmocka_unit_test(test_encoded_words_refuse_invalid),
                cmocka_unit_test(test_header_text),
                cmocka_unit_test(test_utf8_sanitize),
                cmocka_unit_test(test_header_value_check),
                cmocka_unit_test(test_address_parse),
                cmocka_unit_test(test_date),
                cmocka_unit_test(test_base64_lines),
                cmocka_unit_test(test_build),
                cmocka_unit_test(test_build_plain_from),
                cmocka_unit_test(test_build_hostile_text),
                cmocka_unit_test(test_build_rejects_injection),
                cmocka_unit_test(test_build_many_recipients_fold),
                cmocka_unit_test(test_fold_message_id),
                cmocka_unit_test(test_fold_long_addresses),
                cmocka_unit_test(test_fold_many_recipients),
                cmocka_unit_test(test_fold_long_names_and_subjects),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
