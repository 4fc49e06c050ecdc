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
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
