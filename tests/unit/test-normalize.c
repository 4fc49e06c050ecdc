/* test-normalize.c — what the classifier "reads" from a post: if these fail, posts written in
 * capitals, with hashtags, links, emoji or broken bytes are misread or crash the daemon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <libstemmer.h>
#include <stdio.h>

#include "normalize.h"

static struct normalizer *nz;

static int setup(void **state)
{
        return normalizer_new(true, &nz) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        nz = normalizer_free(nz);
        return 0;
}

static void assert_reads(const char *in, const char *expected)
{
        char *out = NULL;
        assert_int_equal(normalize_string(nz, in, strlen(in), &out), 0);
        assert_string_equal(out, expected);
        free(out);
}

static void test_fold_and_yo(void **state)
{
        assert_reads("ВНИМАНИЕ! Ёлка", "внимание ! елка");
        assert_reads("Всё ещё", "все еще");
}

static void test_nfc(void **state)
{
        /* е + combining diaeresis, и + combining breve: typed differently, read the same */
        assert_reads("\xd0\x95\xcc\x88\xd0\xbb\xd0\xba\xd0\xb0 \xd0\xb8\xcc\x86", "елка й");
        /* a stress mark inside a word is dropped */
        assert_reads("за\xcc\x81мок", "замок");
        /* so are the invisible characters pasted text keeps inside words: soft hyphen, zero-width
         * non-joiner and joiner, word joiner, BOM */
        assert_reads("откл\xc2\xadючение во\xe2\x80\x8cды", "отключение воды");
        assert_reads("гра\xe2\x80\x8dфик при\xe2\x81\xa0ема\xef\xbb\xbf", "график приема");
        /* between words they stay nothing: no word is made of them */
        assert_reads("вода \xc2\xad свет", "вода свет");
}

static void test_invalid_utf8(void **state)
{
        assert_reads("эфир\xff\xfe сегодня \xc3", "эфир сегодня");
        assert_reads("\xed\xa0\x80 ok", "ok"); /* a UTF-16 surrogate encoded in UTF-8 */
        char *out = NULL;
        const char zeros[] = "a\0b";
        assert_int_equal(normalize_string(nz, zeros, 3, &out), 0);
        assert_string_equal(out, "a b");
        free(out);
}

static void test_hashtags(void **state)
{
        assert_reads("#ПрямойЭфир", "прямой эфир");
        assert_reads("#МЧСКубани #Бюджет2027 #прямая_линия", "мчс кубани бюджет 2027 прямая линия");
}

static void test_links_mentions_emoji(void **state)
{
        assert_reads("[club123|Администрация района] ведёт эфир",
                     "администрация района ведет эфир");
        assert_reads("Ссылка: https://vk.com/video-1_2?x=y и vk.com/club1 тут", "ссылка : и тут");
        assert_reads("@club42 (Глава) пишет", "( глава ) пишет");
        assert_reads("🔴 LIVE\xe2\xa0\x80\xe2\xa0\x80эфир ☎️ 112", "live эфир 112");
}

static void test_links_where_they_start(void **state)
{
        /* a link may start after a space, '(', '«' or ':', and runs to the end of its word */
        assert_reads("текст ((((vk.com/x", "текст");
        assert_reads("сайт «www.site.ru» тут", "сайт тут");
        assert_reads("ww.x/y", "");
        assert_reads("адрес:https://x.ru/a?b=c конец", "конец");
        /* not links: Cyrillic before the '/', no dot before it, "www." alone */
        assert_reads("я.б/в и а.b/я", "я . б / в и а . b / я");
        assert_reads("(а(b/c", "( а ( b / c");
        assert_reads("www.", "www .");
}

/* Link stripping reads each character a bounded number of times. A word full of places where a
 * link may start ("((((…(/x", "::::…:/x") once made it rescan the rest of the word at each of
 * them: a post of 100 000 '(' took 17 s, stalling the daemon's loop. The work is counted
 * (normalizer_link_steps), not timed: at most 5 reads a character, and twice the text, twice
 * the work. */
