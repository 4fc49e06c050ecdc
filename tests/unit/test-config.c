/* test-config.c — tests src/config.c and src/community_ref.c.
 *
 * Every tests/config/bad/NAME.yaml goes through govwatch_prepare(), as check-config, run and
 * reload do, and its errors are compared, byte for byte, with NAME.expected (what `govwatchd
 * --config tests/config/bad/NAME.yaml check-config` prints when run from the source tree), so
 * adding a case is adding two files. Set GOVWATCH_UPDATE_EXPECTED=1 to
 * write missing or changed .expected files — then read every one of them before committing.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "govwatch.h"
#include "setting.h"
#include "sink.h"
#include "tz_cache.h"
#include "util.h"

static char *source_dir;

static void clean_environment(void)
{
        /* The runner's own token or systemd context must not change what a file means. */
        unsetenv("GOVWATCH_VK_TOKEN");
        unsetenv("CREDENTIALS_DIRECTORY");
        unsetenv("STATE_DIRECTORY");
}

/* A key of the sink's own type, found through the registry's table the way config.c finds it:
 * where its value is, and its row. */
static const void *own_value(const struct sink_conf *s, const char *key,
                             const struct setting **ret_row)
{
        const struct sink_ops *ops = sink_ops_find(s->type);
        assert_non_null(ops);
        assert_non_null(s->settings);
        for (size_t i = 0; i < ops->n_settings; i++)
                if (streq(ops->settings[i].key, key)) {
                        if (ret_row)
                                *ret_row = &ops->settings[i];
                        return (const char *)s->settings + ops->settings[i].offset;
                }
        fail_msg("sink type %s has no key %s", s->type, key);
        return NULL;
}
#define OWN(s, key, c_type) (*(c_type const *)own_value((s), (key), NULL))

/* The word an enum key of the sink's type holds, as written in the file. */
static const char *own_word(const struct sink_conf *s, const char *key)
{
        const struct setting *row = NULL;
        int i = *(const int *)own_value(s, key, &row);
        return row->enum_values[i];
}

static int setup(void **state)
{
        clean_environment();
        return 0;
}

static char *errors_text(const struct config_errors *e, const char *path)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        assert_non_null(f);
        config_errors_print(e, path, f);
        fclose(f);
        return text;
}

static char *read_text(const char *path)
{
        char *text = NULL;
        int r = read_full_file(path, 1024 * 1024, false, &text, NULL);
        return r < 0 ? NULL : text;
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of dir/ *.yaml, sorted, NULL-terminated. */
static char **list_yaml(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                fail_msg("cannot open %s (is GOVWATCH_SOURCE_DIR right?)", dir);
        char **names = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 6 || strcmp(de->d_name + l - 5, ".yaml") != 0)
                        continue;
                assert_non_null(greedy_realloc((void **)&names, &allocated, n + 2, sizeof(char *)));
                names[n] = strndup(de->d_name, l - 5);
                names[++n] = NULL;
        }
        closedir(d);
        if (names)
                qsort(names, n, sizeof(char *), compare_names);
        return names;
}

static void test_bad_files(void **state)
{
        const char *update = getenv("GOVWATCH_UPDATE_EXPECTED");
        _cleanup_strv_free_ char **names = list_yaml("tests/config/bad");
        size_t n = strv_length(names), failed = 0;

        assert_true(n >= 25);
        for (size_t i = 0; i < n; i++) {
                char path[512], expected_path[512];
                snprintf(path, sizeof(path), "tests/config/bad/%s.yaml", names[i]);
                snprintf(expected_path, sizeof(expected_path), "tests/config/bad/%s.expected",
                         names[i]);

                struct govwatch_prepared p = {0};
                struct config_errors errors = {0};
                int r = govwatch_prepare(path, GOVWATCH_PREPARE_CHECK, &p, &errors);
                _cleanup_free_ char *got = errors_text(&errors, path);
                _cleanup_free_ char *expected = read_text(expected_path);

                if (r >= 0 || errors.n_errors == 0) {
                        print_error("%s: loaded without an error; a broken watch list would "
                                    "start the daemon\n",
                                    path);
                        failed++;
                } else if (update && !streq_ptr(got, expected)) {
                        FILE *f = fopen(expected_path, "we");
                        assert_non_null(f);
                        fputs(got, f);
                        fclose(f);
                        print_message("wrote %s\n", expected_path);
                } else if (!expected) {
                        print_error("%s has no %s: every bad case states its exact errors\n", path,
                                    expected_path);
                        failed++;
                } else if (!streq(got, expected)) {
                        print_error("%s: the admin would read\n%s--- instead of\n%s---\n", path,
                                    got, expected);
                        failed++;
                }
                govwatch_prepared_done(&p);
                config_errors_done(&errors);
        }
        print_message("%zu bad configurations checked\n", n);
        assert_int_equal(failed, 0);
}

static void test_expected_files_have_yaml(void **state)
{
        DIR *d = opendir("tests/config/bad");
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l < 10 || strcmp(de->d_name + l - 9, ".expected") != 0)
                        continue;
                char yaml[512];
                snprintf(yaml, sizeof(yaml), "tests/config/bad/%.*s.yaml", (int)(l - 9),
                         de->d_name);
                if (access(yaml, F_OK) < 0)
                        fail_msg("tests/config/bad/%s has no .yaml beside it", de->d_name);
        }
        closedir(d);
}

static struct config *load_ok(const char *yaml)
{
        struct config *c = NULL;
        struct config_errors errors = {0};
        int r = config_load_string("test.yaml", yaml, strlen(yaml), &c, &errors);
        if (r < 0) {
                _cleanup_free_ char *text = errors_text(&errors, "test.yaml");
                fail_msg("expected a valid configuration, got %d:\n%s", r, text);
        }
        config_errors_done(&errors);
        return c;
}

/* Loads yaml that must fail; returns its error lines. */
static char *load_bad(const char *yaml)
{
        struct config *c = NULL;
        struct config_errors errors = {0};
        int r = config_load_string("test.yaml", yaml, strlen(yaml), &c, &errors);
        assert_true(r < 0);
        assert_null(c);
        char *text = errors_text(&errors, "test.yaml");
        config_errors_done(&errors);
        return text;
}

#define MINIMAL                                                                                    \
        "sinks: {screen: {type: console}}\n"                                                       \
        "watch:\n"                                                                                 \
        "  - {topic: t, communities: [sevadm], sinks: [screen]}\n"

