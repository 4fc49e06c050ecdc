/* store.c — SQLite store: schema, migrations and the queries of store.h.
 *
 * One connection, statements prepared once and cached. Every write that must be atomic with
 * another is done by the caller inside store_begin()/store_commit(). Never logs anything but
 * debug: the caller says what failed and on which object.
 */
#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log.h"
#include "store.h"

enum stmt_id {
        STMT_BEGIN,
        STMT_COMMIT,
        STMT_ROLLBACK,
        STMT_COMMUNITY_GET,
        STMT_COMMUNITY_PUT,
        STMT_COMMUNITY_ERROR,
        STMT_POST_GET,
        STMT_POST_PUT,
        STMT_NOTIFICATION_ADD,
        STMT_OUTBOX_ADD,
        STMT_OUTBOX_DUE,
        STMT_OUTBOX_DELIVERED,
        STMT_OUTBOX_RETRY,
        STMT_OUTBOX_DEAD,
        STMT_OUTBOX_DEFER,
        STMT_OUTBOX_COUNTS,
        STMT_OUTBOX_NEXT,
        STMT_RESOLVED_GET,
        STMT_RESOLVED_PUT,
        STMT_KV_GET,
        STMT_KV_PUT,
        _STMT_MAX,
};

/* The columns of an outbox entry, in the order read_outbox_rows() takes them. */
#define OUTBOX_ENTRY_COLUMNS                                                                       \
        "n.id, n.kind, n.owner_id, n.post_id, n.community, n.topic, n.url, n.text,"                \
        " n.categories, n.date, n.starts_at, n.starts_at_offset, n.created, o.sink,"               \
        " o.attempts, o.next_attempt, o.last_error, n.date_offset, n.watch_url"