static void test_links_linear(void **state)
{
        static const char *const units[] = {"(", ":", "«", "(w", "(a.", "(я", "(:/", "( "};
        for (size_t u = 0; u < ELEMENTSOF(units); u++) {
                size_t steps[2];
                for (int k = 0; k < 2; k++) {
                        size_t reps = (size_t)20000 << k, chars = 0;
                        struct strbuf sb = {0};
                        struct tokens t = {0};
                        for (size_t i = 0; i < reps; i++)
                                assert_int_equal(strbuf_puts(&sb, units[u]), 0);
                        assert_int_equal(strbuf_puts(&sb, "/x"), 0);
                        for (size_t i = 0; i < sb.len; i++)
                                chars += ((unsigned char)sb.buf[i] & 0xC0) != 0x80;
                        size_t before = normalizer_link_steps(nz);
                        assert_int_equal(normalizer_add(nz, sb.buf, sb.len, &t), 0);
                        steps[k] = normalizer_link_steps(nz) - before;
                        if (steps[k] < chars || steps[k] > 5 * (chars + 1))
                                fail_msg("\"%s\" x %zu: %zu reads for %zu characters", units[u],
                                         reps, steps[k], chars);
                        if (streq(units[u], "(")) /* read, not cut: each '(', '/' and x */
                                assert_int_equal(t.n, reps + 2);
                        tokens_done(&t);
                        strbuf_done(&sb);
                }
                if (steps[1] > 2 * steps[0] + 16)
                        fail_msg("\"%s\": %zu reads for 20000, %zu for 40000", units[u], steps[0],
                                 steps[1]);
        }
}

static void test_numbers_and_times(void **state)
{
        assert_reads("в 18:00, 05.12 и 12.00", "в 18 : 00 , 05 . 12 и 12 . 00");
        assert_reads("с 9 до 16 ч.", "с 9 до 16 ч .");
}

static void test_stems(void **state)
{
        struct tokens t = {0};
        const char *s = "прямую прямой эфире эфирное";
        assert_int_equal(normalizer_add(nz, s, strlen(s), &t), 0);
        assert_int_equal(t.n, 4);
        assert_string_equal(token_stem(&t, &t.v[0]), token_stem(&t, &t.v[1]));
        assert_string_equal(token_stem(&t, &t.v[2]), "эфир");
        assert_string_not_equal(token_stem(&t, &t.v[3]), "эфир");
        tokens_done(&t);
}

/* normalizer_stem keeps recent words' stems in a small cache: whatever it has seen and evicted,
 * every word must get the stem Snowball gives it, including words too long for the cache. */