static void test_defaults(void **state)
{
        setenv("GOVWATCH_VK_TOKEN", "x", 1);
        struct config *c = load_ok(MINIMAL);

        assert_string_equal(c->vk.api_url, "https://api.vk.com/method");
        assert_null(c->vk.token_file);
        assert_string_equal(c->vk.version, "5.199");
        assert_true(c->vk.requests_per_second == 3.0);
        assert_int_equal(c->vk.daily_wall_get, 5000);
        assert_int_equal(c->vk.timeout_usec, 30 * USEC_PER_SEC);
        assert_int_equal(c->vk.wall_count, 20);
        assert_string_equal(c->state_dir, "/var/lib/govwatch");
        assert_int_equal(c->poll_interval_usec, 5 * USEC_PER_MINUTE);
        assert_int_equal(c->min_interval_usec, 2 * USEC_PER_MINUTE);
        assert_int_equal(c->max_interval_usec, 6 * USEC_PER_HOUR);
        assert_string_equal(c->timezone, "Europe/Moscow");
        assert_true(c->skip_ads);
        assert_true(c->skip_donut);
        assert_false(c->resend_on_category_change);
        assert_int_equal(c->remind_before_usec, 15 * USEC_PER_MINUTE);
        assert_int_equal(c->outbox_expire_usec, 4 * USEC_PER_DAY);
        assert_int_equal(c->history_keep_usec, 30 * USEC_PER_DAY);
        assert_null(c->alerts);
        assert_null(c->classifier.rules_file);
        assert_int_equal(c->classifier.n_user, 0);

        assert_int_equal(c->n_sinks, 1);
        const struct sink_conf *s = &c->sinks[0];
        assert_string_equal(s->name, "screen");
        assert_string_equal(s->type, "console");
        assert_int_equal(s->mark.line, 1);
        assert_int_equal(s->mark.column, 9);
        assert_null(s->quiet_hours);
        assert_int_equal(s->quiet_start_min, -1);
        assert_int_equal(s->quiet_end_min, -1);
        assert_false(s->quiet_emergency);
        assert_int_equal(s->concurrency, 0); /* the type's own: sink_concurrency() */
        assert_int_equal(s->timeout_usec, 30 * USEC_PER_SEC);
        assert_int_equal(s->max_length, 0);
        assert_null(s->settings); /* a console has no keys of its own */

        assert_int_equal(c->n_watch, 1);
        const struct watch_conf *w = &c->watch[0];
        assert_string_equal(w->topic, "t");
        assert_true(w->all_categories);
        assert_false(w->uncategorized);
        assert_int_equal(w->priority, 1);
        assert_int_equal(w->backfill, 0);
        assert_int_equal(w->n_sinks, 1);
        assert_int_equal(w->sinks[0], 0);
        assert_int_equal(w->n_communities, 1);
        assert_int_equal(w->communities[0].kind, COMMUNITY_REF_SCREEN_NAME);
        assert_string_equal(w->communities[0].screen_name, "sevadm");
        assert_int_equal(w->communities[0].mark.line, 3);
        assert_int_equal(w->communities[0].mark.column, 30);

        assert_string_equal(c->category_names[0], "live");
        assert_string_equal(c->category_names[5], "civic");
        assert_null(c->category_names[6]);
        config_free(c);
        clean_environment();
}

static void test_good_files(void **state)
{
        _cleanup_strv_free_ char **names = list_yaml("tests/config/good");
        assert_true(strv_length(names) >= 2);
        setenv("GOVWATCH_VK_TOKEN", "x", 1);
        for (size_t i = 0; names[i]; i++) {
                char path[512];
                snprintf(path, sizeof(path), "tests/config/good/%s.yaml", names[i]);
                struct config *c = NULL;
                struct config_errors errors = {0};
                int r = config_load(path, &c, &errors);
                if (r < 0) {
                        _cleanup_free_ char *text = errors_text(&errors, path);
                        fail_msg("%s should load, got:\n%s", path, text);
                }
                config_free(c);
                config_errors_done(&errors);
        }
        clean_environment();
}