static const char *const stmt_sql[_STMT_MAX] = {
        [STMT_BEGIN] = "BEGIN IMMEDIATE",
        [STMT_COMMIT] = "COMMIT",
        [STMT_ROLLBACK] = "ROLLBACK",
        [STMT_COMMUNITY_GET] =
                "SELECT name, screen_name, first_seen, last_poll, last_post_id, last_post_date,"
                " error_code, error_msg FROM communities WHERE owner_id = ?1",
        [STMT_COMMUNITY_PUT] =
                "INSERT INTO communities (owner_id, name, screen_name, first_seen, last_poll,"
                " last_post_id, last_post_date, error_code, error_msg)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                " ON CONFLICT(owner_id) DO UPDATE SET name = ?2, screen_name = ?3,"
                " first_seen = ?4, last_poll = ?5, last_post_id = ?6, last_post_date = ?7,"
                " error_code = ?8, error_msg = ?9",
        [STMT_COMMUNITY_ERROR] =
                "INSERT INTO communities (owner_id, last_poll, error_code, error_msg, name,"
                " first_seen, last_post_id, last_post_date) VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, 0)"
                " ON CONFLICT(owner_id) DO UPDATE SET last_poll = ?2, error_code = ?3,"
                " error_msg = ?4, name = coalesce(?5, name)",
        [STMT_POST_GET] = "SELECT categories, edited FROM posts WHERE owner_id = ?1 AND id = ?2",
        [STMT_POST_PUT] = "INSERT INTO posts (owner_id, id, date, edited, categories, seen_at)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                          " ON CONFLICT(owner_id, id) DO UPDATE SET edited = ?4, categories = ?5",
        [STMT_NOTIFICATION_ADD] =
                "INSERT INTO notifications (kind, owner_id, post_id, community, topic, url, text,"
                " categories, date, starts_at, starts_at_offset, created, date_offset, watch_url)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        [STMT_OUTBOX_ADD] = "INSERT OR IGNORE INTO outbox (notification_id, sink, state, attempts,"
                            " next_attempt) VALUES (?1, ?2, 'pending', 0, ?3)",
        [STMT_OUTBOX_DUE] = "SELECT " OUTBOX_ENTRY_COLUMNS
                            " FROM outbox o JOIN notifications n ON n.id = o.notification_id"
                            " WHERE o.state = 'pending' AND o.next_attempt <= ?1"
                            " ORDER BY o.next_attempt, n.id LIMIT ?2",
        [STMT_OUTBOX_DELIVERED] =
                "UPDATE outbox SET state = 'delivered', delivered_at = ?3, attempts = attempts + 1,"
                " last_error = NULL WHERE notification_id = ?1 AND sink = ?2",
        [STMT_OUTBOX_RETRY] =
                "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?3, last_error = ?4"
                " WHERE notification_id = ?1 AND sink = ?2",
        [STMT_OUTBOX_DEAD] =
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?3"
                " WHERE notification_id = ?1 AND sink = ?2",
        [STMT_OUTBOX_DEFER] = "UPDATE outbox SET next_attempt = ?3, last_error = ?4"
                              " WHERE notification_id = ?1 AND sink = ?2",
        [STMT_OUTBOX_COUNTS] = "SELECT (SELECT count(*) FROM outbox WHERE state = 'pending'),"
                               " (SELECT count(*) FROM outbox WHERE state = 'dead')",
        [STMT_OUTBOX_NEXT] = "SELECT min(next_attempt) FROM outbox WHERE state = 'pending'",
        [STMT_RESOLVED_GET] = "SELECT owner_id, title, screen_name FROM resolved WHERE name = ?1",
        [STMT_RESOLVED_PUT] =
                "INSERT INTO resolved (name, owner_id, title, resolved_at, screen_name)"
                " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO UPDATE SET"
                " owner_id = ?2, title = ?3, resolved_at = ?4, screen_name = ?5",
        [STMT_KV_GET] = "SELECT value FROM kv WHERE key = ?1",
        [STMT_KV_PUT] = "INSERT INTO kv (key, value) VALUES (?1, ?2)"
                        " ON CONFLICT(key) DO UPDATE SET value = ?2",
};

/* Migrations: index i brings the schema from version i to i + 1. Append, never edit. */
static const char *const migrations[] = {
        "CREATE TABLE communities ("
        "  owner_id INTEGER PRIMARY KEY,"
        "  name TEXT, screen_name TEXT,"
        "  first_seen INTEGER NOT NULL DEFAULT 0,"
        "  last_poll INTEGER NOT NULL DEFAULT 0,"
        "  last_post_id INTEGER NOT NULL DEFAULT 0,"
        "  last_post_date INTEGER NOT NULL DEFAULT 0,"
        "  error_code INTEGER NOT NULL DEFAULT 0,"
        "  error_msg TEXT);"
        "CREATE TABLE posts ("
        "  owner_id INTEGER NOT NULL, id INTEGER NOT NULL,"
        "  date INTEGER NOT NULL, edited INTEGER NOT NULL DEFAULT 0,"
        "  categories INTEGER NOT NULL DEFAULT 0,"
        "  seen_at INTEGER NOT NULL,"
        "  PRIMARY KEY (owner_id, id)) WITHOUT ROWID;"
        "CREATE TABLE notifications ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  kind TEXT NOT NULL, owner_id INTEGER NOT NULL, post_id INTEGER NOT NULL,"
        "  community TEXT, topic TEXT, url TEXT, text TEXT, categories TEXT,"
        "  date INTEGER, starts_at INTEGER, starts_at_offset INTEGER,"
        "  created INTEGER NOT NULL);"
        "CREATE TABLE outbox ("
        "  notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,"
        "  sink TEXT NOT NULL,"
        "  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  next_attempt INTEGER NOT NULL,"
        "  last_error TEXT, delivered_at INTEGER,"
        "  PRIMARY KEY (notification_id, sink));"
        "CREATE INDEX outbox_due ON outbox (state, next_attempt);"
        "CREATE TABLE resolved ("
        "  name TEXT PRIMARY KEY, owner_id INTEGER NOT NULL, title TEXT,"
        "  resolved_at INTEGER NOT NULL);"
        "CREATE TABLE kv (key TEXT PRIMARY KEY, value INTEGER);",
        /* 1 -> 2: alerts about the daemon itself (consecutive failures per subject), and an
         * index for pruning delivery history */
        "CREATE TABLE alerts ("
        "  subject TEXT PRIMARY KEY,"
        "  failures INTEGER NOT NULL DEFAULT 0,"
        "  alerted INTEGER NOT NULL DEFAULT 0,"
        "  since INTEGER NOT NULL DEFAULT 0,"
        "  last_error TEXT);"
        "CREATE INDEX outbox_history ON outbox (state, delivered_at);",
        /* 2 -> 3: what the scheduler learned (one text row), beside kv's integers */
        "CREATE TABLE kv_text (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        /* 3 -> 4: the post date's offset from UTC in the configured zone, so that a post's time
         * and a broadcast's start are shown in the same zone */
        "ALTER TABLE notifications ADD COLUMN date_offset INTEGER NOT NULL DEFAULT 0;",
        /* 4 -> 5: a resolved name's screen name as VK spells it, so that `resolve` answers from
         * the cache as it answers from VK (NULL in rows written before: asked again) */
        "ALTER TABLE resolved ADD COLUMN screen_name TEXT;",
        /* 5 -> 6: where a live broadcast is watched, for the "Смотреть" button of its
         * notifications (NULL in rows written before: the post's own URL stands in) */
        "ALTER TABLE notifications ADD COLUMN watch_url TEXT;",
};

struct store {
        sqlite3 *db;
        sqlite3_stmt *stmts[_STMT_MAX];
};

const char *store_errmsg(struct store *s)
{
        return s && s->db ? sqlite3_errmsg(s->db) : "store not open";
}

static int sqlite_to_errno(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_CONSTRAINT:
                return -EEXIST;
        default:
                return -EIO;
        }
}

static sqlite3_stmt *stmt(struct store *s, enum stmt_id id)
{
        if (!s->stmts[id] && sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                                &s->stmts[id], NULL) != SQLITE_OK) {
                log_debug("Failed to prepare statement %d: %s", (int)id, sqlite3_errmsg(s->db));
                return NULL;
        }
        sqlite3_reset(s->stmts[id]);
        sqlite3_clear_bindings(s->stmts[id]);
        return s->stmts[id];
}