static void test_stem_cache(void **state)
{
        static const char *const roots[] = {"прием",
                                            "запис",
                                            "расписан",
                                            "отключен",
                                            "водоснабжен",
                                            "электроэнерги",
                                            "ремонт",
                                            "дорог",
                                            "автобус",
                                            "маршрут",
                                            "предупрежден",
                                            "гроз",
                                            "паводк",
                                            "пожар",
                                            "голосован",
                                            "конкурс",
                                            "грант",
                                            "слушан",
                                            "вакцинац",
                                            "диспансеризац",
                                            "поликлиник",
                                            "школ",
                                            "отоплен",
                                            "мусор",
                                            "эфир",
                                            "трансляц",
                                            "губернатор",
                                            "администрац",
                                            "поселен",
                                            "район",
                                            "человеконенавистничеств"};
        static const char *const endings[] = {
                "",   "а",   "у",  "ом", "е",  "ы",  "ов",  "ам",  "ами", "ах",  "ие",   "ия",
                "ию", "ием", "ий", "ой", "ая", "ую", "ого", "ому", "ых",  "ими", "ость", "ости"};
        static const char *const prefixes[] = {"",    "пере", "пред",  "без", "со",
                                               "вне", "под",  "сверх", "про", "раз",
                                               "за",  "при",  "до",    "от",  "на"};
        struct sb_stemmer *oracle = sb_stemmer_new("russian", "UTF_8");
        assert_non_null(oracle);
        size_t words = 0;
        /* three passes in different orders: the first fills the cache, the later ones meet
         * words that are cached, evicted, or sharing a slot with another; the last starts
         * from a dropped cache */
        for (int pass = 0; pass < 3; pass++) {
                if (pass == 2)
                        normalizer_drop_stems(nz);
                for (size_t i = 0; i < ELEMENTSOF(roots); i++)
                        for (size_t j = 0; j < ELEMENTSOF(endings); j++)
                                for (size_t k = 0; k < ELEMENTSOF(prefixes); k++) {
                                        size_t jj = pass == 1 ? ELEMENTSOF(endings) - 1 - j : j;
                                        char w[160];
                                        int n = snprintf(w, sizeof(w), "%s%s%s%s", prefixes[k],
                                                         roots[i], endings[jj],
                                                         pass == 2 && k % 3 == 0 ? roots[i] : "");
                                        assert_true(n > 0 && (size_t)n < sizeof(w));
                                        const sb_symbol *want =
                                                sb_stemmer_stem(oracle, (const sb_symbol *)w, n);
                                        assert_non_null(want);
                                        size_t len;
                                        const char *got = normalizer_stem(nz, w, (size_t)n, &len);
                                        assert_int_equal(len, sb_stemmer_length(oracle));
                                        assert_memory_equal(got, want, len);
                                        words++;
                                }
        }
        assert_true(words > 3 * 8192); /* more words than the cache holds */
        sb_stemmer_delete(oracle);
}

static void test_negation_and_sentences(void **state)
{
        struct tokens t = {0};
        const char *s = "Газ не прекращается. Ул. Ленина, ст. Ильская\nНовая строка";
        assert_int_equal(normalizer_add(nz, s, strlen(s), &t), 0);
        assert_true(token_is(&t, &t.v[2], "прекращается"));
        assert_true(t.v[2].flags & TOKEN_NEGATED);
        assert_false(t.v[0].flags & TOKEN_NEGATED);
        /* "." after a sentence breaks it; after "ул"/"ст" (abbreviations) it does not */
        uint32_t s_ul = t.v[4].sentence;
        assert_true(s_ul > t.v[0].sentence);
        for (size_t i = 4; i < t.n; i++)
                if (token_is(&t, &t.v[i], "ильская"))
                        assert_int_equal(t.v[i].sentence, s_ul);
        assert_true(t.v[t.n - 1].sentence > s_ul);
        tokens_done(&t);
}

static void test_segments(void **state)
{
        struct tokens t = {0};
        assert_int_equal(normalizer_add(nz, "прямой", 12, &t), 0);
        assert_int_equal(normalizer_add(nz, "эфир", 8, &t), 0);
        assert_int_equal(t.n, 2);
        assert_int_not_equal(t.v[0].segment, t.v[1].segment);
        assert_int_not_equal(t.v[0].sentence, t.v[1].sentence);
        tokens_reset(&t);
        assert_int_equal(t.n, 0);
        tokens_done(&t);
}

static void test_normalize_word(void **state)
{
        char *w = NULL;
        assert_int_equal(normalize_word("ПРОШЁЛ", strlen("ПРОШЁЛ"), &w), 0);
        assert_string_equal(w, "прошел");
        free(w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fold_and_yo),
                cmocka_unit_test(test_nfc),
                cmocka_unit_test(test_invalid_utf8),
                cmocka_unit_test(test_hashtags),
                cmocka_unit_test(test_links_mentions_emoji),
                cmocka_unit_test(test_links_where_they_start),
                cmocka_unit_test(test_links_linear),
                cmocka_unit_test(test_numbers_and_times),
                cmocka_unit_test(test_stems),
                cmocka_unit_test(test_stem_cache),
                cmocka_unit_test(test_negation_and_sentences),
                cmocka_unit_test(test_segments),
                cmocka_unit_test(test_normalize_word),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
