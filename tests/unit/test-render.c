/* test-render.c — what a resident reads in a pop-up or a subject line. A failure here means a
 * notification shows a raw "{placeholder}", a half-cut Cyrillic letter (mojibake), a wall of
 * text instead of an excerpt, or a terminal escape sequence from a hostile post. */
#include <jansson.h>
#include <time.h>

#include "test-helpers.h"

#include "render.h"

static char *cats_live_outage[] = {"live", "outage", NULL};

static struct notification sample(void)
{
        return (struct notification){
                .kind = "post",
                .owner_id = -100001,
                .post_id = 42,
                .community = "Администрация района",
                .topic = "Северский район",
                .url = "https://vk.com/wall-100001_42",
                .text = "Прямой эфир с главой района сегодня в 18:00",
                .categories = cats_live_outage,
                .date = 1764342000,      /* 2025-11-28 15:00:00 UTC */
                .starts_at = 1764342000, /* shown at +03:00 */
                .starts_at_utc_offset = 3 * 3600,
        };
}

static char *render(const char *tmpl, const struct notification *n, size_t max)
{
        char *out = NULL;
        int r = render_template(tmpl, n, max, &out);
        if (r < 0)
                fail_msg("render_template(\"%s\") failed: %s", tmpl, strerror(-r));
        return out;
}

static size_t utf8_chars(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += ((unsigned char)*s & 0xC0) != 0x80;
        return n;
}

static bool valid_utf8(const char *s)
{
        /* the same check the D-Bus library makes before it sends a string */
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                size_t n = *p < 0x80   ? 1
                           : *p < 0xC2 ? 0
                           : *p < 0xE0 ? 2
                           : *p < 0xF0 ? 3
                           : *p < 0xF5 ? 4
                                       : 0;
                if (n == 0)
                        return false;
                for (size_t i = 1; i < n; i++)
                        if ((p[i] & 0xC0) != 0x80)
                                return false;
                p += n;
        }
        return true;
}

static void test_defaults(void **state)
{
        struct notification n = sample();
        _cleanup_free_ char *title = render(RENDER_DEFAULT_TITLE, &n, 0);
        _cleanup_free_ char *body = render(RENDER_DEFAULT_BODY, &n, 0);

        assert_string_equal(title, "Администрация района: Прямой эфир, Отключения");
        assert_string_equal(body, "Прямой эфир с главой района сегодня в 18:00\n"
                                  "https://vk.com/wall-100001_42");
}

static void test_every_placeholder(void **state)
{
        struct notification n = sample();
        char *one[] = {"emergency", NULL};
        n.categories = one;
        setenv("TZ", "UTC", 1);
        tzset();
        _cleanup_free_ char *s = render("{topic}|{community}|{category}|{url}|{date}|{starts_at}|"
                                        "{text}",
                                        &n, 0);
        assert_string_equal(s, "Северский район|Администрация района|ЧС и предупреждения|"
                               "https://vk.com/wall-100001_42|28.11.2025 15:00|28.11.2025 18:00|"
                               "Прямой эфир с главой района сегодня в 18:00");

        /* the post's time in the configured zone, like the start, whatever the host's TZ */
        setenv("TZ", "America/New_York", 1);
        tzset();
        n.date_utc_offset = 3 * 3600;
        _cleanup_free_ char *z = render("{date} / {starts_at}", &n, 0);
        assert_string_equal(z, "28.11.2025 18:00 / 28.11.2025 18:00");
        setenv("TZ", "UTC", 1);
        tzset();
}

static void test_missing_values(void **state)
{
        struct notification n = {0};
        _cleanup_free_ char *s = render("[{community}][{category}][{starts_at}][{excerpt}]", &n, 0);
        assert_string_equal(s, "[][Без категории][][]");
}

/* A time no post can have (post.c refuses them; a fuzzer does not) is left out like a missing
 * one, never printed as the year -219246529 or overflowed on the way (UBSan aborts this test). */