/* Runs a statement that returns no rows. */
static int step_done(struct store *s, sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);
        int r = rc == SQLITE_DONE ? 0 : sqlite_to_errno(rc);
        if (rc != SQLITE_DONE && r == 0)
                r = -EIO;
        if (r < 0)
                log_debug("SQLite: %s", sqlite3_errmsg(s->db));
        sqlite3_reset(st);
        return r;
}

static int exec_sql(struct store *s, const char *sql)
{
        char *err = NULL;
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
        if (rc != SQLITE_OK) {
                log_debug("SQLite: %s", err ? err : sqlite3_errstr(rc));
                sqlite3_free(err);
                return sqlite_to_errno(rc) ?: -EIO;
        }
        return 0;
}

static int user_version(struct store *s, int *ret)
{
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return rc == SQLITE_ROW ? 0 : sqlite_to_errno(rc);
}

static int migrate(struct store *s)
{
        int version = 0, r;

        r = user_version(s, &version);
        if (r < 0)
                return r;
        if (version > STORE_SCHEMA_VERSION) {
                log_debug("Store schema %d is newer than this govwatchd knows (%d)", version,
                          STORE_SCHEMA_VERSION);
                return -EPROTONOSUPPORT;
        }
        while (version < STORE_SCHEMA_VERSION) {
                char pragma[64];
                r = exec_sql(s, "BEGIN IMMEDIATE");
                if (r < 0)
                        return r;
                snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
                r = exec_sql(s, migrations[version]);
                if (r >= 0)
                        r = exec_sql(s, pragma);
                if (r >= 0)
                        r = exec_sql(s, "COMMIT");
                if (r < 0) {
                        (void)exec_sql(s, "ROLLBACK");
                        return r;
                }
                version++;
        }
        return 0;
}

static int mkdir_p(const char *dir)
{
        _cleanup_free_ char *p = strdup(dir);
        if (!p)
                return -ENOMEM;
        for (char *c = p + 1; *c; c++) {
                if (*c != '/')
                        continue;
                *c = '\0';
                if (mkdir(p, 0700) < 0 && errno != EEXIST)
                        return -errno;
                *c = '/';
        }
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int store_open_full(const char *dir, bool readonly, struct store **ret)
{
        _cleanup_free_ char *path = NULL;
        struct store *s;
        int r, rc;

        if (!readonly) {
                r = mkdir_p(dir);
                if (r < 0)
                        return r;
        }
        if (asprintf(&path, "%s/%s", dir, STORE_FILENAME) < 0)
                return -ENOMEM;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        rc = sqlite3_open_v2(
                path, &s->db,
                readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
        if (rc != SQLITE_OK) {
                r = sqlite_to_errno(rc) ?: -EIO;
                store_free(s);
                return r;
        }
        sqlite3_busy_timeout(s->db, 5000);
        sqlite3_extended_result_codes(s->db, 1);

        if (!readonly) {
                /* WAL: `status` reads while the daemon writes; NORMAL sync is durable across a
                 * process crash (the promise), only a power loss can lose the last commit. */
                r = exec_sql(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                                "PRAGMA cache_size = -1024;"
                                "PRAGMA foreign_keys = ON;");
                if (r >= 0)
                        r = migrate(s);
        } else {
                int version = 0;
                r = user_version(s, &version);
                if (r >= 0 && version != STORE_SCHEMA_VERSION)
                        r = -EPROTONOSUPPORT;
        }
        if (r < 0) {
                store_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int store_open(const char *dir, struct store **ret)
{
        return store_open_full(dir, false, ret);
}

int store_open_readonly(const char *dir, struct store **ret)
{
        return store_open_full(dir, true, ret);
}

struct store *store_free(struct store *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < _STMT_MAX; i++)
                sqlite3_finalize(s->stmts[i]);
        if (s->db)
                sqlite3_close(s->db);
        free(s);
        return NULL;
}

static int run_simple(struct store *s, enum stmt_id id)
{
        sqlite3_stmt *st = stmt(s, id);
        return st ? step_done(s, st) : -EIO;
}

int store_begin(struct store *s)
{
        return run_simple(s, STMT_BEGIN);
}

int store_commit(struct store *s)
{
        return run_simple(s, STMT_COMMIT);
}

void store_rollback(struct store *s)
{
        if (!sqlite3_get_autocommit(s->db))
                (void)run_simple(s, STMT_ROLLBACK);
}

static char *column_strdup(sqlite3_stmt *st, int col)
{
        const unsigned char *t = sqlite3_column_text(st, col);
        return t ? strdup((const char *)t) : NULL;
}

void community_state_done(struct community_state *c)
{
        free(c->name);
        free(c->screen_name);
        free(c->error_msg);
        *c = (struct community_state){0};
}

int store_community_get(struct store *s, int64_t owner_id, struct community_state *ret)
{
        sqlite3_stmt *st = stmt(s, STMT_COMMUNITY_GET);
        int rc, r;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, owner_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                sqlite3_reset(st);
                return -ENOENT;
        }
        if (rc != SQLITE_ROW) {
                r = sqlite_to_errno(rc) ?: -EIO;
                sqlite3_reset(st);
                return r;
        }
        *ret = (struct community_state){
                .owner_id = owner_id,
                .name = column_strdup(st, 0),
                .screen_name = column_strdup(st, 1),
                .first_seen = sqlite3_column_int64(st, 2),
                .last_poll = sqlite3_column_int64(st, 3),
                .last_post_id = sqlite3_column_int64(st, 4),
                .last_post_date = sqlite3_column_int64(st, 5),
                .error_code = sqlite3_column_int(st, 6),
                .error_msg = column_strdup(st, 7),
        };
        sqlite3_reset(st);
        return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int idx, const char *t)
{
        if (t)
                sqlite3_bind_text(st, idx, t, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, idx);
}

int store_community_put(struct store *s, const struct community_state *c)
{
        sqlite3_stmt *st = stmt(s, STMT_COMMUNITY_PUT);
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, c->owner_id);
        bind_text_or_null(st, 2, c->name);
        bind_text_or_null(st, 3, c->screen_name);
        sqlite3_bind_int64(st, 4, c->first_seen);
        sqlite3_bind_int64(st, 5, c->last_poll);
        sqlite3_bind_int64(st, 6, c->last_post_id);
        sqlite3_bind_int64(st, 7, c->last_post_date);
        sqlite3_bind_int(st, 8, c->error_code);
        bind_text_or_null(st, 9, c->error_msg);
        return step_done(s, st);
}

int store_community_set_error(struct store *s, int64_t owner_id, const char *name, int code,
                              const char *msg, int64_t now)
{
        sqlite3_stmt *st = stmt(s, STMT_COMMUNITY_ERROR);
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, owner_id);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int(st, 3, code);
        bind_text_or_null(st, 4, code ? msg : NULL);
        bind_text_or_null(st, 5, name);
        return step_done(s, st);
}