static void test_full_file_values(void **state)
{
        struct config *c = NULL;
        struct config_errors errors = {0};
        /* full.yaml names its own token_file: no environment needed */
        int r = config_load("tests/config/good/full.yaml", &c, &errors);
        if (r < 0) {
                _cleanup_free_ char *text = errors_text(&errors, "full.yaml");
                fail_msg("%s", text);
        }

        assert_string_equal(c->vk.api_url, "http://127.0.0.1:8080/method");
        assert_non_null(strstr(c->vk.token_file, "/tests/config/good/../vk-token"));
        assert_true(c->vk.token_file[0] == '/'); /* relative to the file, made absolute */
        assert_true(c->vk.requests_per_second == 2.5);
        assert_int_equal(c->vk.daily_wall_get, 4000);
        assert_int_equal(c->vk.timeout_usec, 90 * USEC_PER_SEC);
        assert_int_equal(c->vk.wall_count, 50);
        assert_string_equal(c->state_dir, "/tmp/govwatch-state");
        assert_int_equal(c->poll_interval_usec, USEC_PER_HOUR + 30 * USEC_PER_MINUTE);
        assert_int_equal(c->min_interval_usec, 90 * USEC_PER_SEC);
        assert_int_equal(c->max_interval_usec, 2 * USEC_PER_HOUR);
        assert_string_equal(c->timezone, "Asia/Yekaterinburg");
        assert_false(c->skip_ads);
        assert_false(c->skip_donut);
        assert_true(c->resend_on_category_change);
        assert_int_equal(c->remind_before_usec, 0);
        assert_int_equal(c->outbox_expire_usec, 2 * USEC_PER_DAY);
        assert_int_equal(c->history_keep_usec, 7 * USEC_PER_DAY);
        assert_int_equal(strv_length(c->alerts), 1);
        assert_string_equal(c->alerts[0], "mail");

        /* classifier: one addition to a built-in, one new category */
        assert_non_null(strstr(c->classifier.rules_file, "/tests/config/good/rules/rules.yaml"));
        assert_int_equal(c->classifier.n_user, 2);
        assert_string_equal(c->classifier.user[0].name, "outage");
        assert_string_equal(c->classifier.user[0].phrases[0], "нет воды");
        assert_null(c->classifier.user[0].regexes);
        assert_string_equal(c->classifier.user[0].exclude[0], "восстановлено");
        assert_string_equal(c->classifier.user[1].name, "sport");
        assert_int_equal(strv_length(c->classifier.user[1].regexes), 1);
        assert_string_equal(c->category_names[6], "sport");
        assert_null(c->category_names[7]);

        assert_int_equal(c->n_sinks, 5);
        const struct sink_conf *s = &c->sinks[config_find_sink(c, "desktop")];
        assert_string_equal(s->type, "desktop");
        assert_string_equal(OWN(s, "bus_address", char *), "unix:path=/run/user/1000/bus");
        char *const *urgency = own_value(s, "urgency", NULL);
        assert_string_equal(urgency[CATEGORY_LIVE], "critical");
        assert_string_equal(urgency[CATEGORY_SCHEDULE], "low");
        assert_null(urgency[CATEGORY_SERVICE]);
        assert_string_equal(s->quiet_hours, "23:00-07:30");
        assert_int_equal(s->quiet_start_min, 23 * 60);
        assert_int_equal(s->quiet_end_min, 7 * 60 + 30);
        assert_true(s->quiet_emergency);
        assert_string_equal(s->template_title, "{community}: {category}");
        assert_string_equal(s->template_body, "{excerpt}\n{url}");
        assert_int_equal(s->max_length, 300);

        s = &c->sinks[config_find_sink(c, "mail")];
        assert_string_equal(OWN(s, "url", char *), "smtps://smtp.example.org:465");
        assert_string_equal(own_word(s, "starttls"), "never");
        assert_string_equal(OWN(s, "ca_file", char *), "/etc/ssl/certs/ca-certificates.crt");
        assert_string_equal(OWN(s, "username", char *), "govwatch");
        assert_string_equal(OWN(s, "password_file", char *),
                            "/run/credentials/govwatchd.service/smtp-password");
        assert_string_equal(OWN(s, "from", char *), "Госпаблики <govwatch@example.org>");
        char *const *to = OWN(s, "to", char **);
        assert_int_equal(strv_length((char **)to), 2);
        assert_string_equal(to[1], "neighbour@example.org");
        assert_int_equal(OWN(s, "digest", uint64_t), USEC_PER_HOUR);
        assert_int_equal(s->concurrency, 2);
        assert_int_equal(s->timeout_usec, USEC_PER_MINUTE);

        s = &c->sinks[config_find_sink(c, "hook")];
        char *const *command = OWN(s, "command", char **);
        assert_string_equal(command[0], "/bin/cat");
        assert_string_equal(command[1], "--json");
        assert_null(command[2]);

        s = &c->sinks[config_find_sink(c, "web")];
        assert_string_equal(OWN(s, "url", char *), "https://example.org/hook");
        assert_int_equal(config_find_sink(c, "nope"), -1);

        assert_int_equal(c->n_watch, 2);
        const struct watch_conf *w = &c->watch[0];
        assert_string_equal(w->topic, "Северский район");
        assert_false(w->all_categories);
        assert_int_equal(w->categories,
                         (1u << CATEGORY_LIVE) | (1u << CATEGORY_SCHEDULE) | (UINT64_C(1) << 6));
        assert_true(w->uncategorized);
        assert_int_equal(w->priority, 10);
        assert_int_equal(w->backfill, 3);
        assert_int_equal(w->max_interval_usec, 30 * USEC_PER_MINUTE);
        assert_int_equal(c->watch[1].max_interval_usec, 0); /* unset: the scheduler's bound */
        assert_int_equal(w->n_sinks, 2);                    /* "desktop" twice counts once */
        assert_int_equal(w->sinks[0], config_find_sink(c, "desktop"));
        assert_int_equal(w->sinks[1], config_find_sink(c, "mail"));
        assert_int_equal(w->n_communities, 4);
        assert_int_equal(w->communities[0].kind, COMMUNITY_REF_SCREEN_NAME);
        assert_string_equal(w->communities[0].screen_name, "sevadm");
        assert_string_equal(w->communities[0].raw, "https://vk.com/sevadm");
        assert_int_equal(w->communities[1].owner_id, -85425388);
        assert_int_equal(w->communities[2].kind, COMMUNITY_REF_USER_ID);
        assert_int_equal(w->communities[3].owner_id, -789);

        w = &c->watch[1];
        assert_true(w->all_categories);
        /* the alias repeats the first entry's sinks */
        assert_int_equal(w->n_sinks, 2);
        config_free(c);
        config_errors_done(&errors);
}

static void test_example_config(void **state)
{
        /* conf/govwatch.yaml is installed to /etc/govwatch: it must pass check-config as
         * shipped, given a token the way systemd passes one. */
        setenv("CREDENTIALS_DIRECTORY", "tests/config", 1);
        struct config *c = NULL;
        struct config_errors errors = {0};
        int r = config_load("conf/govwatch.yaml", &c, &errors);
        if (r < 0) {
                _cleanup_free_ char *text = errors_text(&errors, "conf/govwatch.yaml");
                fail_msg("%s", text);
        }
        assert_true(c->n_watch >= 1);
        assert_true(c->n_sinks >= 5);
        /* every sink type is shown, but only the console one is used */
        for (size_t i = 0; i < c->n_watch; i++)
                for (size_t j = 0; j < c->watch[i].n_sinks; j++)
                        assert_string_equal(c->sinks[c->watch[i].sinks[j]].type, "console");
        config_free(c);
        config_errors_done(&errors);
        clean_environment();
}

