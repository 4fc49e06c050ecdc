/* test-corpus.c — labelled posts as an admin writes them: a mistake in an example file must be
 * named by FILE:LINE and keep the whole file out, and the shipped corpus's split must never move
 * a post between train, dev and test. */
#include <unistd.h>

#include "corpus.h"
#include "test-helpers.h"

static char *const names[] = {"live", "service", "schedule", "outage", "emergency", "civic", NULL};
#define N_NAMES 6

static char *write_temp(const char *content)
{
        char *path = strdup("/tmp/govwatch-test-corpus-XXXXXX");
        assert_non_null(path);
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        size_t len = strlen(content);
        assert_int_equal(write(fd, content, len), (ssize_t)len);
        close(fd);
        return path;
}

static void assert_error(const char *content, const char *expected)
{
        _cleanup_free_ char *path = write_temp(content);
        struct corpus c = {0};
        char *error = NULL;
        assert_int_equal(corpus_read(&c, path, names, N_NAMES, false, &error), -EINVAL);
        assert_int_equal(c.n, 0);
        assert_non_null(error);
        _cleanup_free_ char *want = NULL;
        assert_true(asprintf(&want, "%s:%s", path, expected) > 0);
        if (strncmp(error, want, strlen(want)) != 0)
                fail_msg("got \"%s\", expected it to start with \"%s\"", error, want);
        free(error);
        corpus_done(&c);
        unlink(path);
}

static void test_reads_examples(void **state)
{
        _cleanup_free_ char *path = write_temp(
                "{\"text\": \"Завтра отключат воду на ул. Мира\", \"labels\": [\"outage\"]}\n"
                "\n"
                "{\"id\": 7, \"owner_id\": -5, \"date\": 1773126000, \"text\": \"Итоги конкурса\", "
                "\"labels\": [], \"source\": \"https://example.org/a\", \"origin\": "
                "\"synthetic\"}\n"
                "{\"text\": \"Прямой эфир и опрос\", \"labels\": [\"live\", \"civic\"]}");
        struct corpus c = {0};
        assert_int_equal(corpus_read(&c, path, names, N_NAMES, false, NULL), 0);
        assert_int_equal(c.n, 3);
        assert_int_equal(c.v[0].labels, UINT64_C(1) << 3);
        assert_int_equal(c.v[0].line, 1);
        assert_int_equal(c.v[0].post->id, 1); /* a line without an id gets its line number */
        assert_null(c.v[0].source);
        assert_false(c.v[0].synthetic);
        assert_int_equal(c.v[1].line, 3);
        assert_int_equal(c.v[1].post->id, 7);
        assert_int_equal(c.v[1].post->owner_id, -5);
        assert_int_equal(c.v[1].labels, 0);
        assert_string_equal(c.v[1].source, "https://example.org/a");
        assert_true(c.v[1].synthetic);
        assert_int_equal(c.v[2].labels, (UINT64_C(1) << 0) | (UINT64_C(1) << 5));
        for (size_t i = 0; i < c.n; i++) /* an admin's examples are all for training */
                assert_int_equal(c.v[i].split, SPLIT_TRAIN);
        uint64_t key = c.key;
        assert_true(key != 0);

        /* a second file adds, and changes the key */
        assert_int_equal(corpus_read(&c, path, names, N_NAMES, true, NULL), 0);
        assert_int_equal(c.n, 6);
        assert_true(c.key != key);
        for (size_t i = 3; i < 6; i++)
                assert_int_equal(c.v[i].split, corpus_split_of(c.v[i].post->text));
        corpus_done(&c);
        unlink(path);
}

static void test_errors_name_the_line(void **state)
{
        assert_error(
                "{\"text\": \"a\", \"labels\": []}\n{\"text\": \"b\", \"labels\": [\"weather\"]}\n",
                "2: unknown category \"weather\"");
        assert_error("{\"text\": \"a\", \"labels\": []}\n\n{\"text\": \"b\", \"labels\": [\n",
                     "3: not JSON");
        assert_error("{\"text\": \"a\"}\n", "1: \"labels\" is missing");
        assert_error("{\"labels\": []}\n", "1: \"text\" is missing");
        assert_error("[1, 2]\n", "1: expected a JSON object");
        assert_error("{\"text\": \"a\", \"labels\": [3]}\n", "1: unknown category (not a string)");
        assert_error("{\"text\": \"a\", \"text\": \"b\", \"labels\": []}\n", "1: not JSON");

        /* a file that isn't there */
        struct corpus c = {0};
        char *error = NULL;
        assert_int_equal(
                corpus_read(&c, "/nonexistent/examples.jsonl", names, N_NAMES, false, &error),
                -ENOENT);
        assert_string_equal(error, "/nonexistent/examples.jsonl: No such file or directory");
        free(error);
}

static void test_split_is_fixed(void **state)
{
        /* the same text always lands in the same split; the proportions are about 65/15/20 */
        size_t count[_SPLIT_MAX] = {0};
        char text[64];
        for (int i = 0; i < 10000; i++) {
                snprintf(text, sizeof(text), "пост номер %d", i);
                enum corpus_split s = corpus_split_of(text);
                assert_int_equal(s, corpus_split_of(text));
                count[s]++;
        }
        assert_in_range(count[SPLIT_TEST], 1800, 2200);
        assert_in_range(count[SPLIT_DEV], 1300, 1700);
        assert_in_range(count[SPLIT_TRAIN], 6100, 6900);
        /* FNV-1a 64 of "" is cbf29ce484222325, 14695981039346656037 % 100 = 37: train; the
         * corpus test computes the same function in Python */
        assert_int_equal(corpus_split_of(""), SPLIT_TRAIN);
        assert_string_equal(corpus_split_names[SPLIT_TEST], "test");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reads_examples),
                cmocka_unit_test(test_errors_name_the_line),
                cmocka_unit_test(test_split_is_fixed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