static void test_extreme_times(void **state)
{
        static const int64_t wild[] = {INT64_MAX,
                                       INT64_MIN,
                                       INT64_MAX - 3600,
                                       INT64_MIN + 1,
                                       INT64_C(253402300800),
                                       INT64_C(-62135596801)};
        static const int32_t offsets[] = {INT32_MAX, INT32_MIN, 3 * 3600, 0};
        for (size_t i = 0; i < ELEMENTSOF(wild); i++)
                for (size_t k = 0; k < ELEMENTSOF(offsets); k++) {
                        struct notification n = sample();
                        n.date = wild[i];
                        n.date_utc_offset = offsets[k];
                        n.starts_at = wild[ELEMENTSOF(wild) - 1 - i];
                        n.starts_at_utc_offset = offsets[ELEMENTSOF(offsets) - 1 - k];
                        _cleanup_free_ char *s = render("[{date}][{starts_at}]", &n, 0);
                        assert_string_equal(s, "[][]");
                }
        /* the last second of year 9999 is still a time */
        struct notification n = sample();
        n.starts_at = INT64_C(253402300799);
        n.starts_at_utc_offset = 0;
        _cleanup_free_ char *s = render("{starts_at}", &n, 0);
        assert_string_equal(s, "31.12.9999 23:59");
}

static void test_literal_braces_and_unknown(void **state)
{
        struct notification n = sample();
        _cleanup_free_ char *a = render("{{community}} { } {} {Community} {a-b} }", &n, 0);
        assert_string_equal(a, "{community}} { } {} {Community} {a-b} }");

        char *out = (char *)0x1;
        assert_int_equal(render_template("Hi {comunity}", &n, 0, &out), -EINVAL);
        assert_ptr_equal(out, (char *)0x1); /* untouched on failure */

        size_t off = 99;
        assert_int_equal(render_check("ok {url} {{x}} {excerpt}", &off), 0);
        assert_int_equal(off, 99);
        assert_int_equal(render_check("{url} then {tpoic}", &off), -EINVAL);
        assert_int_equal(off, 11);
        assert_int_equal(render_check("{{{nope}", &off), -EINVAL);
        assert_int_equal(off, 2);
        assert_int_equal(render_check(NULL, &off), 0);
}

static void test_excerpt_collapses_and_cuts(void **state)
{
        struct notification n = sample();
        n.text = "  Внимание!\n\n\tЗавтра\u00a0с 9:00   отключение\r\nводы.  ";
        _cleanup_free_ char *short_one = render("{excerpt}", &n, 0);
        assert_string_equal(short_one, "Внимание! Завтра с 9:00 отключение воды.");

        /* 400 Cyrillic words of 6 letters: the excerpt ends on a word, with "…" */
        struct strbuf sb = {0};
        for (int i = 0; i < 400; i++)
                assert_int_equal(strbuf_puts(&sb, i ? " слово" : "слово"), 0);
        n.text = sb.buf;
        _cleanup_free_ char *long_one = render("{excerpt}", &n, 0);
        size_t chars = utf8_chars(long_one);
        assert_true(chars <= RENDER_EXCERPT_CHARS);
        assert_true(chars >= RENDER_EXCERPT_CHARS - 10);
        size_t len = strlen(long_one);
        assert_string_equal(long_one + len - strlen("слово…"), "слово…");
        strbuf_done(&sb);

        /* one endless word: cut hard, on a character boundary */
        for (int i = 0; i < 1000; i++)
                assert_int_equal(strbuf_puts(&sb, "ж"), 0);
        n.text = sb.buf;
        _cleanup_free_ char *word = render("{excerpt}", &n, 0);
        assert_int_equal(utf8_chars(word), RENDER_EXCERPT_CHARS);
        assert_true(valid_utf8(word));
        strbuf_done(&sb);

        /* exactly RENDER_EXCERPT_CHARS characters: nothing cut */
        for (int i = 0; i < RENDER_EXCERPT_CHARS; i++)
                assert_int_equal(strbuf_puts(&sb, "ы"), 0);
        n.text = sb.buf;
        _cleanup_free_ char *exact = render("{excerpt}", &n, 0);
        assert_string_equal(exact, sb.buf);
        strbuf_done(&sb);
}

static void test_length_limit_cuts_on_characters(void **state)
{
        struct notification n = sample();
        n.text = "Отключение воды";
        /* every limit gives valid UTF-8 no longer than the limit */
        for (size_t max = 1; max < 40; max++) {
                _cleanup_free_ char *s = render("{text}", &n, max);
                assert_true(strlen(s) <= max);
                assert_true(valid_utf8(s));
                if (max > 3 && max < strlen(n.text))
                        assert_non_null(strstr(s, "…"));
                else if (max >= strlen(n.text))
                        assert_string_equal(s, n.text);
        }
        _cleanup_free_ char *cut = render("{text}", &n, 14);
        assert_string_equal(cut, "Отклю…"); /* 5 letters × 2 bytes + 3 */
        _cleanup_free_ char *space = render("{text}", &n, 24);
        assert_string_equal(space, "Отключение…"); /* no space before the ellipsis */
        _cleanup_free_ char *fits = render("{text}", &n, strlen(n.text));
        assert_string_equal(fits, n.text);
}

