/* test-rules.c — tests src/rules.c: the rule file loader's refusals and its work bounds.
 *
 * Each case is a rule file (or an admin's phrase) that must be refused with a message naming the
 * problem and its place; ASan's leak check (on in the unit tests) fails a refusal that forgets to
 * free what it had built. Each work bound (rules.h, rules.c) has a case just over it; what a
 * user notices when one fails is a hostile rules file or config stalling the daemon's loop, or a
 * refusal that does not say which cap was hit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "rules.h"
#include "util.h"
#include "yaml_tree.h"

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

static char *load_text(const char *text)
{
        return load(text, strlen(text));
}

static void assert_refused(const char *text, const char *expected)
{
        _cleanup_free_ char *error = load(text, strlen(text));
        if (!error)
                fail_msg("loaded, expected \"%s\"", expected);
        if (!strstr(error, expected))
                fail_msg("got \"%s\", expected \"%s\"", error, expected);
}

static void assert_error_has(const char *error, const char *expected)
{
        if (!error)
                fail_msg("accepted, expected \"%s\"", expected);
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

/* Every error of a file comes at once, in the file's order, one "FILE:LINE:COL: message" a line:
 * an admin fixes a rules file in one pass, not one error a run. */
static void test_every_error(void **state)
{
        _cleanup_free_ char *e1 = load_text("version: 1\n"
                                            "categories:\n"
                                            "  live:\n"
                                            "    threshold: many\n"
                                            "    rules:\n"
                                            "      - phrase: \"прямой ~99 эфир\"\n"
                                            "      - signal: photo\n"
                                            "      - signal: telepathy\n");
        assert_string_equal(e1, "t.yaml:4:16: expected a number, got \"many\"\n"
                                "t.yaml:6:17: bad gap \"~99\" (~0 .. ~20)\n"
                                "t.yaml:8:17: unknown signal \"telepathy\"");

        /* read in another order than written (words first, categories, then reschedule), told in
         * the file's; the tree's own errors (a duplicate key) among them; a bad word class is
         * still a class, so a phrase naming it is not refused as well */
        _cleanup_free_ char *e2 = load_text("reschedule:\n"
                                            "  miss_cost: 2\n"
                                            "categories:\n"
                                            "  live:\n"
                                            "    rules:\n"
                                            "      - phrase: \"@bad эфир\"\n"
                                            "        veto: maybe\n"
                                            "        wieght: 1\n"
                                            "      - phrase: эфир\n"
                                            "        weight: 1\n"
                                            "        weight: 2\n"
                                            "words:\n"
                                            "  bad: [прямой, воды/света]\n");
        assert_string_equal(e2, "t.yaml:2:14: miss_cost is for categories, not reschedule\n"
                                "t.yaml:7:15: expected true or false\n"
                                "t.yaml:8:9: unknown key \"wieght\" in a rule\n"
                                "t.yaml:11:9: duplicate key 'weight' (first at 10:9)\n"
                                "t.yaml:13:8: \"воды/света\" is not one word (write the words "
                                "apart, without punctuation)");

        /* past YAML_TREE_MAX_ERRORS, a count */
        struct strbuf sb = {0};
        assert_int_equal(strbuf_puts(&sb, "categories:\n  live:\n    rules:\n"), 0);
        for (int i = 0; i < 105; i++)
                assert_int_equal(strbuf_puts(&sb, "      - signal: telepathy\n"), 0);
        _cleanup_free_ char *e3 = load(sb.buf, sb.len);
        strbuf_done(&sb);
        assert_non_null(e3);
        assert_true(startswith(e3, "t.yaml: 5 more errors not shown (after the first 100)\n"
                                   "t.yaml:4:17: unknown signal \"telepathy\"\n"));
        size_t lines = 1;
        for (const char *c = e3; *c; c++)
                lines += *c == '\n';
        assert_int_equal(lines, 101);
}

/* What a config is refused for as hostile YAML, a rules file is refused for alike: the one tree
 * reads both. */
static void assert_refused_alike(const char *text, const char *expected)
{
        struct config *c = NULL;
        struct config_errors errors = {0};
        _cleanup_free_ char *config_error = NULL;
        assert_true(config_load_string("t.yaml", text, strlen(text), &c, &errors) < 0);
        assert_null(c);
        assert_int_equal(config_errors_join(&errors, "t.yaml", &config_error), 0);
        config_errors_done(&errors);
        assert_string_equal(config_error, expected);
        assert_refused(text, expected);
}

