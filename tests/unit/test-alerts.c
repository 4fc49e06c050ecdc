/* test-alerts.c — alerts about the daemon itself (src/alerts.c). A failure here means an admin
 * is paged every five minutes for one closed wall, never hears that the token died, or is not
 * told when things work again — or that a restart forgets a failing run and alerts twice. */
#include <unistd.h>

#include "test-helpers.h"

#include "alerts.h"
#include "govwatch.h"

static void test_step_threshold_once_and_recover(void **state)
{
        struct alert_counter c = {0};

        /* below the threshold: counted, silent */
        assert_int_equal(alert_step(&c, false, 3, 100), ALERT_NONE);
        assert_int_equal(c.failures, 1);
        assert_int_equal(c.since, 100);
        assert_int_equal(alert_step(&c, false, 3, 200), ALERT_NONE);
        /* the third in a row raises, exactly once */
        assert_int_equal(alert_step(&c, false, 3, 300), ALERT_RAISE);
        assert_true(c.alerted);
        assert_int_equal(c.since, 100); /* the run started at the first failure */
        for (int i = 0; i < 50; i++)
                assert_int_equal(alert_step(&c, false, 3, 400 + i), ALERT_NONE);
        assert_int_equal(c.failures, 53);
        /* recovery after an alert is told; the counter is clean again */
        assert_int_equal(alert_step(&c, true, 3, 1000), ALERT_RECOVER);
        assert_int_equal(c.failures, 0);
        assert_false(c.alerted);
        assert_int_equal(c.since, 0);
        /* success while healthy is silent */
        assert_int_equal(alert_step(&c, true, 3, 1001), ALERT_NONE);
}

static void test_step_interrupted_run_is_not_consecutive(void **state)
{
        struct alert_counter c = {0};
        assert_int_equal(alert_step(&c, false, 3, 1), ALERT_NONE);
        assert_int_equal(alert_step(&c, false, 3, 2), ALERT_NONE);
        /* one success below the threshold resets silently: no recovery without an alert */
        assert_int_equal(alert_step(&c, true, 3, 3), ALERT_NONE);
        assert_int_equal(alert_step(&c, false, 3, 4), ALERT_NONE);
        assert_int_equal(alert_step(&c, false, 3, 5), ALERT_NONE);
        assert_int_equal(alert_step(&c, false, 3, 6), ALERT_RAISE);
}

static void test_thresholds(void **state)
{
        struct alert_counter c = {0};
        /* the token: error 5 stops all polling, so the first failure alerts */
        assert_int_equal(alert_threshold(NULL, ALERT_TOKEN), 1);
        assert_int_equal(alert_step(&c, false, alert_threshold(NULL, ALERT_TOKEN), 1), ALERT_RAISE);
        assert_true(alert_threshold(NULL, ALERT_COMMUNITY) > 1);
        assert_true(alert_threshold(NULL, ALERT_SINK) > 1);
        /* a threshold of 0 means 1, never "never" */
        c = (struct alert_counter){0};
        assert_int_equal(alert_step(&c, false, 0, 1), ALERT_RAISE);
}

static void test_format_and_subject(void **state)
{
        char *s = NULL;
        assert_int_equal(alert_format(ALERT_COMMUNITY, "Администрация", ALERT_RAISE, 3,
                                      "VK error 15: Access denied", &s),
                         0);
        assert_non_null(strstr(s, "Администрация"));
        assert_non_null(strstr(s, "VK error 15"));
        assert_non_null(strstr(s, "3"));
        free(s);
        assert_int_equal(alert_format(ALERT_SINK, "mail", ALERT_RECOVER, 0, NULL, &s), 0);
        assert_non_null(strstr(s, "mail"));
        free(s);
        assert_int_equal(alert_format(ALERT_TOKEN, NULL, ALERT_RAISE, 1, NULL, &s), 0);
        assert_non_null(strstr(s, "токен"));
        free(s);
        assert_int_equal(alert_format(ALERT_TOKEN, NULL, ALERT_NONE, 1, NULL, &s), -EINVAL);

        assert_int_equal(alert_subject(ALERT_COMMUNITY, -100001, NULL, &s), 0);
        assert_string_equal(s, "community:-100001");
        free(s);
        assert_int_equal(alert_subject(ALERT_SINK, 0, "mail", &s), 0);
        assert_string_equal(s, "sink:mail");
        free(s);
        assert_int_equal(alert_subject(ALERT_TOKEN, 0, NULL, &s), 0);
        assert_string_equal(s, "token");
        free(s);
}