static void test_hostile_text_is_clean_utf8(void **state)
{
        struct notification n = sample();
        n.text = "bad \xff\xfe utf8 \xd0 end \xed\xa0\x80 surrogate \xc0\xaf overlong "
                 "\x1b[2J\x07 esc \xc2\x9b c1";
        n.community = "Сообщество\nс переводом\rстроки";
        _cleanup_free_ char *s = render("{community}: {text}", &n, 0);
        assert_true(valid_utf8(s));
        assert_null(strchr(s, '\x1b'));
        assert_null(strchr(s, '\r'));
        assert_null(strchr(s, '\a'));
        assert_null(strstr(s, "\xc2\x9b"));
        assert_non_null(strstr(s, "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8 \xEF\xBF\xBD end"));
        /* markup is not render's business: it passes through for the sink to escape */
        n.text = "<b>&amp; \"AT&T\"</b>";
        _cleanup_free_ char *m = render("{text}", &n, 0);
        assert_string_equal(m, "<b>&amp; \"AT&T\"</b>");
}

static void test_utf8_prefix_len(void **state)
{
        assert_int_equal(utf8_prefix_len("abc", 10), 3);
        assert_int_equal(utf8_prefix_len("abc", 2), 2);
        assert_int_equal(utf8_prefix_len("жж", 3), 2);
        assert_int_equal(utf8_prefix_len("жж", 4), 4);
        assert_int_equal(utf8_prefix_len("a€", 3), 1); /* € is 3 bytes */
        assert_int_equal(utf8_prefix_len("a€", 4), 4);
        assert_int_equal(utf8_prefix_len("😀x", 3), 0);
        assert_int_equal(utf8_prefix_len("", 0), 0);
}

/* Residents send questions before a broadcast: its announcement offers "Задать вопрос" first;
 * the reminder offers "Смотреть" first; anything else just "Открыть". */
static void test_actions(void **state)
{
        struct notification n = sample();
        struct notification_action a[NOTIFICATION_ACTIONS_MAX];
        static char *cats_service[] = {"service", NULL};

        /* announcement, broadcast place unknown: ask only */
        assert_int_equal(notification_actions(&n, a), 1);
        assert_string_equal(a[0].key, "ask");
        assert_string_equal(a[0].label, "Задать вопрос");
        assert_string_equal(a[0].url, "https://vk.com/wall-100001_42");
        n.watch_url = "https://vk.com/video-100001_7";
        assert_int_equal(notification_actions(&n, a), 2);
        assert_string_equal(a[0].key, "ask");
        assert_string_equal(a[1].key, "watch");
        assert_string_equal(a[1].url, "https://vk.com/video-100001_7");
        _cleanup_free_ char *lines = render("{actions}", &n, 0);
        assert_string_equal(lines, "Задать вопрос: https://vk.com/wall-100001_42\n"
                                   "Смотреть: https://vk.com/video-100001_7");
        _cleanup_free_ char *watch = render("{watch_url}", &n, 0);
        assert_string_equal(watch, "https://vk.com/video-100001_7");

        /* the reminder: watch first; without a watch URL the post stands in */
        n.kind = "reminder";
        assert_int_equal(notification_actions(&n, a), 2);
        assert_string_equal(a[0].label, "Смотреть");
        assert_string_equal(a[1].label, "Задать вопрос");
        n.watch_url = NULL;
        assert_int_equal(notification_actions(&n, a), 1);
        assert_string_equal(a[0].label, "Смотреть");
        assert_string_equal(a[0].url, "https://vk.com/wall-100001_42");

        /* not a broadcast, or no address at all */
        n.kind = "post";
        n.categories = cats_service;
        assert_int_equal(notification_actions(&n, a), 1);
        assert_string_equal(a[0].key, "open");
        assert_string_equal(a[0].label, "Открыть");
        n.url = NULL;
        assert_int_equal(notification_actions(&n, a), 0);
        _cleanup_free_ char *none = render("[{actions}]", &n, 0);
        assert_string_equal(none, "[]");
}

/* A webhook's body template: whatever the post says, the body is the JSON the admin wrote,
 * with the post's words as the strings' exact values (a failure: the endpoint gets a body it
 * cannot parse, or a post that adds keys of its own). */