int store_post_get(struct store *s, int64_t owner_id, int64_t id, uint64_t *ret_categories,
                   int64_t *ret_edited)
{
        sqlite3_stmt *st = stmt(s, STMT_POST_GET);
        int rc;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, owner_id);
        sqlite3_bind_int64(st, 2, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                if (ret_categories)
                        *ret_categories = (uint64_t)sqlite3_column_int64(st, 0);
                if (ret_edited)
                        *ret_edited = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        return rc == SQLITE_ROW ? 0 : (sqlite_to_errno(rc) ?: -EIO);
}

int store_post_put(struct store *s, int64_t owner_id, int64_t id, int64_t date, int64_t edited,
                   uint64_t categories, int64_t now)
{
        sqlite3_stmt *st = stmt(s, STMT_POST_PUT);
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, owner_id);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_int64(st, 3, date);
        sqlite3_bind_int64(st, 4, edited);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)categories);
        sqlite3_bind_int64(st, 6, now);
        return step_done(s, st);
}

static char *categories_to_json(char *const *categories)
{
        json_t *a = json_array();
        if (!a)
                return NULL;
        for (char *const *c = categories; c && *c; c++)
                json_array_append_new(a, json_string(*c));
        char *s = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        return s;
}

static char **categories_from_json(const char *s)
{
        json_t *a = s ? json_loads(s, 0, NULL) : NULL;
        size_t n = json_is_array(a) ? json_array_size(a) : 0;
        char **l = calloc(n + 1, sizeof(char *));
        size_t k = 0;

        if (!l) {
                json_decref(a);
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                const json_t *v = json_array_get(a, i);
                if (json_is_string(v) && (l[k] = strdup(json_string_value(v))))
                        k++;
        }
        json_decref(a);
        return l;
}