static void test_community_ref(void **state)
{
        static const struct {
                const char *in;
                enum community_ref_kind kind;
                int64_t owner_id;
                const char *screen_name;
        } good[] = {
                {"https://vk.com/sevadm", COMMUNITY_REF_SCREEN_NAME, 0, "sevadm"},
                {"http://vk.com/sevadm/", COMMUNITY_REF_SCREEN_NAME, 0, "sevadm"},
                {"https://m.vk.com/Kuban24_TV", COMMUNITY_REF_SCREEN_NAME, 0, "kuban24_tv"},
                {"https://www.vk.com/o23rf?from=search", COMMUNITY_REF_SCREEN_NAME, 0, "o23rf"},
                {"vk.com/kondratyevvi", COMMUNITY_REF_SCREEN_NAME, 0, "kondratyevvi"},
                {"https://vk.ru/opershtab23", COMMUNITY_REF_SCREEN_NAME, 0, "opershtab23"},
                {"https://vk.com/public85425388", COMMUNITY_REF_ID, -85425388, NULL},
                {"club123", COMMUNITY_REF_ID, -123, NULL},
                {"public456", COMMUNITY_REF_ID, -456, NULL},
                {"event789", COMMUNITY_REF_ID, -789, NULL},
                {"id1", COMMUNITY_REF_USER_ID, 1, NULL},
                {"-789", COMMUNITY_REF_ID, -789, NULL},
                {"123", COMMUNITY_REF_USER_ID, 123, NULL},
                {"-9223372036854775807", COMMUNITY_REF_ID, -INT64_MAX, NULL},
                {"some_screen.name", COMMUNITY_REF_SCREEN_NAME, 0, "some_screen.name"},
                {"clubfoo", COMMUNITY_REF_SCREEN_NAME, 0, "clubfoo"},
                {"idiot", COMMUNITY_REF_SCREEN_NAME, 0, "idiot"},
                {"ab", COMMUNITY_REF_SCREEN_NAME, 0, "ab"},
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                struct community_ref ref = {0};
                const char *reason = NULL;
                int r = community_ref_parse(good[i].in, &ref, &reason);
                if (r < 0)
                        fail_msg("'%s' refused: %s", good[i].in, reason);
                assert_int_equal(ref.kind, good[i].kind);
                assert_string_equal(ref.raw, good[i].in);
                if (good[i].screen_name)
                        assert_string_equal(ref.screen_name, good[i].screen_name);
                else {
                        assert_null(ref.screen_name);
                        assert_true(ref.owner_id == good[i].owner_id);
                }
                community_ref_done(&ref);
        }

        static const struct {
                const char *in, *reason;
        } bad[] = {
                {"", "empty"},
                {"https://ok.ru/group/1", "not a VK address (expected vk.com/NAME or vk.ru/NAME)"},
                {"https://vk.com/", "no community name after the address"},
                {"https://vk.com/wall-123_456", "a link to a post, not a community"},
                {"https://vk.com/sevadm/photos", "a link to a page inside a community, not a "
                                                 "community"},
                {"-0", "0 is not a VK id"},
                {"club0", "0 is not a VK id"},
                {"-12a", "a negative id must be all digits"},
                {"99999999999999999999", "id out of range"},
                {"a", "a screen name has at least 2 characters"},
                {"abcdefghijklmnopqrstuvwxyz0123456", "a screen name has at most 32 characters"},
                {"севадм", "a screen name has only latin letters, digits, '_' and '.'"},
                {"sev adm", "a screen name has only latin letters, digits, '_' and '.'"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct community_ref ref = {.kind = 42};
                const char *reason = NULL;
                assert_int_equal(community_ref_parse(bad[i].in, &ref, &reason), -EINVAL);
                assert_string_equal(reason, bad[i].reason);
                assert_int_equal(ref.kind, 42); /* untouched on failure */
        }
}

static void test_durations_and_bools(void **state)
{
        static const struct {
                const char *text;
                uint64_t usec;
        } durations[] = {
                {"90s", 90 * USEC_PER_SEC},      {"5m", 5 * USEC_PER_MINUTE},
                {"1h30m", 90 * USEC_PER_MINUTE}, {"2d", 2 * USEC_PER_DAY},
                {"45", 45 * USEC_PER_SEC},       {"250ms", 250 * USEC_PER_MSEC},
        };
        static const struct {
                const char *text;
                bool value;
        } bools[] = {
                {"true", true}, {"false", false}, {"yes", true},  {"no", false},
                {"on", true},   {"off", false},   {"True", true}, {"OFF", false},
        };
        setenv("GOVWATCH_VK_TOKEN", "x", 1);
        for (size_t i = 0; i < ELEMENTSOF(durations); i++) {
                char yaml[256];
                snprintf(yaml, sizeof(yaml), MINIMAL "poll_interval: %s\n", durations[i].text);
                struct config *c = load_ok(yaml);
                assert_int_equal(c->poll_interval_usec, durations[i].usec);
                config_free(c);
        }
        for (size_t i = 0; i < ELEMENTSOF(bools); i++) {
                char yaml[256];
                snprintf(yaml, sizeof(yaml), MINIMAL "skip_ads: %s\nskip_donut: %s\n",
                         bools[i].text, bools[i].text);
                struct config *c = load_ok(yaml);
                assert_int_equal(c->skip_ads, bools[i].value);
                assert_int_equal(c->skip_donut, bools[i].value);
                config_free(c);
        }

        _cleanup_free_ char *e1 = load_bad(MINIMAL "poll_interval: 5x\n");
        assert_string_equal(e1, "test.yaml:4:16: expected a duration like 5m, got '5x'\n");
        _cleanup_free_ char *e2 = load_bad(MINIMAL "poll_interval: 0\n");
        assert_string_equal(e2, "test.yaml:4:16: 'poll_interval' must be longer than 0\n");
        _cleanup_free_ char *e3 = load_bad(MINIMAL "skip_ads: 1\n");
        assert_string_equal(e3, "test.yaml:4:11: expected a boolean (true/false, yes/no, on/off), "
                                "got '1'\n");
        _cleanup_free_ char *e4 = load_bad(MINIMAL "resend_on_category_change: [yes]\n");
        assert_string_equal(e4, "test.yaml:4:28: expected a boolean (true/false, yes/no, on/off), "
                                "got a list\n");
        clean_environment();
}

/* The zone the config accepts is the one the daemon reads offsets in, loaded by the check: a
 * zone directory gone after a (re)load cannot leave notifications in UTC. */
static void test_timezone(void **state)
{
        const char *dir = getenv("TZDIR");
        _cleanup_free_ char *saved_dir = dir ? strdup(dir) : NULL;
        const struct tz *tz;
        int32_t offset;

        setenv("GOVWATCH_VK_TOKEN", "x", 1);
        struct config *c = load_ok(MINIMAL "timezone: Asia/Vladivostok\n");
        setenv("TZDIR", "/nonexistent", 1);
        assert_int_equal(tz_cache_get(c->timezone, &tz), 0);
        assert_string_equal(tz_name(tz), "Asia/Vladivostok");
        assert_int_equal(tz_utc_offset(c->timezone, 1780315200, &offset), 0);
        assert_int_equal(offset, 10 * 3600);
        if (saved_dir)
                setenv("TZDIR", saved_dir, 1);
        else
                unsetenv("TZDIR");
        config_free(c);

        _cleanup_free_ char *e1 = load_bad(MINIMAL "timezone: Asia/Vladivostock\n");
        assert_string_equal(e1, "test.yaml:4:11: unknown time zone 'Asia/Vladivostock'\n");
        _cleanup_free_ char *e2 = load_bad(MINIMAL "timezone: \"\"\n");
        assert_string_equal(e2, "test.yaml:4:11: 'timezone' must not be empty\n");
        _cleanup_free_ char *e3 = load_bad(MINIMAL "timezone: /etc/localtime\n");
        assert_string_equal(e3, "test.yaml:4:11: '/etc/localtime' is not a time zone name like "
                                "Europe/Moscow\n");
        clean_environment();
}

static char *write_temp(const char *content)
{
        char *path = strdup("/tmp/govwatch-test-token-XXXXXX");
        assert_non_null(path);
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
        close(fd);
        return path;
}

static void test_token(void **state)
{
        struct config c = {0};
        char *token = NULL;

        /* nothing anywhere */
        assert_int_equal(config_read_token(&c, &token), -ENOKEY);

        /* the environment, with a stray newline from `export X=$(cat file)` habits */
        setenv("GOVWATCH_VK_TOKEN", "vk1.env-token\n", 1);
        assert_int_equal(config_read_token(&c, &token), 0);
        assert_string_equal(token, "vk1.env-token");
        free(token);

        /* a file wins over the environment */
        _cleanup_free_ char *path = write_temp("vk1.file-token\n");
        c.vk.token_file = path;
        assert_int_equal(config_read_token(&c, &token), 0);
        assert_string_equal(token, "vk1.file-token");
        free(token);
        unlink(path);

        /* an unreadable file is an error, not a fall-back to the environment */
        assert_int_equal(config_read_token(&c, &token), -ENOENT);

        _cleanup_free_ char *empty = write_temp("\n");
        c.vk.token_file = empty;
        assert_int_equal(config_read_token(&c, &token), -ENODATA);
        unlink(empty);

        /* a token that would smuggle a second header line is refused */
        _cleanup_free_ char *split = write_temp("vk1.a\r\nX-Evil: 1\n");
        c.vk.token_file = split;
        assert_int_equal(config_read_token(&c, &token), -EBADMSG);
        unlink(split);

        /* systemd credentials, when neither a file nor the environment says otherwise */
        c.vk.token_file = NULL;
        unsetenv("GOVWATCH_VK_TOKEN");
        setenv("CREDENTIALS_DIRECTORY", "tests/config", 1);
        assert_int_equal(config_read_token(&c, &token), 0);
        assert_string_equal(token, "test-token-not-a-secret");
        free(token);

        setenv("CREDENTIALS_DIRECTORY", "/nonexistent", 1);
        assert_int_equal(config_read_token(&c, &token), -ENOKEY);
        clean_environment();
}

static void test_token_source_from_credentials(void **state)
{
        /* A config with no token_file is fine under systemd's LoadCredential=, and also where
         * the credential is out of sight (check-config as root outside the service): the file is
         * not at fault; reading the token is what fails, with its own error. */
        setenv("CREDENTIALS_DIRECTORY", "tests/config", 1);
        struct config *c = load_ok(MINIMAL);
        char *token = NULL;
        assert_int_equal(config_read_token(c, &token), 0);
        free(token);
        token = NULL;
        config_free(c);
        clean_environment();
        c = load_ok(MINIMAL);
        assert_int_equal(config_read_token(c, &token), -ENOKEY);
        assert_null(token);
        config_free(c);
}

static void test_state_directory(void **state)
{
        setenv("GOVWATCH_VK_TOKEN", "x", 1);
        setenv("STATE_DIRECTORY", "/var/lib/private/govwatch:/var/lib/other", 1);
        struct config *c = load_ok(MINIMAL);
        assert_string_equal(c->state_dir, "/var/lib/private/govwatch");
        config_free(c);

        /* an explicit state_dir wins over systemd's */
        c = load_ok(MINIMAL "state_dir: /srv/govwatch\n");
        assert_string_equal(c->state_dir, "/srv/govwatch");
        config_free(c);
        clean_environment();
}

static void test_aliases_within_limits(void **state)
{
        setenv("GOVWATCH_VK_TOKEN", "x", 1);
        struct config *c = load_ok("sinks: {a: {type: console}, b: {type: console}}\n"
                                   "watch:\n"
                                   "  - {topic: x, communities: [c1a], sinks: &both [a, b]}\n"
                                   "  - {topic: y, communities: [c2a], sinks: *both}\n"
                                   "  - {topic: z, communities: [c3a], sinks: *both}\n");
        assert_int_equal(c->n_watch, 3);
        assert_int_equal(c->watch[2].n_sinks, 2);
        config_free(c);
        clean_environment();
}

static double elapsed_since(const struct timespec *start)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

static void test_hostile_input_is_refused_quickly(void **state)
{
        struct timespec start;
        struct strbuf sb = {0};

        /* 100 000 levels took libyaml alone ~30 s: the cap must stop it at level 65 */
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (int i = 0; i < 100000; i++)
                assert_int_equal(strbuf_puts(&sb, "["), 0);
        struct config *c = NULL;
        struct config_errors errors = {0};
        assert_int_equal(config_load_string("deep.yaml", sb.buf, sb.len, &c, &errors), -EINVAL);
        assert_int_equal(errors.n_errors, 1);
        assert_string_equal(errors.errors[0].message, "nesting deeper than 64 levels");
        assert_int_equal(errors.errors[0].mark.column, 65);
        config_errors_done(&errors);
        strbuf_done(&sb);
        assert_true(elapsed_since(&start) < 2.0);

        /* a wide billion laughs: few aliases, each copying a large list */
        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(strbuf_puts(&sb, "a: &a ["), 0);
        for (int i = 0; i < 5000; i++)
                assert_int_equal(strbuf_puts(&sb, "x,"), 0);
        assert_int_equal(strbuf_puts(&sb, "x]\nb: [*a, *a, *a]\n"), 0);
        assert_int_equal(config_load_string("wide.yaml", sb.buf, sb.len, &c, &errors), -EINVAL);
        assert_int_equal(errors.n_errors, 1);
        assert_non_null(strstr(errors.errors[0].message, "aliases expand to more than"));
        config_errors_done(&errors);
        strbuf_done(&sb);
        assert_true(elapsed_since(&start) < 2.0);

        /* too large: refused before parsing */
        size_t big = 1024 * 1024 + 1;
        char *data = malloc(big);
        assert_non_null(data);
        memset(data, '#', big);
        assert_int_equal(config_load_string("big.yaml", data, big, &c, &errors), -EFBIG);
        _cleanup_free_ char *text = errors_text(&errors, "big.yaml");
        assert_string_equal(text, "big.yaml: configuration is larger than 1024 KiB, refusing it\n");
        config_errors_done(&errors);
        free(data);
}

struct key_names {
        char names[32][64];
        size_t n;
};

static bool key_names_have(const struct key_names *k, const char *name)
{
        for (size_t i = 0; i < k->n; i++)
                if (streq(k->names[i], name))
                        return true;
        return false;
}

static int collect_common_sink_key(const struct config_key *key, void *userdata)
{
        struct key_names *common = userdata;
        const char *prefix = "sinks.NAME.";
        if (strncmp(key->path, prefix, strlen(prefix)) != 0 || key->only_for)
                return 0;
        assert_true(common->n < ELEMENTSOF(common->names));
        snprintf(common->names[common->n++], sizeof(common->names[0]), "%s",
                 key->path + strlen(prefix));
        return 0;
}

/* Each sink type's own keys, as the registry hands them to the loader. A key that shadowed one
 * every sink has would be parsed twice, a repeated one into one field only, a section or a
 * custom parser is config.c's own, and a field past the struct would be written out of bounds:
 * a new sink type's table gets these right, or this fails. */
static void test_sink_type_tables(void **state)
{
        struct key_names common = {0};
        assert_int_equal(config_keys_foreach(collect_common_sink_key, &common), 0);
        assert_true(key_names_have(&common, "type"));
        assert_true(key_names_have(&common, "quiet_hours"));

        for (const struct sink_ops *const *ops = sink_registry; *ops; ops++) {
                const struct sink_ops *o = *ops;
                assert_ptr_equal(sink_ops_find(o->type), o);
                assert_true((o->n_settings == 0) == (o->settings_size == 0));
                for (size_t i = 0; i < o->n_settings; i++) {
                        const struct setting *s = &o->settings[i];
                        if (key_names_have(&common, s->key))
                                fail_msg("%s: '%s' is a key every sink has", o->type, s->key);
                        for (size_t j = 0; j < i; j++)
                                assert_string_not_equal(o->settings[j].key, s->key);
                        assert_true(s->type != SETTING_SECTION && s->type != SETTING_CUSTOM);
                        assert_true(s->offset < o->settings_size);
                        assert_non_null(s->description);
                        assert_true(s->type != SETTING_ENUM || s->enum_values);
                        assert_true(s->type != SETTING_CATEGORY_MAP || s->enum_values);
                }
        }
}

static void test_settings_reference(void **state)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        assert_non_null(f);
        config_settings_print(f);
        fclose(f);
        /* the reference comes from the parsing tables, so it names what the parser accepts */
        assert_non_null(strstr(text, "vk.requests_per_second (default: 3)\n"));
        assert_non_null(strstr(text, "sinks.NAME.starttls [email] (default: required)\n"));
        assert_non_null(strstr(text, "required, optional, never"));
        assert_non_null(strstr(text, "watch[].topic (required)\n"));
        free(text);
}

