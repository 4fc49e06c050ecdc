/* test-store.c — the SQLite store on a real file. A failure here means a post could be seen
 * twice, a notification lost between "seen" and "queued", or a restart could forget state. */
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-helpers.h"

#include "store.h"

static char *make_dir(void)
{
        char tmpl[] = "/tmp/govwatch-test-store-XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        return strdup(tmpl);
}

static void remove_dir(const char *dir)
{
        char path[512];
        const char *files[] = {STORE_FILENAME, STORE_FILENAME "-wal", STORE_FILENAME "-shm"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                unlink(path);
        }
        rmdir(dir);
}

static void test_schema_and_reopen(void **state)
{
        _cleanup_free_ char *dir = make_dir();
        _cleanup_free_ char *sub = NULL;
        struct store *s = NULL;
        assert_true(asprintf(&sub, "%s/state/nested", dir) > 0);

        /* state_dir is created when missing */
        assert_int_equal(store_open(sub, &s), 0);
        struct community_state c = {.owner_id = -210000101,
                                    .name = "Администрация",
                                    .first_seen = 1000,
                                    .last_poll = 1000,
                                    .last_post_id = 42,
                                    .last_post_date = 999};
        assert_int_equal(store_community_put(s, &c), 0);
        assert_int_equal(store_post_put(s, -210000101, 42, 999, 0, 3, 1000), 0);
        s = store_free(s);

        /* and it all survives a reopen */
        assert_int_equal(store_open(sub, &s), 0);
        struct community_state got = {0};
        assert_int_equal(store_community_get(s, -210000101, &got), 0);
        assert_string_equal(got.name, "Администрация");
        assert_true(got.last_post_id == 42);
        assert_true(got.first_seen == 1000);
        community_state_done(&got);
        uint64_t cats = 0;
        assert_int_equal(store_post_get(s, -210000101, 42, &cats, NULL), 0);
        assert_true(cats == 3);
        assert_int_equal(store_post_get(s, -210000101, 43, NULL, NULL), -ENOENT);
        assert_int_equal(store_community_get(s, -1, &got), -ENOENT);
        s = store_free(s);

        /* read-only open for `status` works beside it */
        assert_int_equal(store_open_readonly(sub, &s), 0);
        assert_int_equal(store_community_get(s, -210000101, &got), 0);
        community_state_done(&got);
        s = store_free(s);

        remove_dir(sub);
        char *slash = strrchr(sub, '/');
        *slash = '\0';
        rmdir(sub);
        remove_dir(dir);
}