int store_outbox_add(struct store *s, struct notification *n, char *const *sinks,
                     int64_t next_attempt)
{
        _cleanup_free_ char *cats = categories_to_json(n->categories);
        sqlite3_stmt *st = stmt(s, STMT_NOTIFICATION_ADD);
        int r;

        if (!cats)
                return -ENOMEM;
        if (!st)
                return -EIO;
        bind_text_or_null(st, 1, n->kind ? n->kind : "post");
        sqlite3_bind_int64(st, 2, n->owner_id);
        sqlite3_bind_int64(st, 3, n->post_id);
        bind_text_or_null(st, 4, n->community);
        bind_text_or_null(st, 5, n->topic);
        bind_text_or_null(st, 6, n->url);
        bind_text_or_null(st, 7, n->text);
        bind_text_or_null(st, 8, cats);
        sqlite3_bind_int64(st, 9, n->date);
        sqlite3_bind_int64(st, 10, n->starts_at);
        sqlite3_bind_int(st, 11, n->starts_at_utc_offset);
        sqlite3_bind_int64(st, 12, n->created);
        sqlite3_bind_int(st, 13, n->date_utc_offset);
        bind_text_or_null(st, 14, n->watch_url);
        r = step_done(s, st);
        if (r < 0)
                return r;
        n->id = sqlite3_last_insert_rowid(s->db);

        for (char *const *sink = sinks; sink && *sink; sink++) {
                st = stmt(s, STMT_OUTBOX_ADD);
                if (!st)
                        return -EIO;
                sqlite3_bind_int64(st, 1, n->id);
                sqlite3_bind_text(st, 2, *sink, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(st, 3, next_attempt);
                r = step_done(s, st);
                if (r < 0)
                        return r;
        }
        return 0;
}

void outbox_entry_done(struct outbox_entry *e)
{
        notification_free(e->notification);
        free(e->sink);
        free(e->last_error);
        *e = (struct outbox_entry){0};
}

/* Steps a statement whose columns are those of STMT_OUTBOX_DUE into outbox entries. */
static int read_outbox_rows(sqlite3_stmt *st, struct outbox_entry **ret, size_t *ret_n)
{
        struct outbox_entry *entries = NULL;
        size_t n = 0, allocated = 0;
        int rc, r = 0;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct notification *no;
                if (!greedy_realloc((void **)&entries, &allocated, n + 1, sizeof(*entries))) {
                        r = -ENOMEM;
                        break;
                }
                no = calloc(1, sizeof(*no));
                if (!no) {
                        r = -ENOMEM;
                        break;
                }
                *no = (struct notification){
                        .id = sqlite3_column_int64(st, 0),
                        .kind = column_strdup(st, 1),
                        .owner_id = sqlite3_column_int64(st, 2),
                        .post_id = sqlite3_column_int64(st, 3),
                        .community = column_strdup(st, 4),
                        .topic = column_strdup(st, 5),
                        .url = column_strdup(st, 6),
                        .text = column_strdup(st, 7),
                        .categories =
                                categories_from_json((const char *)sqlite3_column_text(st, 8)),
                        .date = sqlite3_column_int64(st, 9),
                        .starts_at = sqlite3_column_int64(st, 10),
                        .starts_at_utc_offset = sqlite3_column_int(st, 11),
                        .created = sqlite3_column_int64(st, 12),
                        .date_utc_offset = sqlite3_column_int(st, 17),
                        .watch_url = column_strdup(st, 18),
                };
                entries[n++] = (struct outbox_entry){
                        .notification = no,
                        .sink = column_strdup(st, 13),
                        .attempts = (unsigned)sqlite3_column_int(st, 14),
                        .next_attempt = sqlite3_column_int64(st, 15),
                        .last_error = column_strdup(st, 16),
                };
                if (!no->kind || !no->categories || !entries[n - 1].sink) {
                        r = -ENOMEM;
                        break;
                }
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = sqlite_to_errno(rc) ?: -EIO;
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        outbox_entry_done(&entries[i]);
                free(entries);
                return r;
        }
        *ret = entries;
        *ret_n = n;
        return 0;
}

int store_outbox_due(struct store *s, int64_t now, size_t max, struct outbox_entry **ret,
                     size_t *ret_n)
{
        sqlite3_stmt *st = stmt(s, STMT_OUTBOX_DUE);
        int r;

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        r = read_outbox_rows(st, ret, ret_n);
        sqlite3_reset(st);
        return r;
}

int store_outbox_delivered(struct store *s, int64_t notification_id, const char *sink, int64_t now)
{
        sqlite3_stmt *st = stmt(s, STMT_OUTBOX_DELIVERED);
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, notification_id);
        sqlite3_bind_text(st, 2, sink, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, now);
        return step_done(s, st);
}

int store_outbox_retry(struct store *s, int64_t notification_id, const char *sink,
                       int64_t next_attempt, const char *error)
{
        sqlite3_stmt *st = stmt(s, STMT_OUTBOX_RETRY);
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, notification_id);
        sqlite3_bind_text(st, 2, sink, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, next_attempt);
        bind_text_or_null(st, 4, error);
        return step_done(s, st);
}

int store_outbox_defer(struct store *s, int64_t notification_id, const char *sink,
                       int64_t next_attempt, const char *reason)
{
        sqlite3_stmt *st = stmt(s, STMT_OUTBOX_DEFER);
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, notification_id);
        sqlite3_bind_text(st, 2, sink, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, next_attempt);
        bind_text_or_null(st, 4, reason);
        return step_done(s, st);
}

int store_outbox_dead(struct store *s, int64_t notification_id, const char *sink, const char *error)
{
        sqlite3_stmt *st = stmt(s, STMT_OUTBOX_DEAD);
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, notification_id);
        sqlite3_bind_text(st, 2, sink, -1, SQLITE_TRANSIENT);
        bind_text_or_null(st, 3, error);
        return step_done(s, st);
}

