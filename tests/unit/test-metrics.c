/* test-metrics.c — the pure parts of src/metrics.c. A failure here means a Prometheus scrape that
 * drops govwatch's whole file as malformed because an admin named a sink with a quote, or a
 * healthcheck that calls a quiet watch list dead within minutes of its last poll. */
#include "test-helpers.h"

#include "config.h"
#include "metrics.h"

static void assert_label(const char *in, const char *want)
{
        struct strbuf sb = {0};
        assert_int_equal(metrics_append_label_value(&sb, in), 0);
        assert_string_equal(sb.buf ? sb.buf : "", want);
        strbuf_done(&sb);
}

static void test_label_values_are_escaped(void **state)
{
        assert_label("mail", "mail");
        assert_label("", "");
        assert_label("ка\"нал", "ка\\\"нал");
        assert_label("a\\b", "a\\\\b");
        assert_label("line\nbreak\n", "line\\nbreak\\n");
        assert_label("\"\\\n", "\\\"\\\\\\n");
        /* nothing else is touched: UTF-8, braces, commas, equals signs */
        assert_label("Администрация {x}=1, y", "Администрация {x}=1, y");
}

static void test_default_max_age(void **state)
{
        struct config c = {.max_interval_usec = 6 * USEC_PER_HOUR};
        assert_int_equal(healthcheck_default_max_age_usec(&c), 12 * USEC_PER_HOUR);
        /* a watch list polled every few minutes still gets an hour */
        c.max_interval_usec = 2 * USEC_PER_SEC;
        assert_int_equal(healthcheck_default_max_age_usec(&c), USEC_PER_HOUR);
        c.max_interval_usec = UINT64_MAX;
        assert_true(healthcheck_default_max_age_usec(&c) == UINT64_MAX);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_label_values_are_escaped),
                cmocka_unit_test(test_default_max_age),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