static void test_outbox_cycle(void **state)
{
        _cleanup_free_ char *dir = make_dir();
        struct store *s = NULL;
        assert_int_equal(store_open(dir, &s), 0);

        char *cats[] = {"live", "service", NULL};
        char *sinks[] = {"screen", "mail", NULL};
        struct notification n = {.kind = "post",
                                 .owner_id = -7,
                                 .post_id = 9,
                                 .community = "Поликлиника",
                                 .topic = "Здоровье",
                                 .url = "https://vk.com/wall-7_9",
                                 .text = "Запись к врачу",
                                 .categories = cats,
                                 .date = 100,
                                 .created = 200};

        /* a seen post and its outbox rows commit together... */
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_post_put(s, -7, 9, 100, 0, 1, 200), 0);
        assert_int_equal(store_outbox_add(s, &n, sinks, 200), 0);
        assert_int_equal(store_commit(s), 0);
        assert_true(n.id > 0);

        /* ...or not at all */
        struct notification n2 = n;
        n2.post_id = 10;
        assert_int_equal(store_begin(s), 0);
        assert_int_equal(store_post_put(s, -7, 10, 100, 0, 1, 200), 0);
        assert_int_equal(store_outbox_add(s, &n2, sinks, 200), 0);
        store_rollback(s);
        assert_int_equal(store_post_get(s, -7, 10, NULL, NULL), -ENOENT);

        unsigned pending = 0, dead = 0;
        assert_int_equal(store_outbox_counts(s, &pending, &dead), 0);
        assert_int_equal(pending, 2);
        assert_int_equal(dead, 0);

        struct outbox_entry *e = NULL;
        size_t k = 0;
        assert_int_equal(store_outbox_due(s, 199, 10, &e, &k), 0); /* not yet due */
        assert_int_equal(k, 0);
        free(e);
        assert_int_equal(store_outbox_due(s, 200, 10, &e, &k), 0);
        assert_int_equal(k, 2);
        assert_string_equal(e[0].notification->text, "Запись к врачу");
        assert_string_equal(e[0].notification->categories[1], "service");
        assert_null(e[0].notification->categories[2]);

        /* accepted, retried later, dead */
        assert_int_equal(store_outbox_delivered(s, n.id, "screen", 201), 0);
        assert_int_equal(store_outbox_retry(s, n.id, "mail", 500, "421 try later"), 0);
        for (size_t i = 0; i < k; i++)
                outbox_entry_done(&e[i]);
        free(e);
        assert_int_equal(store_outbox_due(s, 400, 10, &e, &k), 0);
        assert_int_equal(k, 0);
        free(e);
        int64_t next = 0;
        assert_int_equal(store_outbox_next_due(s, &next), 0);
        assert_true(next == 500);
        assert_int_equal(store_outbox_due(s, 500, 10, &e, &k), 0);
        assert_int_equal(k, 1);
        assert_int_equal(e[0].attempts, 1);
        assert_string_equal(e[0].last_error, "421 try later");
        outbox_entry_done(&e[0]);
        free(e);
        assert_int_equal(store_outbox_dead(s, n.id, "mail", "550 no such user"), 0);
        assert_int_equal(store_outbox_counts(s, &pending, &dead), 0);
        assert_int_equal(pending, 0);
        assert_int_equal(dead, 1);
        assert_int_equal(store_outbox_next_due(s, &next), -ENOENT);

        s = store_free(s);
        remove_dir(dir);
}

static void test_resolved_and_kv(void **state)
{
        _cleanup_free_ char *dir = make_dir();
        struct store *s = NULL;
        assert_int_equal(store_open(dir, &s), 0);
        int64_t id = 0, v = 0;
        char *title = NULL;
        char *screen_name = NULL;
        assert_int_equal(store_resolved_get(s, "sevadm", &id, &title, NULL), -ENOENT);
        assert_int_equal(store_resolved_put(s, "sevadm", -123, "Администрация", "SevAdm", 1), 0);
        assert_int_equal(store_resolved_get(s, "sevadm", &id, &title, &screen_name), 0);
        assert_true(id == -123);
        assert_string_equal(title, "Администрация");
        assert_string_equal(screen_name, "SevAdm");
        free(title);
        free(screen_name);
        /* a group id, and a name without a screen name */
        assert_int_equal(store_resolved_put(s, "123", -123, NULL, NULL, 2), 0);
        assert_int_equal(store_resolved_get(s, "123", &id, &title, &screen_name), 0);
        assert_null(title);
        assert_null(screen_name);
        assert_int_equal(store_kv_get_int(s, "quota", &v), -ENOENT);
        assert_int_equal(store_kv_put_int(s, "quota", 4120), 0);
        assert_int_equal(store_kv_put_int(s, "quota", 4121), 0);
        assert_int_equal(store_kv_get_int(s, "quota", &v), 0);
        assert_true(v == 4121);

        /* text written in place (the scheduler's state is megabytes): what was put is what is
         * read, on insert, on update to a shorter value, empty, and after a reopen */
        size_t big = 3 * 1024 * 1024 + 17;
        _cleanup_free_ char *text = malloc(big + 1);
        assert_non_null(text);
        for (size_t i = 0; i < big; i++)
                text[i] = (char)('a' + i % 26);
        text[big] = '\0';
        char *got = NULL;
        assert_int_equal(store_kv_get_text(s, "scheduler", &got), -ENOENT);
        assert_int_equal(store_kv_put_text(s, "scheduler", text), 0);
        assert_int_equal(store_kv_get_text(s, "scheduler", &got), 0);
        assert_int_equal(strlen(got), big);
        assert_memory_equal(got, text, big);
        free(got);
        assert_int_equal(store_kv_put_text(s, "scheduler", "scheduler 1\nglobal 2"), 0);
        assert_int_equal(store_kv_put_text(s, "other", ""), 0);
        s = store_free(s);
        assert_int_equal(store_open(dir, &s), 0);
        assert_int_equal(store_kv_get_text(s, "scheduler", &got), 0);
        assert_string_equal(got, "scheduler 1\nglobal 2");
        free(got);
        assert_int_equal(store_kv_get_text(s, "other", &got), 0);
        assert_string_equal(got, "");
        free(got);
        s = store_free(s);
        remove_dir(dir);
}