int store_outbox_counts(struct store *s, unsigned *ret_pending, unsigned *ret_dead)
{
        sqlite3_stmt *st = stmt(s, STMT_OUTBOX_COUNTS);
        if (!st)
                return -EIO;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *ret_pending = (unsigned)sqlite3_column_int64(st, 0);
                *ret_dead = (unsigned)sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
        return rc == SQLITE_ROW ? 0 : (sqlite_to_errno(rc) ?: -EIO);
}

int store_outbox_next_due(struct store *s, int64_t *ret)
{
        sqlite3_stmt *st = stmt(s, STMT_OUTBOX_NEXT);
        int r = -ENOENT;
        if (!st)
                return -EIO;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
                *ret = sqlite3_column_int64(st, 0);
                r = 0;
        }
        sqlite3_reset(st);
        return r;
}

int store_resolved_get(struct store *s, const char *name, int64_t *ret_owner_id, char **ret_title,
                       char **ret_screen_name)
{
        sqlite3_stmt *st = stmt(s, STMT_RESOLVED_GET);
        int r = -ENOENT;
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
                *ret_owner_id = sqlite3_column_int64(st, 0);
                if (ret_title)
                        *ret_title = column_strdup(st, 1);
                if (ret_screen_name)
                        *ret_screen_name = column_strdup(st, 2);
                r = 0;
        }
        sqlite3_reset(st);
        return r;
}

int store_resolved_put(struct store *s, const char *name, int64_t owner_id, const char *title,
                       const char *screen_name, int64_t now)
{
        sqlite3_stmt *st = stmt(s, STMT_RESOLVED_PUT);
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, owner_id);
        bind_text_or_null(st, 3, title);
        sqlite3_bind_int64(st, 4, now);
        bind_text_or_null(st, 5, screen_name);
        return step_done(s, st);
}

int store_kv_get_int(struct store *s, const char *key, int64_t *ret)
{
        sqlite3_stmt *st = stmt(s, STMT_KV_GET);
        int r = -ENOENT;
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
                *ret = sqlite3_column_int64(st, 0);
                r = 0;
        }
        sqlite3_reset(st);
        return r;
}

int store_kv_put_int(struct store *s, const char *key, int64_t value)
{
        sqlite3_stmt *st = stmt(s, STMT_KV_PUT);
        if (!st)
                return -EIO;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, value);
        return step_done(s, st);
}

/* ---- delivery: per-sink queues, history, dead letters, alerts ---------------------------------
 * Added after the first schema; these prepare their statements per call (they run a few times a
 * pass, not per post) and finalize them before returning, so store_free() closes cleanly. */

static int prepare(struct store *s, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);
        if (rc != SQLITE_OK) {
                log_debug("Failed to prepare '%s': %s", sql, sqlite3_errmsg(s->db));
                return sqlite_to_errno(rc) ?: -EIO;
        }
        return 0;
}

static int finalize_done(struct store *s, sqlite3_stmt *st)
{
        int r = step_done(s, st);
        sqlite3_finalize(st);
        return r;
}

int store_outbox_due_for_sink(struct store *s, const char *sink, int64_t now, size_t max,
                              struct outbox_entry **ret, size_t *ret_n)
{
        sqlite3_stmt *st = NULL;
        int r;

