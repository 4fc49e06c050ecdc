/* test-rules.c — tests src/rules.c: the rule file loader's refusals and its work bounds.
 *
 * Each case is a rule file (or an admin's phrase) that must be refused with a message naming the
 * problem and its place; ASan's leak check (on in the unit tests) fails a refusal that forgets to
 * free what it had built.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules.h"
#include "util.h"

/* Loads text as a rule file; returns its error (NULL when it loaded). */
static char *load(const char *text, size_t len)
{
        struct ruleset *rs = NULL;
        char *error = NULL;
        assert_int_equal(ruleset_new(&rs), 0);
        int r = ruleset_load_string(rs, "t.yaml", text, len, &error);
        if (r >= 0)
                assert_null(error);
        else
                assert_non_null(error);
        ruleset_free(rs);
        return error;
}

static void assert_refused(const char *text, const char *expected)
{
        _cleanup_free_ char *error = load(text, strlen(text));
        if (!error)
                fail_msg("loaded, expected \"%s\"", expected);
        if (!strstr(error, expected))
                fail_msg("got \"%s\", expected \"%s\"", error, expected);
}

static void test_phrase_list_with_a_non_string(void **state)
{
        /* the source of the rule was being built when the list turned out bad: it must be freed */
        assert_refused("version: 1\ncategories:\n  live:\n    rules:\n"
                       "      - phrases: [\"прямой эфир\", [x]]\n",
                       "t.yaml:5:34: a phrase must be a string");
        assert_refused("version: 1\ncategories:\n  live:\n    rules:\n"
                       "      - phrases: [\"прямой эфир\", \"эфир\", {a: b}]\n",
                       "a phrase must be a string");
}

static void test_phrase_errors(void **state)
{
        assert_refused("categories:\n  live:\n    rules:\n      - phrase: воды/света\n",
                       "t.yaml:4:17: \"воды/света\" is not one word");
        assert_refused("categories:\n  live:\n    rules:\n      - phrase: \"=школ*\"\n",
                       "a word is either exact (=) or a prefix (*)");
        assert_refused("categories:\n  live:\n    rules:\n      - phrase: отключение ~21 воды\n",
                       "bad gap \"~21\" (~0 .. ~20)");
}

/* A word of letters only for i (digits would make two words of it). */
static const char *word(char prefix, int i, char buf[static 8])
{
        buf[0] = prefix;
        buf[1] = (char)('a' + i / 676 % 26);
        buf[2] = (char)('a' + i / 26 % 26);
        buf[3] = (char)('a' + i % 26);
        buf[4] = '\0';
        return buf;
}

static void test_bounds(void **state)
{
        char w[8];
        struct strbuf sb = {0};

        /* keys of one mapping: found duplicates by comparing pairs, so capped */
        assert_int_equal(strbuf_puts(&sb, "words:\n"), 0);
        for (int i = 0; i < 1025; i++)
                assert_int_equal(strbuf_appendf(&sb, "  c%d: слово\n", i), 0);
        _cleanup_free_ char *e1 = load(sb.buf, sb.len);
        assert_non_null(e1);
        assert_string_equal(e1, "t.yaml:2:3: more than 1024 keys in words");
        strbuf_done(&sb);

        /* words of a class */
        assert_int_equal(strbuf_puts(&sb, "words:\n  big: [w0"), 0);
        for (int i = 1; i < 1025; i++)
                assert_int_equal(strbuf_appendf(&sb, ", w%d", i), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n"), 0);
        _cleanup_free_ char *e2 = load(sb.buf, sb.len);
        assert_non_null(e2);
        assert_string_equal(e2, "t.yaml:2:8: word class with more than 1024 words");
        strbuf_done(&sb);

        /* forms one phrase word stands for: classes expand into it */
        assert_int_equal(strbuf_puts(&sb, "words:\n  a: [=aaaa"), 0);
        for (int i = 1; i < 600; i++)
                assert_int_equal(strbuf_appendf(&sb, ", =%s", word('a', i, w)), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n  b: [=baaa"), 0);
        for (int i = 1; i < 600; i++)
                assert_int_equal(strbuf_appendf(&sb, ", =%s", word('b', i, w)), 0);
        assert_int_equal(strbuf_puts(&sb, "]\ncategories:\n  live:\n    rules:\n"
                                          "      - phrase: \"@a|@b эфир\"\n"),
                         0);
        _cleanup_free_ char *e3 = load(sb.buf, sb.len);
        assert_non_null(e3);
        if (!strstr(e3, "a word stands for more than 1024 forms"))
                fail_msg("%s", e3);
        strbuf_done(&sb);

        /* one phrase's length */
        assert_int_equal(strbuf_puts(&sb, "categories:\n  live:\n    rules:\n      - phrase: "), 0);
        for (int i = 0; i < 205; i++)
                assert_int_equal(strbuf_puts(&sb, "слово "), 0); /* 11 bytes each */
        assert_int_equal(strbuf_puts(&sb, "\n"), 0);
        _cleanup_free_ char *e4 = load(sb.buf, sb.len);
        assert_non_null(e4);
        assert_string_equal(e4, "t.yaml:4:17: phrase longer than 1024 bytes");
        strbuf_done(&sb);

        /* rules of a file */
        assert_int_equal(strbuf_puts(&sb, "categories:\n  live:\n    rules:\n"), 0);
        for (int i = 0; i < 10001; i++)
                assert_int_equal(strbuf_puts(&sb, "      - signal: photo\n"), 0);
        _cleanup_free_ char *e5 = load(sb.buf, sb.len);
        assert_non_null(e5);
        assert_string_equal(e5, "t.yaml:10004:9: more than 10000 rules");
        strbuf_done(&sb);
}

static void test_added_rules_bounded(void **state)
{
        struct ruleset *rs = NULL;
        char *error = NULL;
        char regex[1100];

        assert_int_equal(ruleset_new(&rs), 0);
        memset(regex, 'a', sizeof(regex) - 1);
        regex[sizeof(regex) - 1] = '\0';
        assert_int_equal(ruleset_add_regex(rs, 0, regex, 1, "config", &error), -EINVAL);
        assert_string_equal(error, "config: regex longer than 1024 bytes");
        free(error);
        error = NULL;
        assert_int_equal(ruleset_add_phrase(rs, 0, regex, 1, false, false, "config", &error),
                         -EINVAL);
        assert_string_equal(error, "config: phrase longer than 1024 bytes");
        free(error);
        error = NULL;
        for (int i = 0; i < 10000; i++)
                assert_int_equal(ruleset_add_phrase(rs, 0, "эфир", 1, false, false, "config", NULL),
                                 0);
        assert_int_equal(ruleset_add_phrase(rs, 0, "эфир", 1, false, false, "config", &error),
                         -EINVAL);
        assert_string_equal(error, "config: more than 10000 rules");
        free(error);
        ruleset_free(rs);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_phrase_list_with_a_non_string),
                cmocka_unit_test(test_phrase_errors),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_added_rules_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