/* Loads text (which must be refused) and returns its errors; checks that each is bounded. */
static struct config_errors load_refused(const char *text, size_t len)
{
        struct config *c = NULL;
        struct config_errors errors = {0};
        assert_true(config_load_string("big.yaml", text, len, &c, &errors) < 0);
        assert_null(c);
        assert_true(errors.n_errors > 0);
        for (size_t i = 0; i < errors.n_errors; i++)
                if (strlen(errors.errors[i].message) > 512)
                        fail_msg("a message of %zu bytes: %.100s...",
                                 strlen(errors.errors[i].message), errors.errors[i].message);
        return errors;
}

static bool errors_have(const struct config_errors *e, const char *needle)
{
        for (size_t i = 0; i < e->n_errors; i++)
                if (strstr(e->errors[i].message, needle))
                        return true;
        return false;
}

/* A file with thousands of mistakes gets 100 messages of bounded size and a count of the rest,
 * and names no more than a few of the many sinks it defines. */
static void test_many_unknown_sinks_bounded(void **state)
{
        struct strbuf sb = {0};
        assert_int_equal(strbuf_puts(&sb, "vk: {token_file: tests/config/vk-token}\nsinks:\n"), 0);
        for (int i = 0; i < 200; i++)
                assert_int_equal(strbuf_appendf(&sb, "  defined-sink-%03d: {type: console}\n", i),
                                 0);
        assert_int_equal(strbuf_puts(&sb, "watch:\n  - topic: t\n    communities: [club1]\n"
                                          "    sinks: [defined-sink-000"),
                         0);
        for (int i = 0; i < 20000; i++)
                assert_int_equal(strbuf_appendf(&sb, ", zz%05d", i), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n"), 0);

        struct config_errors errors = load_refused(sb.buf, sb.len);
        assert_int_equal(errors.n_errors, 101);
        assert_string_equal(errors.errors[0].message, "19900 more errors not shown (after the "
                                                      "first 100)");
        assert_non_null(strstr(errors.errors[1].message,
                               "unknown sink 'zz00000' in watch entry (defined: defined-sink-000, "
                               "defined-sink-001, "));
        assert_non_null(strstr(errors.errors[1].message, "defined-sink-007 and 192 more)"));
        config_errors_done(&errors);
        strbuf_done(&sb);
}

/* 256 sinks whose names differ only at the end: every reference finds its own sink (by binary
 * search), a name said twice counts once, and a slip at the end is told its nearest name. */
static void test_sink_lookup(void **state)
{
        struct strbuf sb = {0};
        char prefix[57];
        memset(prefix, 'x', sizeof(prefix) - 1);
        prefix[sizeof(prefix) - 1] = '\0';
        assert_int_equal(strbuf_puts(&sb, "vk: {token_file: tests/config/vk-token}\nsinks:\n"), 0);
        for (int i = 0; i < 256; i++)
                assert_int_equal(strbuf_appendf(&sb, "  s%s%03d: {type: console}\n", prefix, i), 0);
        assert_int_equal(
                strbuf_puts(&sb, "watch:\n  - topic: t\n    communities: [club1]\n    sinks: ["),
                0);
        for (int i = 255; i >= 0; i--) /* backwards, and each twice */
                assert_int_equal(strbuf_appendf(&sb, "s%s%03d, s%s%03d%s", prefix, i, prefix, i,
                                                i ? ", " : "]\n"),
                                 0);
        struct config *c = load_ok(sb.buf);
        assert_int_equal(c->n_sinks, 256);
        assert_int_equal(c->watch[0].n_sinks, 256);
        for (size_t i = 0; i < 256; i++) {
                assert_int_equal(c->watch[0].sinks[i], 255 - i);
                assert_int_equal(config_find_sink(c, c->sinks[i].name), (ssize_t)i);
        }
        assert_int_equal(config_find_sink(c, "s"), -1);
        assert_int_equal(config_find_sink(c, ""), -1);
        config_free(c);

        /* "...17" for "...170": one letter short, the nearest of 256 near names */
        sb.len = 0;
        assert_int_equal(strbuf_puts(&sb, "vk: {token_file: tests/config/vk-token}\nsinks:\n"), 0);
        for (int i = 0; i < 256; i++)
                assert_int_equal(strbuf_appendf(&sb, "  s%s%03d: {type: console}\n", prefix, i), 0);
        assert_int_equal(strbuf_appendf(&sb,
                                        "watch:\n  - topic: t\n    communities: [club1]\n"
                                        "    sinks: [s%s17x0]\n",
                                        prefix),
                         0);
        struct config_errors e = load_refused(sb.buf, sb.len);
        assert_int_equal(e.n_errors, 1);
        assert_non_null(strstr(e.errors[0].message, "did you mean 's"));
        assert_non_null(strstr(e.errors[0].message, "170'?"));
        config_errors_done(&e);
        strbuf_done(&sb);
}

static void test_work_bounds(void **state)
{
        struct strbuf sb = {0};
        struct config_errors e;
        const char *head = "vk: {token_file: tests/config/vk-token}\n";
        const char *tail = "watch:\n  - {topic: t, communities: [club1], sinks: [s]}\n";

        /* sinks */
        assert_int_equal(strbuf_appendf(&sb, "%ssinks:\n", head), 0);
        for (int i = 0; i < 257; i++)
                assert_int_equal(strbuf_appendf(&sb, "  s%d: {type: console}\n", i), 0);
        e = load_refused(sb.buf, sb.len);
        assert_true(errors_have(&e, "more than 256 sinks"));
        config_errors_done(&e);
        strbuf_done(&sb);

        /* values: a list of a million one-letter names stops at the cap */
        assert_int_equal(
                strbuf_appendf(&sb, "%ssinks: {a: {type: console}}\n%salerts: [a", head, tail), 0);
        for (int i = 0; i < 200000; i++)
                assert_int_equal(strbuf_puts(&sb, ",a"), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n"), 0);
        e = load_refused(sb.buf, sb.len);
        assert_int_equal(e.n_errors, 1);
        assert_string_equal(e.errors[0].message,
                            "more than 100000 values (scalars, lists and mappings): refusing the "
                            "file");
        config_errors_done(&e);
        strbuf_done(&sb);

        /* watch entries (of 7 values each, under the cap on values) */
        assert_int_equal(strbuf_appendf(&sb, "%ssinks: {s: {type: console}}\nwatch:\n", head), 0);
        for (int i = 0; i < 10001; i++)
                assert_int_equal(strbuf_puts(&sb, "- {topic: t, communities: club1, sinks: s}\n"),
                                 0);
        e = load_refused(sb.buf, sb.len);
        assert_int_equal(e.n_errors, 1);
        assert_string_equal(e.errors[0].message, "more than 10000 watch entries");
        assert_int_equal(e.errors[0].mark.line, 10004);
        config_errors_done(&e);
        strbuf_done(&sb);

        /* communities, over all entries */
        assert_int_equal(strbuf_appendf(&sb, "%ssinks: {s: {type: console}}\nwatch:\n", head), 0);
        for (int w = 0; w < 2; w++) {
                assert_int_equal(strbuf_puts(&sb, "- {topic: t, sinks: [s], communities: [club1"),
                                 0);
                for (int i = 1; i < 25001; i++)
                        assert_int_equal(strbuf_puts(&sb, ",club1"), 0);
                assert_int_equal(strbuf_puts(&sb, "]}\n"), 0);
        }
        e = load_refused(sb.buf, sb.len);
        assert_int_equal(e.n_errors, 1);
        assert_string_equal(e.errors[0].message, "more than 50000 communities in the watch list");
        config_errors_done(&e);
        strbuf_done(&sb);

        /* the classifier's phrases, regexes and exclusions */
        assert_int_equal(strbuf_appendf(&sb, "%ssinks: {s: {type: console}}\n%s", head, tail), 0);
        assert_int_equal(
                strbuf_puts(&sb, "classifier:\n  categories:\n    live:\n      phrases: [a"), 0);
        for (int i = 0; i < 600; i++)
                assert_int_equal(strbuf_puts(&sb, ",a"), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n    outage:\n      exclude: [b"), 0);
        for (int i = 0; i < 400; i++)
                assert_int_equal(strbuf_puts(&sb, ",b"), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n"), 0);
        e = load_refused(sb.buf, sb.len);
        assert_int_equal(e.n_errors, 1);
        assert_string_equal(e.errors[0].message,
                            "more than 1000 phrases, regexes and exclusions in the classifier's "
                            "categories");
        config_errors_done(&e);
        strbuf_done(&sb);

        /* regexes, which cost the most a post: a cap of their own, checked before any compiles */
        assert_int_equal(strbuf_appendf(&sb, "%ssinks: {s: {type: console}}\n%s", head, tail), 0);
        assert_int_equal(strbuf_puts(&sb, "classifier:\n  categories:\n    live:\n      regex: ["),
                         0);
        for (int i = 0; i < 60; i++)
                assert_int_equal(strbuf_appendf(&sb, "%s'x%d'", i ? "," : "", i), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n    outage:\n      regex: [\"(\""), 0);
        for (int i = 0; i < 40; i++)
                assert_int_equal(strbuf_appendf(&sb, ",'y%d'", i), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n"), 0);
        e = load_refused(sb.buf, sb.len);
        assert_int_equal(e.n_errors, 1);
        assert_string_equal(e.errors[0].message,
                            "more than 100 regexes in the classifier's categories");
        config_errors_done(&e);
        strbuf_done(&sb);

        /* at the caps: 100 regexes and 900 phrases of an admin's load */
        assert_int_equal(strbuf_appendf(&sb, "%ssinks: {s: {type: console}}\n%s", head, tail), 0);
        assert_int_equal(strbuf_puts(&sb, "classifier:\n  categories:\n    live:\n      regex: ["),
                         0);
        for (int i = 0; i < 100; i++)
                assert_int_equal(strbuf_appendf(&sb, "%s'x%d'", i ? "," : "", i), 0);
        assert_int_equal(strbuf_puts(&sb, "]\n      phrases: ["), 0);
        static const char letters[] = "абвгдежзиклмнопрстуфхцчшщэюя"; /* two bytes each */
        for (int i = 0; i < 900; i++)
                assert_int_equal(strbuf_appendf(&sb, "%s'прием%.2s%.2s граждан'", i ? "," : "",
                                                letters + 2 * (i % 28),
                                                letters + 2 * (i / 28 % 28)),
                                 0);
        assert_int_equal(strbuf_puts(&sb, "]\n"), 0);
        config_free(load_ok(sb.buf));
        strbuf_done(&sb);

        /* lengths: names, a phrase, a regex; and a message quoting a long value stays short */
        char long_word[1100];
        memset(long_word, 'x', sizeof(long_word) - 1);
        long_word[sizeof(long_word) - 1] = '\0';
        assert_int_equal(
                strbuf_appendf(&sb,
                               "%ssinks: {s: {type: console}, %.65s: {type: console}}\n%s"
                               "classifier:\n  rules: /nonexistent/%s.yaml\n  categories:\n"
                               "    %.65s: {phrases: [a]}\n    live:\n      phrases: [%s]\n"
                               "      regex: ['%s']\n",
                               head, long_word, tail, long_word, long_word, long_word, long_word),
                0);
        e = load_refused(sb.buf, sb.len);
        assert_true(errors_have(&e, "is longer than 64 bytes"));
        assert_true(errors_have(&e, "sink name 'xxxx"));
        assert_true(errors_have(&e, "category name 'xxxx"));
        assert_true(errors_have(&e, "is longer than 1024 bytes"));
        /* the rules file is not there: the phrases cannot be judged without it */
        assert_true(errors_have(&e, "classifier.rules: /nonexistent/xxxx"));
        for (size_t i = 0; i < e.n_errors; i++)
                if (strstr(e.errors[i].message, "classifier.rules:"))
                        assert_int_equal(strlen(e.errors[i].message), 512);
        config_errors_done(&e);
        strbuf_done(&sb);

        /* a phrase too long for the classifier, judged against the installed rules */
        assert_int_equal(strbuf_appendf(&sb,
                                        "%ssinks: {s: {type: console}}\n%sclassifier:\n"
                                        "  categories: {live: {phrases: [%s]}}\n",
                                        head, tail, long_word),
                         0);
        e = load_refused(sb.buf, sb.len);
        assert_int_equal(e.n_errors, 1);
        assert_string_equal(e.errors[0].message, "phrase: phrase longer than 1024 bytes");
        config_errors_done(&e);
        strbuf_done(&sb);
}

static void test_unreadable_file(void **state)
{
        struct config *c = NULL;
        struct config_errors errors = {0};
        assert_int_equal(config_load("tests/config/no-such.yaml", &c, &errors), -ENOENT);
        _cleanup_free_ char *text = errors_text(&errors, "tests/config/no-such.yaml");
        assert_string_equal(text, "tests/config/no-such.yaml: cannot read configuration: No such "
                                  "file or directory\n");
        config_errors_done(&errors);

        assert_int_equal(config_load("tests/config", &c, &errors), -EISDIR);
        config_errors_done(&errors);
        assert_null(c);
}

/* A chat shows messages as they arrive: ntfy and telegram send one at a time unless the admin
 * says otherwise, the rest four; the admin's concurrency always wins. */
static void test_sink_concurrency(void **state)
{
        struct sink_conf conf = {.concurrency = 0};
        assert_int_equal(sink_concurrency(&conf, sink_ops_find("telegram")), 1);
        assert_int_equal(sink_concurrency(&conf, sink_ops_find("ntfy")), 1);
        assert_int_equal(sink_concurrency(&conf, sink_ops_find("webhook")), 4);
        assert_int_equal(sink_concurrency(&conf, NULL), 4);
        conf.concurrency = 3;
        assert_int_equal(sink_concurrency(&conf, sink_ops_find("telegram")), 3);
}

int main(void)
{
        const char *dir = getenv("GOVWATCH_SOURCE_DIR");
        if (!dir || !*dir) {
                fprintf(stderr, "GOVWATCH_SOURCE_DIR is not set: run this test through ctest, "
                                "or set it to the source tree\n");
                return 1;
        }
        source_dir = strdup(dir);
        /* paths in messages are printed as given: load them relative to the source tree */
        if (chdir(source_dir) < 0) {
                fprintf(stderr, "cannot enter %s: %m\n", source_dir);
                return 1;
        }

        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_bad_files, setup),
                cmocka_unit_test_setup(test_expected_files_have_yaml, setup),
                cmocka_unit_test_setup(test_defaults, setup),
                cmocka_unit_test_setup(test_good_files, setup),
                cmocka_unit_test_setup(test_full_file_values, setup),
                cmocka_unit_test_setup(test_example_config, setup),
                cmocka_unit_test_setup(test_community_ref, setup),
                cmocka_unit_test_setup(test_durations_and_bools, setup),
                cmocka_unit_test_setup(test_timezone, setup),
                cmocka_unit_test_setup(test_token, setup),
                cmocka_unit_test_setup(test_token_source_from_credentials, setup),
                cmocka_unit_test_setup(test_state_directory, setup),
                cmocka_unit_test_setup(test_aliases_within_limits, setup),
                cmocka_unit_test_setup(test_hostile_input_is_refused_quickly, setup),
                cmocka_unit_test_setup(test_settings_reference, setup),
                cmocka_unit_test_setup(test_sink_type_tables, setup),
                cmocka_unit_test_setup(test_unreadable_file, setup),
                cmocka_unit_test_setup(test_many_unknown_sinks_bounded, setup),
                cmocka_unit_test_setup(test_work_bounds, setup),
                cmocka_unit_test_setup(test_sink_lookup, setup),
                cmocka_unit_test_setup(test_sink_concurrency, setup),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        free(source_dir);
        return r;
}