        r = prepare(s,
                    "SELECT " OUTBOX_ENTRY_COLUMNS
                    " FROM outbox o JOIN notifications n ON n.id = o.notification_id"
                    " WHERE o.state = 'pending' AND o.sink = ?1 AND o.next_attempt <= ?2"
                    " ORDER BY o.next_attempt, n.id LIMIT ?3",
                    &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, sink, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
        r = read_outbox_rows(st, ret, ret_n);
        sqlite3_finalize(st);
        return r;
}

/* Steps st (then finalizes it) into a NULL-terminated list of its first column's strings. */
static int read_strv(sqlite3_stmt *st, char ***ret)
{
        char **l = calloc(1, sizeof(char *));
        size_t n = 0, allocated = 1;
        int rc = SQLITE_DONE, r = l ? 0 : -ENOMEM;

        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (!greedy_realloc((void **)&l, &allocated, n + 2, sizeof(char *)) ||
                    !(l[n] = column_strdup(st, 0))) {
                        r = -ENOMEM;
                        break;
                }
                l[++n] = NULL;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = sqlite_to_errno(rc) ?: -EIO;
        sqlite3_finalize(st);
        if (r < 0) {
                strv_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

int store_outbox_due_sinks(struct store *s, int64_t now, char ***ret)
{
        sqlite3_stmt *st = NULL;
        int r = prepare(
                s,
                "SELECT DISTINCT sink FROM outbox WHERE state = 'pending' AND next_attempt <= ?1",
                &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, now);
        return read_strv(st, ret);
}

int store_outbox_defer_sink(struct store *s, const char *sink, int64_t now, int64_t next_attempt,
                            const char *reason)
{
        sqlite3_stmt *st = NULL;
        int r = prepare(s,
                        "UPDATE outbox SET next_attempt = ?3, last_error = ?4"
                        " WHERE state = 'pending' AND sink = ?1 AND next_attempt <= ?2",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, sink, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, next_attempt);
        bind_text_or_null(st, 4, reason);
        r = finalize_done(s, st);
        return r < 0 ? r : sqlite3_changes(s->db);
}

int store_outbox_prune(struct store *s, int64_t before)
{
        sqlite3_stmt *st = NULL;
        int r, n;

        r = store_begin(s);
        if (r < 0)
                return r;
        r = prepare(s, "DELETE FROM outbox WHERE state = 'delivered' AND delivered_at < ?1", &st);
        if (r >= 0) {
                sqlite3_bind_int64(st, 1, before);
                r = finalize_done(s, st);
        }
        n = r < 0 ? 0 : sqlite3_changes(s->db);
        if (r >= 0)
                r = prepare(s,
                            "DELETE FROM notifications WHERE created < ?1 AND NOT EXISTS"
                            " (SELECT 1 FROM outbox o WHERE o.notification_id = notifications.id)",
                            &st);
        if (r >= 0) {
                sqlite3_bind_int64(st, 1, before);
                r = finalize_done(s, st);
        }
        if (r >= 0)
                r = store_commit(s);
        if (r < 0) {
                store_rollback(s);
                return r;
        }
        return n;
}

int store_outbox_sink_counts(struct store *s, const char *sink, unsigned *ret_pending,
                             unsigned *ret_delivered, unsigned *ret_dead)
{
        sqlite3_stmt *st = NULL;
        int rc, r;

        r = prepare(s,
                    "SELECT count(*) FILTER (WHERE state = 'pending'),"
                    " count(*) FILTER (WHERE state = 'delivered'),"
                    " count(*) FILTER (WHERE state = 'dead') FROM outbox WHERE sink = ?1",
                    &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, sink, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *ret_pending = (unsigned)sqlite3_column_int64(st, 0);
                *ret_delivered = (unsigned)sqlite3_column_int64(st, 1);
                *ret_dead = (unsigned)sqlite3_column_int64(st, 2);
        }
        sqlite3_finalize(st);
        return rc == SQLITE_ROW ? 0 : (sqlite_to_errno(rc) ?: -EIO);
}

void dead_letters_free(struct dead_letter *l, size_t n)
{
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].url);
                free(l[i].community);
                free(l[i].sink);
                free(l[i].last_error);
        }
        free(l);
}