/* ---- the shell: counters in a real store, alerts queued to the `alerts:` sinks -------------- */

static const char CONFIG[] = "vk:\n"
                             "  api_url: http://127.0.0.1:1/method\n"
                             "  token_file: /dev/null\n"
                             "state_dir: /nonexistent\n"
                             "sinks:\n"
                             "  screen: {type: console}\n"
                             "  mail: {type: console}\n"
                             "alerts: [screen, mail]\n"
                             "watch:\n"
                             "  - topic: t\n"
                             "    communities: [-1]\n"
                             "    sinks: [screen]\n";

struct fixture {
        char dir[64];
        struct govwatch gw;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct config_errors errors = {0};
        snprintf(f->dir, sizeof(f->dir), "/tmp/govwatch-test-alerts-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        int r = config_load_string("alerts.yaml", CONFIG, sizeof(CONFIG) - 1, &f->gw.conf, &errors);
        if (r < 0)
                config_errors_print(&errors, "alerts.yaml", stderr);
        config_errors_done(&errors);
        if (r < 0) {
                free(f);
                fail_msg("config does not load");
        }
        assert_int_equal(store_open(f->dir, &f->gw.store), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];
        store_free(f->gw.store);
        config_free(f->gw.conf);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

/* Alert rows queued for sink, as "kind text" strings; returns how many. */
static size_t queued(struct fixture *f, const char *sink, const char *must_contain)
{
        struct outbox_entry *e = NULL;
        size_t n = 0;
        assert_int_equal(store_outbox_due_for_sink(f->gw.store, sink, INT64_MAX, 100, &e, &n), 0);
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(e[i].notification->kind, "alert");
                if (must_contain)
                        assert_non_null(strstr(e[i].notification->text, must_contain));
                outbox_entry_done(&e[i]);
        }
        free(e);
        return n;
}

static void test_community_alert_once_persisted(void **state)
{
        struct fixture *f = *state;
        struct govwatch *gw = &f->gw;

        assert_int_equal(alerts_community_result(gw, -7, "Школа №7", false, 15, "Access denied"),
                         0);
        assert_int_equal(alerts_community_result(gw, -7, "Школа №7", false, 15, "Access denied"),
                         0);
        /* a restart in between: the counter is in the store, not in memory */
        store_free(gw->store);
        assert_int_equal(store_open(f->dir, &gw->store), 0);
        assert_int_equal(alerts_community_result(gw, -7, "Школа №7", false, 15, "Access denied"),
                         1);
        assert_int_equal(queued(f, "screen", "Школа №7"), 1);
        assert_int_equal(queued(f, "mail", "VK error 15"), 1);
        /* failing on: no second alert */
        for (int i = 0; i < 5; i++)
                assert_int_equal(
                        alerts_community_result(gw, -7, "Школа №7", false, 15, "Access denied"), 0);
        assert_int_equal(queued(f, "screen", NULL), 1);
        /* the state is visible to status */
        char **active = NULL;
        assert_int_equal(store_alerts_active(gw->store, &active), 0);
        assert_string_equal(active[0], "community:-7");
        assert_null(active[1]);
        strv_free(active);
        /* recovery: one more alert, then quiet */
        assert_int_equal(alerts_community_result(gw, -7, "Школа №7", true, 0, NULL), 1);
        assert_int_equal(alerts_community_result(gw, -7, "Школа №7", true, 0, NULL), 0);
        assert_int_equal(queued(f, "screen", NULL), 2);
        assert_int_equal(store_alerts_active(gw->store, &active), 0);
        assert_null(active[0]);
        strv_free(active);
}

static void test_sink_alert_skips_the_failing_sink(void **state)
{
        struct fixture *f = *state;
        struct govwatch *gw = &f->gw;
        int r = 0;

        for (unsigned i = 0; i < alert_threshold(gw->conf, ALERT_SINK); i++)
                r = alerts_sink_result(gw, "mail", false, "connection refused");
        assert_int_equal(r, 1);
        /* told through the other alert sink, not through the one that is down */
        assert_int_equal(queued(f, "screen", "connection refused"), 1);
        assert_int_equal(queued(f, "mail", NULL), 0);
        /* back: both hear it */
        assert_int_equal(alerts_sink_result(gw, "mail", true, NULL), 1);
        assert_int_equal(queued(f, "screen", NULL), 2);
        assert_int_equal(queued(f, "mail", NULL), 1);
}

static void test_alert_after_from_config(void **state)
{
        struct fixture *f = *state;
        struct config_errors errors = {0};
        struct config *conf = NULL, *saved = f->gw.conf;
        char text[sizeof(CONFIG) + 64];
        int n = snprintf(text, sizeof(text), "%salert_after: {community: 1, sink: 2}\n", CONFIG);

        assert_int_equal(alert_threshold(saved, ALERT_COMMUNITY), 3);
        assert_int_equal(alert_threshold(saved, ALERT_SINK), 5);
        assert_int_equal(config_load_string("a.yaml", text, (size_t)n, &conf, &errors), 0);
        config_errors_done(&errors);
        assert_int_equal(alert_threshold(conf, ALERT_COMMUNITY), 1);
        assert_int_equal(alert_threshold(conf, ALERT_SINK), 2);
        assert_int_equal(alert_threshold(conf, ALERT_TOKEN), 1);

        /* the daemon counts by the config it runs with: one failed poll is enough now */
        f->gw.conf = conf;
        assert_int_equal(alerts_community_result(&f->gw, -9, "Поликлиника", false, 18, "Blocked"),
                         1);
        assert_int_equal(alerts_sink_result(&f->gw, "mail", false, "refused"), 0);
        assert_int_equal(alerts_sink_result(&f->gw, "mail", false, "refused"), 1);
        f->gw.conf = saved;
        config_free(conf);

        /* 0 is refused: it would mean "never" or "always" */
        n = snprintf(text, sizeof(text), "%salert_after: {sink: 0}\n", CONFIG);
        assert_true(config_load_string("b.yaml", text, (size_t)n, &conf, &errors) < 0);
        assert_true(errors.n_errors > 0);
        config_errors_done(&errors);
}

static void test_token_and_dry_run(void **state)
{
        struct fixture *f = *state;
        struct govwatch *gw = &f->gw;

        gw->dry_run = true; /* a dry run records nothing, alerts included */
        assert_int_equal(alerts_token_result(gw, false, 5, "invalid access_token"), 0);
        assert_int_equal(queued(f, "screen", NULL), 0);
        gw->dry_run = false;
        assert_int_equal(alerts_token_result(gw, false, 5, "invalid access_token"), 1);
        assert_int_equal(alerts_token_result(gw, false, 5, "invalid access_token"), 0);
        assert_int_equal(queued(f, "screen", "токен"), 1);
        assert_int_equal(alerts_token_result(gw, true, 0, NULL), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_step_threshold_once_and_recover),
                cmocka_unit_test(test_step_interrupted_run_is_not_consecutive),
                cmocka_unit_test(test_thresholds),
                cmocka_unit_test(test_format_and_subject),
                cmocka_unit_test_setup_teardown(test_community_alert_once_persisted, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_sink_alert_skips_the_failing_sink, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_alert_after_from_config, setup, teardown),
                cmocka_unit_test_setup_teardown(test_token_and_dry_run, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