static void test_json_template_with_hostile_text(void **state)
{
        struct notification n = sample();
        n.text = "\"quoted\" back\\slash\nnew line\ttab \x01\x1b[31m\x7f }, \"x\": 1, {{ ü";
        n.community = "Администрация \"района\"";
        const char *tmpl = "{\"title\": \"{title}\", \"message\": \"{text}\", "
                           "\"extra\": {\"c\": \"{community}\", \"b\": \"{body}\", \"n\": [1, 2]}}";
        char *out = NULL;
        json_error_t error;

        assert_int_equal(render_json_template(tmpl, &n, "T \"1\"", "B\\2\n", 0, &out), 0);
        json_t *doc = json_loads(out, 0, &error);
        if (!doc)
                fail_msg("not JSON (%s): %s", error.text, out);
        assert_string_equal(json_string_value(json_object_get(doc, "title")), "T \"1\"");
        /* control characters other than newline and tab are spaces, as in every rendering */
        assert_string_equal(json_string_value(json_object_get(doc, "message")),
                            "\"quoted\" back\\slash\nnew line\ttab   [31m  }, \"x\": 1, {{ ü");
        json_t *extra = json_object_get(doc, "extra");
        assert_string_equal(json_string_value(json_object_get(extra, "c")),
                            "Администрация \"района\"");
        assert_string_equal(json_string_value(json_object_get(extra, "b")), "B\\2\n");
        assert_int_equal(json_object_size(doc), 3);
        json_decref(doc);
        free(out);

        /* each value cut on a character, the JSON around it whole */
        n.text = "Прямой эфир с главой района";
        assert_int_equal(render_json_template("[\"{text}\", \"{url}\"]", &n, "", "", 12, &out), 0);
        assert_string_equal(out, "[\"Прям…\", \"https://v…\"]");
        free(out);
        assert_int_equal(render_json_template("{\"t\": \"{tilte}\"}", &n, "", "", 0, &out),
                         -EINVAL);
}

static void test_json_check(void **state)
{
        char buf[256];

        assert_null(render_json_check("{\"text\": \"{text}\", \"at\": \"{starts_at}\"}", buf,
                                      sizeof(buf)));
        assert_null(render_json_check("[\"{title}\", \"{body}\", {\"k\": \"{{x}\"}]", buf,
                                      sizeof(buf)));
        /* a placeholder outside a string would make the body JSON only for some posts */
        assert_non_null(render_json_check("{\"text\": {text}}", buf, sizeof(buf)));
        assert_non_null(strstr(buf, "is not JSON once its placeholders are filled in"));
        assert_non_null(render_json_check("{\"n\": 1{date}}", buf, sizeof(buf)));
        assert_non_null(render_json_check("{\"text\": \"{text}\"", buf, sizeof(buf)));
        assert_non_null(render_json_check("{\"t\": \"{txet}\"}", buf, sizeof(buf)));
        assert_string_equal(buf,
                            "unknown placeholder '{txet}' in the body; did you mean '{text}'?");
        /* {title} and {body} are a JSON body's only: a title cannot contain itself */
        size_t off;
        assert_int_equal(render_check("{title}", &off), -EINVAL);
}

static void test_category_titles(void **state)
{
        assert_string_equal(render_category_title("live"), "Прямой эфир");
        assert_string_equal(render_category_title("service"), "Услуги");
        assert_string_equal(render_category_title("schedule"), "Расписание");
        assert_string_equal(render_category_title("outage"), "Отключения");
        assert_string_equal(render_category_title("emergency"), "ЧС и предупреждения");
        assert_string_equal(render_category_title("civic"), "Участие");
        assert_string_equal(render_category_title("dogs"), "dogs"); /* user-defined */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_every_placeholder),
                cmocka_unit_test(test_missing_values),
                cmocka_unit_test(test_literal_braces_and_unknown),
                cmocka_unit_test(test_excerpt_collapses_and_cuts),
                cmocka_unit_test(test_length_limit_cuts_on_characters),
                cmocka_unit_test(test_hostile_text_is_clean_utf8),
                cmocka_unit_test(test_utf8_prefix_len),
                cmocka_unit_test(test_category_titles),
                cmocka_unit_test(test_actions),
                cmocka_unit_test(test_json_template_with_hostile_text),
                cmocka_unit_test(test_json_check),
                cmocka_unit_test(test_extreme_times),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