int store_dead_letters(struct store *s, size_t max, struct dead_letter **ret, size_t *ret_n)
{
        sqlite3_stmt *st = NULL;
        struct dead_letter *l = NULL;
        size_t n = 0, allocated = 0;
        int rc, r;

        r = prepare(s,
                    "SELECT n.id, n.url, n.community, o.sink, o.attempts, n.created, o.last_error"
                    " FROM outbox o JOIN notifications n ON n.id = o.notification_id"
                    " WHERE o.state = 'dead' ORDER BY n.created DESC, n.id DESC LIMIT ?1",
                    &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (!greedy_realloc((void **)&l, &allocated, n + 1, sizeof(*l))) {
                        r = -ENOMEM;
                        break;
                }
                l[n++] = (struct dead_letter){
                        .notification_id = sqlite3_column_int64(st, 0),
                        .url = column_strdup(st, 1),
                        .community = column_strdup(st, 2),
                        .sink = column_strdup(st, 3),
                        .attempts = (unsigned)sqlite3_column_int(st, 4),
                        .created = sqlite3_column_int64(st, 5),
                        .last_error = column_strdup(st, 6),
                };
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = sqlite_to_errno(rc) ?: -EIO;
        sqlite3_finalize(st);
        if (r < 0) {
                dead_letters_free(l, n);
                return r;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

int store_alert_get(struct store *s, const char *subject, struct alert_row *ret)
{
        sqlite3_stmt *st = NULL;
        int rc, r;

        r = prepare(s, "SELECT failures, alerted, since, last_error FROM alerts WHERE subject = ?1",
                    &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, subject, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = (struct alert_row){
                        .failures = (unsigned)sqlite3_column_int64(st, 0),
                        .alerted = sqlite3_column_int(st, 1) != 0,
                        .since = sqlite3_column_int64(st, 2),
                        .last_error = column_strdup(st, 3),
                };
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        return rc == SQLITE_ROW ? 0 : (sqlite_to_errno(rc) ?: -EIO);
}

int store_alert_put(struct store *s, const char *subject, const struct alert_row *a)
{
        sqlite3_stmt *st = NULL;
        int r = prepare(s,
                        "INSERT INTO alerts (subject, failures, alerted, since, last_error)"
                        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(subject) DO UPDATE SET"
                        " failures = ?2, alerted = ?3, since = ?4, last_error = ?5",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, subject, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, a->failures);
        sqlite3_bind_int(st, 3, a->alerted);
        sqlite3_bind_int64(st, 4, a->since);
        bind_text_or_null(st, 5, a->last_error);
        return finalize_done(s, st);
}

int store_alerts_active(struct store *s, char ***ret)
{
        sqlite3_stmt *st = NULL;
        int r = prepare(s, "SELECT subject FROM alerts WHERE alerted ORDER BY since", &st);
        if (r < 0)
                return r;
        return read_strv(st, ret);
}

bool store_in_transaction(struct store *s)
{
        return s && s->db && !sqlite3_get_autocommit(s->db);
}

/* ---- saved state as text (the scheduler) ------------------------------------------------------
 */

int store_kv_get_text(struct store *s, const char *key, char **ret)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        r = prepare(s, "SELECT value FROM kv_text WHERE key = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                char *v = column_strdup(st, 0);
                r = v ? 0 : -ENOMEM;
                if (v)
                        *ret = v;
        } else
                r = rc == SQLITE_DONE ? -ENOENT : (sqlite_to_errno(rc) ?: -EIO);
        sqlite3_finalize(st);
        return r;
}

/* The value is written in place: bound as text, SQLite would copy it once more into the row's
 * record, and the scheduler's state for thousands of communities is megabytes. The row gets a
 * zeroblob of the value's size (never materialised), then the bytes through incremental blob I/O,
 * all in one savepoint. Reads see the same text; typeof(value) says blob. */
int store_kv_put_text(struct store *s, const char *key, const char *value)
{
        size_t n = strlen(value);
        sqlite3_stmt *st = NULL;
        sqlite3_blob *blob = NULL;
        sqlite3_int64 rowid = 0;
        int r, rc;

        if (n > INT_MAX)
                return -E2BIG;
        r = exec_sql(s, "SAVEPOINT kv_put_text");
        if (r < 0)
                return r;
        r = prepare(s,
                    "INSERT INTO kv_text (key, value) VALUES (?1, zeroblob(?2))"
                    " ON CONFLICT(key) DO UPDATE SET value = zeroblob(?2) RETURNING rowid",
                    &st);
        if (r >= 0) {
                sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
                rc = sqlite3_step(st);
                if (rc == SQLITE_ROW) {
                        rowid = sqlite3_column_int64(st, 0);
                        rc = sqlite3_step(st);
                }
                if (rc != SQLITE_DONE)
                        r = sqlite_to_errno(rc) ?: -EIO;
                sqlite3_finalize(st);
        }
        if (r >= 0 && n > 0) {
                rc = sqlite3_blob_open(s->db, "main", "kv_text", "value", rowid, 1, &blob);
                if (rc == SQLITE_OK)
                        rc = sqlite3_blob_write(blob, value, (int)n, 0);
                if (rc != SQLITE_OK)
                        r = sqlite_to_errno(rc) ?: -EIO;
                rc = sqlite3_blob_close(blob);
                if (r >= 0 && rc != SQLITE_OK)
                        r = sqlite_to_errno(rc) ?: -EIO;
        }
        if (r < 0) {
                log_debug("SQLite: %s", sqlite3_errmsg(s->db));
                (void)exec_sql(s, "ROLLBACK TO kv_put_text; RELEASE kv_put_text");
                return r;
        }
        return exec_sql(s, "RELEASE kv_put_text");
}

static int exec_bound(struct store *s, const char *sql, const int64_t *v, size_t n,
                      int *ret_changes)
{
        sqlite3_stmt *st;
        int rc;

        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        for (size_t i = 0; i < n; i++)
                sqlite3_bind_int64(st, (int)i + 1, v[i]);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return sqlite_to_errno(rc) ?: -EIO;
        if (ret_changes)
                *ret_changes = sqlite3_changes(s->db);
        return 0;
}

int store_reminders_move(struct store *s, int64_t owner_id, int64_t now, int64_t starts_at,
                         int32_t starts_at_utc_offset, int64_t remind_at)
{
#define PENDING_REMINDERS                                                                          \
        "SELECT id FROM notifications WHERE kind = 'reminder' AND owner_id = ?1 AND starts_at > "  \
        "?2"
        int changed = 0, r;

        if (starts_at == 0) {
                const int64_t v[] = {owner_id, now};
                r = exec_bound(s,
                               "DELETE FROM outbox WHERE state = 'pending' AND notification_id IN "
                               "(" PENDING_REMINDERS ")",
                               v, ELEMENTSOF(v), &changed);
                return r < 0 ? r : changed;
        }
        const int64_t v[] = {owner_id, now, remind_at, starts_at, starts_at_utc_offset};
        r = exec_bound(s,
                       "UPDATE outbox SET next_attempt = ?3 WHERE state = 'pending' AND "
                       "notification_id IN (" PENDING_REMINDERS ")",
                       v, 3, &changed);
        if (r < 0 || changed == 0)
                return r < 0 ? r : 0;
        r = exec_bound(
                s,
                "UPDATE notifications SET starts_at = ?4, starts_at_offset = ?5, created = ?3"
                " WHERE id IN (" PENDING_REMINDERS ") AND id IN"
                " (SELECT notification_id FROM outbox WHERE state = 'pending')",
                v, ELEMENTSOF(v), NULL);
        return r < 0 ? r : changed;
#undef PENDING_REMINDERS
}