static void test_caps_as_config(void **state)
{
        struct strbuf sb = {0};

        /* depth */
        for (int i = 0; i < 100; i++)
                assert_int_equal(strbuf_puts(&sb, "["), 0);
        assert_refused_alike(sb.buf, "t.yaml:1:65: nesting deeper than 64 levels");
        strbuf_done(&sb);

        /* aliases */
        assert_int_equal(strbuf_puts(&sb, "a: &a [x, x]\nb: ["), 0);
        for (int i = 0; i < 40; i++)
                assert_int_equal(strbuf_puts(&sb, "*a, "), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n"), 0);
        assert_refused_alike(sb.buf, "t.yaml:2:133: more than 32 aliases: refusing the file (a "
                                     "\"billion laughs\" attack?)");
        strbuf_done(&sb);

        /* what aliases expand to */
        assert_int_equal(strbuf_puts(&sb, "a: &a [x"), 0);
        for (int i = 0; i < 999; i++)
                assert_int_equal(strbuf_puts(&sb, ", x"), 0);
        assert_int_equal(strbuf_puts(&sb, "]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"),
                         0);
        /* 1,001 values a copy: the 10th crosses 10,000 */
        assert_refused_alike(sb.buf, "t.yaml:2:41: aliases expand to more than 10000 values: "
                                     "refusing the file (a \"billion laughs\" attack?)");
        strbuf_done(&sb);

        /* values */
        assert_int_equal(strbuf_puts(&sb, "a: [x"), 0);
        for (int i = 0; i < YAML_TREE_MAX_NODES; i++)
                assert_int_equal(strbuf_puts(&sb, ",x"), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n"), 0);
        /* a mapping, a key and a list before the items: item 99,998 is value 100,001 */
        assert_refused_alike(sb.buf, "t.yaml:1:199999: more than 100000 values (scalars, lists and "
                                     "mappings): refusing the file");
        strbuf_done(&sb);

        /* a second document, and a syntax error */
        assert_refused("version: 1\n---\nversion: 1\n",
                       "t.yaml:2:1: a second YAML document: the rules file is one document");
        assert_refused_alike("a: [b\n", "t.yaml:2:1: did not find expected ',' or ']' (while "
                                        "parsing a flow sequence at 1:4)");

        /* size: the same cap, each file's words */
        assert_int_equal(strbuf_puts(&sb, "# "), 0);
        while (sb.len <= YAML_TREE_MAX_SIZE)
                assert_int_equal(strbuf_puts(&sb, "comment "), 0);
        assert_refused(sb.buf, "t.yaml:1:1: larger than 1048576 bytes");
        struct config *c = NULL;
        struct config_errors errors = {0};
        assert_int_equal(config_load_string("t.yaml", sb.buf, sb.len, &c, &errors), -EFBIG);
        config_errors_done(&errors);
        strbuf_done(&sb);
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
}

/* The file's own caps: yaml_tree.h's values, aliases and size, then the ruleset's rules. */
static void test_file_bounds(void **state)
{
        struct strbuf sb = {0};

        /* YAML values: the tree's work is per value, refused while it is built */
        assert_int_equal(strbuf_puts(&sb, "categories:\n  live:\n    rules:\n"), 0);
        for (int i = 0; i < 33400; i++)
                assert_int_equal(strbuf_puts(&sb, "      - signal: photo\n"), 0);
        _cleanup_free_ char *e5 = load(sb.buf, sb.len);
        assert_non_null(e5);
        /* 7 values before the rules, 3 a rule: value 100001 opens rule 33332 */
        assert_string_equal(e5, "t.yaml:33335:9: more than 100000 values (scalars, lists and "
                                "mappings): refusing the file");
        strbuf_done(&sb);

        /* rules: the last one refused, and nothing after it (each would be refused alike) */
        assert_int_equal(strbuf_puts(&sb, "categories:\n  live:\n    rules:\n"), 0);
        for (int i = 0; i < 10005; i++)
                assert_int_equal(strbuf_puts(&sb, "      - signal: photo\n"), 0);
        _cleanup_free_ char *e6 = load(sb.buf, sb.len);
        assert_non_null(e6);
        assert_string_equal(e6, "t.yaml:10004:9: more than 10000 rules");
        strbuf_done(&sb);

        /* a category's body repeated by aliases counts each time */
        assert_int_equal(strbuf_puts(&sb, "categories:\n  c0: &b\n    rules:\n"), 0);
        for (int i = 0; i < 200; i++)
                assert_int_equal(strbuf_puts(&sb, "      - signal: photo\n"), 0);
        for (int i = 1; i <= 30; i++)
                assert_int_equal(strbuf_appendf(&sb, "  c%d: *b\n", i), 0);
        _cleanup_free_ char *e7 = load(sb.buf, sb.len);
        assert_non_null(e7);
        /* 603 values a copy: the 17th crosses 10,000 */
        assert_string_equal(e7, "t.yaml:220:8: aliases expand to more than 10000 values: "
                                "refusing the file (a \"billion laughs\" attack?)");
        strbuf_done(&sb);

        /* the file's size */
        assert_int_equal(strbuf_puts(&sb, "# "), 0);
        while (sb.len <= YAML_TREE_MAX_SIZE)
                assert_int_equal(strbuf_puts(&sb, "комментарий "), 0);
        _cleanup_free_ char *e8 = load(sb.buf, sb.len);
        assert_non_null(e8);
        assert_string_equal(e8, "t.yaml:1:1: larger than 1048576 bytes");
        strbuf_done(&sb);
}

/* Phrases of distinct words, in flow lists of 250: each starts with a form of its own. */
static void phrases_file(struct strbuf *sb, int n, int words_per_phrase)
{
        char w[8];
        assert_int_equal(strbuf_puts(sb, "categories:\n  live:\n    rules:\n"), 0);
        for (int i = 0; i < n; i++) {
                assert_int_equal(strbuf_puts(sb, i % 250 == 0 ? "      - phrases: [\"" : ", \""),
                                 0);
                for (int k = 0; k < words_per_phrase; k++)
                        assert_int_equal(strbuf_appendf(sb, "%s%s", k ? " " : "",
                                                        word((char)('a' + k), i, w)),
                                         0);
                assert_int_equal(strbuf_puts(sb, i % 250 == 249 || i == n - 1 ? "\"]\n" : "\""), 0);
        }
}

static void test_phrase_bounds(void **state)
{
        char w[8];
        struct strbuf sb = {0};

        /* phrases */
        phrases_file(&sb, 10001, 1);
        _cleanup_free_ char *e1 = load(sb.buf, sb.len);
        assert_error_has(e1, "more than 10000 phrases in the rules");
        strbuf_done(&sb);

        /* words read (each is folded and stemmed) */
        phrases_file(&sb, 5462, 3);
        _cleanup_free_ char *e2 = load(sb.buf, sb.len);
        assert_error_has(e2, "more than 16384 words in the rules and the config's phrases");
        strbuf_done(&sb);

        /* their bytes: 300 phrases of one 1,000-byte word */
        assert_int_equal(strbuf_puts(&sb, "categories:\n  live:\n    rules:\n"), 0);
        for (int i = 0; i < 300; i++) {
                assert_int_equal(strbuf_appendf(&sb, "      - phrase: %s", word('a', i, w)), 0);
                for (int k = 0; k < 996; k++)
                        assert_int_equal(strbuf_puts(&sb, "x"), 0);
                assert_int_equal(strbuf_puts(&sb, "\n"), 0);
        }
        _cleanup_free_ char *e3 = load(sb.buf, sb.len);
        assert_error_has(e3, "the words of the rules and the config's phrases add up to more "
                             "than 262144 bytes");
        strbuf_done(&sb);

        /* word forms: a class of 1,024 words copied into every phrase naming it (each phrase
         * starts with a word of its own: the class alone would hit the cap on starts first) */
        assert_int_equal(strbuf_puts(&sb, "words:\n  big: [=aaaa"), 0);
        for (int i = 1; i < 1024; i++)
                assert_int_equal(strbuf_appendf(&sb, ", =%s", word('a', i, w)), 0);
        assert_int_equal(strbuf_puts(&sb, "]\ncategories:\n  live:\n    rules:\n"), 0);
        for (int i = 0; i < 64; i++)
                assert_int_equal(
                        strbuf_appendf(&sb, "      - phrase: \"=%s @big\"\n", word('b', i, w)), 0);
        _cleanup_free_ char *e4 = load(sb.buf, sb.len);
        assert_error_has(e4, "t.yaml:69:17: the rules expand to more than 65536 word forms");
        strbuf_done(&sb);

        /* phrases starting with one form: every post word with the form tries each */
        assert_int_equal(strbuf_puts(&sb, "categories:\n  live:\n    rules:\n"), 0);
        for (int i = 0; i < 65; i++)
                assert_int_equal(strbuf_appendf(&sb, "      - phrase: \"отключ*|=b%s воды\"\n",
                                                word('c', i, w)),
                                 0);
        _cleanup_free_ char *e5 = load(sb.buf, sb.len);
        assert_non_null(e5);
        assert_string_equal(e5, "t.yaml:68:17: more than 64 phrases start with \"отключ*\" (one "
                                "phrase can list alternatives: a|b)");
        strbuf_done(&sb);

        /* ... and with prefixes of one first letter: a long word of a post has many prefixes */
        assert_int_equal(strbuf_puts(&sb, "categories:\n  live:\n    rules:\n"), 0);
        for (int i = 0; i < 257; i++)
                assert_int_equal(
                        strbuf_appendf(&sb, "      - phrase: \"%s* воды\"\n", word('b', i, w)), 0);
        _cleanup_free_ char *e6 = load(sb.buf, sb.len);
        assert_non_null(e6);
        assert_string_equal(e6, "t.yaml:260:17: more than 256 phrases start with a prefix "
                                "beginning with \"b\" (one phrase can list alternatives: a|b)");
        strbuf_done(&sb);
}

/* A word class is compiled once, when it is read: its errors point at it, used or not, and its
 * forms are deduplicated (stems merge "эфир" and "эфира") in the class and in each phrase. */
static void test_word_classes(void **state)
{
        assert_refused("words:\n  utility: [=вода, воды/света]\n",
                       "t.yaml:2:12: \"воды/света\" is not one word");
        assert_refused("words:\n  a: [эфир]\n  b: [\"@a\"]\n",
                       "t.yaml:3:6: a word class cannot use @a");
        assert_refused("words:\n  a: \"  \"\n", "t.yaml:2:6: empty word class");
        assert_refused("categories:\n  live:\n    rules:\n      - phrase: \"@nope эфир\"\n",
                       "t.yaml:4:17: unknown word class @nope");

        static const char text[] = "words:\n  b: [эфира, эфир, эфиром, =эфир, трансляц*]\n"
                                   "  a: эфир эфиру трансляц* прям*\n"
                                   "categories:\n  live:\n    rules:\n"
                                   "      - phrase: \"@a|@b|эфир|=эфир ~2 @a\"\n";
        struct ruleset *rs = NULL;
        _cleanup_free_ char *error = NULL;
        assert_int_equal(ruleset_new(&rs), 0);
        assert_int_equal(ruleset_load_string(rs, "t.yaml", text, strlen(text), &error), 0);
        assert_int_equal(ruleset_finish(rs), 0);
        assert_int_equal(rs->n_classes, 2);
        assert_int_equal(rs->n_phrases, 1);
        assert_int_equal(rs->n_items, 2);
        /* stem эфир, =эфир, трансляц*, прям*: once each, in order of atom id */
        assert_int_equal(rs->items[0].n_atoms, 4);
        assert_int_equal(rs->items[1].n_atoms, 3);
        for (size_t i = 0; i < rs->n_items; i++)
                for (uint32_t a = 1; a < rs->items[i].n_atoms; a++)
                        assert_true(rs->item_atoms[rs->items[i].first_atom + a - 1] <
                                    rs->item_atoms[rs->items[i].first_atom + a]);
        ruleset_free(rs);
}

/* The shipped rules stay well inside every cap (their figures are quoted in rules.h). */
static void test_shipped_rules_margin(void **state)
{
        struct ruleset *rs = NULL;
        _cleanup_free_ char *error = NULL;
        assert_int_equal(ruleset_new(&rs), 0);
        int r = ruleset_load_file(rs, GOVWATCH_SOURCE_DIR "/data/rules.yaml", &error);
        if (r < 0)
                fail_msg("%s", error);
        assert_int_equal(ruleset_finish(rs), 0);
        assert_true(rs->n_rules * 10 <= RULES_MAX_RULES);
        assert_true(rs->n_phrases * 10 <= RULES_MAX_PHRASES);
        assert_true(rs->n_words * 10 <= RULES_MAX_WORDS);
        assert_true(rs->n_word_bytes * 10 <= RULES_MAX_WORD_BYTES);
        assert_true(rs->n_item_atoms * 10 <= RULES_MAX_WORD_FORMS);
        uint32_t most = 0;
        for (size_t a = 0; a < rs->n_atoms; a++) {
                uint32_t n = rs->start_index[a + 1] - rs->start_index[a];
                most = n > most ? n : most;
        }
        assert_true(most > 0);
        assert_true(most * 4 <= RULES_MAX_STARTS);
        ruleset_free(rs);
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
        /* an admin's phrases share the caps on starts and rules */
        for (int i = 0; i < 64; i++)
                assert_int_equal(ruleset_add_phrase(rs, 0, "эфир", 1, false, false, "config", NULL),
                                 0);
        assert_int_equal(ruleset_add_phrase(rs, 0, "эфиру", 1, false, false, "config", &error),
                         -EINVAL);
        assert_string_equal(error, "config: more than 64 phrases start with any form of \"эфир\" "
                                   "(one phrase can list alternatives: a|b)");
        free(error);
        error = NULL;
        char w[8];
        for (int i = 0; rs->n_rules < 10000; i++)
                assert_int_equal(
                        ruleset_add_phrase(rs, 0, word('a', i, w), 1, false, false, "config", NULL),
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
                cmocka_unit_test(test_every_error),
                cmocka_unit_test(test_caps_as_config),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_file_bounds),
                cmocka_unit_test(test_phrase_bounds),
                cmocka_unit_test(test_word_classes),
                cmocka_unit_test(test_shipped_rules_margin),
                cmocka_unit_test(test_added_rules_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