static void test_unwritable(void **state)
{
        struct store *s = NULL;
        /* not even root can create a directory in /proc */
        assert_true(store_open("/proc/govwatch-cannot-be-here", &s) < 0);
        assert_null(s);
}

/* A store written by an older schema (3) is migrated on open, and what it had queued keeps
 * its meaning: the post's date offset defaults to 0 (UTC), as it was shown before, and it has no
 * watch URL (its "Смотреть" falls back to the post). */
static void test_migration_from_schema_3(void **state)
{
        _cleanup_free_ char *dir = make_dir();
        _cleanup_free_ char *path = NULL;
        struct store *s = NULL;
        sqlite3 *db = NULL;
        char *cats[] = {"live", NULL};
        struct notification n = {.kind = "post",
                                 .owner_id = -1,
                                 .post_id = 7,
                                 .url = "u",
                                 .text = "t",
                                 .categories = cats,
                                 .date = 100,
                                 .created = 100,
                                 .date_utc_offset = 3 * 3600,
                                 .watch_url = "https://vk.com/videos-1"};

        assert_int_equal(store_open(dir, &s), 0);
        assert_int_equal(store_outbox_add(s, &n, (char *[]){"screen", NULL}, 100), 0);
        s = store_free(s);
        /* back to schema 3: no date_offset or watch_url column, no resolved.screen_name, a name
         * cached */
        assert_true(asprintf(&path, "%s/%s", dir, STORE_FILENAME) > 0);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "ALTER TABLE notifications DROP COLUMN date_offset;"
                                      "ALTER TABLE notifications DROP COLUMN watch_url;"
                                      "ALTER TABLE resolved DROP COLUMN screen_name;"
                                      "INSERT INTO resolved VALUES ('sevadm', -123, 'А', 1);"
                                      "PRAGMA user_version = 3;",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);

        assert_int_equal(store_open(dir, &s), 0);
        /* the cached name is kept, without the screen name it never had */
        int64_t id = 0;
        _cleanup_free_ char *title = NULL, *screen_name = NULL;
        assert_int_equal(store_resolved_get(s, "sevadm", &id, &title, &screen_name), 0);
        assert_true(id == -123);
        assert_string_equal(title, "А");
        assert_null(screen_name);
        struct outbox_entry *e = NULL;
        size_t k = 0;
        assert_int_equal(store_outbox_due(s, 200, 10, &e, &k), 0);
        assert_int_equal(k, 1);
        assert_int_equal(e[0].notification->post_id, 7);
        assert_int_equal(e[0].notification->date_utc_offset, 0);
        assert_null(e[0].notification->watch_url);
        for (size_t i = 0; i < k; i++)
                outbox_entry_done(&e[i]);
        free(e);
        /* and the new column is written from now on */
        n.post_id = 8;
        assert_int_equal(store_outbox_add(s, &n, (char *[]){"screen", NULL}, 100), 0);
        assert_int_equal(store_outbox_due(s, 200, 10, &e, &k), 0);
        assert_int_equal(k, 2);
        for (size_t i = 0; i < k; i++) {
                if (e[i].notification->post_id == 8) {
                        assert_int_equal(e[i].notification->date_utc_offset, 3 * 3600);
                        assert_string_equal(e[i].notification->watch_url,
                                            "https://vk.com/videos-1");
                }
                outbox_entry_done(&e[i]);
        }
        free(e);
        s = store_free(s);
        remove_dir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_schema_and_reopen),
                cmocka_unit_test(test_migration_from_schema_3),
                cmocka_unit_test(test_outbox_cycle),
                cmocka_unit_test(test_resolved_and_kv),
                cmocka_unit_test(test_unwritable),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
