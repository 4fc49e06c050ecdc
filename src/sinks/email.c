/* sinks/email.c — notifications as e-mail, over libcurl SMTP on the shared curl multi.
 *
 * Owns the SMTP transfers in flight and, with `digest:`, the notifications being gathered into
 * one message. The message bytes come from mail.c; this file decides what goes in them and
 * maps SMTP outcomes to accepted / try later / rejected (a digest's wait is "held"). Never logs
 * the password (read from password_file at each send, wiped after use), never lets VK text into
 * the header structure (mail_header_text flattens it, mail_build refuses CR/LF), and never
 * uploads without CURLOPT_MAIL_RCPT + CURLOPT_UPLOAD (libcurl would VRFY and "succeed",
 * FACTS.md).
 *
 * Its settings (url, starttls, ca_file, username, password_file, from, to, digest) are its own
 * table below, which the config reads through the registry; what mail.c would refuse to send
 * with, the config refuses to load.
 *
 * Digest contract (digest_usec > 0): windows are aligned to multiples of the interval in the
 * process's local time (1h: on the hour, 1d: at midnight). A notification queued (created)
 * inside a window is answered "held" (SINK_HELD, no failure) with retry_after = the window's
 * end, so it waits in the durable outbox, not in this process; once its window has ended, every
 * notification the outbox hands over in the same event-loop iteration is coalesced into one
 * message, grouped by topic and category, and each send completes with that message's outcome. This
 * keeps nothing pending in memory for an hour: `once` exits, a reload is not held up, a crash loses
 * nothing. Test and alert notifications skip the digest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mail.h"
#include "render.h"
#include "setting.h"
#include "sink.h"
#include "tz_cache.h"

#define SUBJECT_MAX_BYTES  200
#define BODY_DEFAULT_MAX   (256 * 1024) /* max_length 0: a generous cap, not none */
#define PASSWORD_MAX       4096
#define CONNECT_TIMEOUT_MS 10000L
#define DIGEST_MAX_ENTRIES 1000
#define ADDRESS_DOMAIN_MAX 253 /* a DNS name (RFC 1035), the Message-ID's right part */
#define ADDRESS_LABEL_MAX  63  /* one label of it */

enum starttls_mode {
        STARTTLS_REQUIRED,
        STARTTLS_OPTIONAL,
        STARTTLS_NEVER,
};

/* The keys of an email sink beyond those every sink has: sink_conf.settings. */
struct email_settings {
        char *url;
        int starttls; /* enum starttls_mode */
        char *ca_file;
        char *username;
        char *password_file;
        char *from;
        char **to;            /* NULL-terminated */
        uint64_t digest_usec; /* 0: no digest */
};

struct waiter {
        sink_done_fn done;
        void *userdata;
};

struct email_sink;

struct email_send {
        struct email_sink *sink;
        CURL *easy;
        struct curl_slist *rcpt;
        char *message;
        size_t size, offset;
        struct waiter *waiters;
        size_t n_waiters;
        char errbuf[CURL_ERROR_SIZE];
        struct email_send *prev, *next;
};

struct digest_entry {
        char *topic;
        char *category; /* the first (primary) category's human name, or "" */
        char *text;     /* the entry rendered with the body template */
        int64_t date;
        size_t seq; /* arrival order, to keep the sort stable */
        struct waiter waiter;
};

struct email_sink {
        struct sink sink;
        const struct sink_conf *conf;
        const struct email_settings *settings; /* conf's */
        sd_event *event;
        struct http *http;
        char *from_addr;
        char **rcpt_addrs; /* NULL-terminated */
        struct email_send *sends;
        struct digest_entry *batch;
        size_t n_batch, batch_allocated;
        sd_event_source *flush;
};

static void waiters_complete(struct sink *s, struct waiter *w, size_t n, enum sink_result result,
                             uint64_t retry_after_usec, const char *detail)
{
        for (size_t i = 0; i < n; i++)
                w[i].done(s, result, retry_after_usec, detail, w[i].userdata);
}

static struct email_send *email_send_free(struct email_send *es)
{
        if (!es)
                return NULL;
        if (es->easy) {
                http_remove(es->sink->http, es->easy);
                curl_easy_cleanup(es->easy);
        }
        curl_slist_free_all(es->rcpt);
        if (es->message) {
                explicit_bzero(es->message, es->size);
                free(es->message);
        }
        free(es->waiters);
        free(es);
        return NULL;
}

static void email_send_unlink(struct email_send *es)
{
        struct email_sink *e = es->sink;
        if (es->prev)
                es->prev->next = es->next;
        else if (e->sends == es)
                e->sends = es->next;
        if (es->next)
                es->next->prev = es->prev;
        es->prev = es->next = NULL;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
        struct email_send *es = userdata;
        size_t n = size * nitems, left = es->size - es->offset;

        if (n > left)
                n = left;
        memcpy(buf, es->message + es->offset, n);
        es->offset += n;
        return n;
}

/* What the SMTP dialogue's end means for the outbox. detail gets a short reason. */
static enum sink_result smtp_outcome(CURLcode code, long response, const char *errbuf, char *detail,
                                     size_t size)
{
        const char *why = errbuf && errbuf[0] ? errbuf : curl_easy_strerror(code);

        switch (code) {
        case CURLE_OK:
                snprintf(detail, size, "SMTP %ld", response);
                return SINK_ACCEPTED;
        case CURLE_PEER_FAILED_VERIFICATION:
                snprintf(detail, size,
                         "certificate not trusted: set ca_file to the server's CA (%s)", why);
                return SINK_TRY_LATER;
        case CURLE_SSL_CACERT_BADFILE:
                snprintf(detail, size, "cannot use ca_file: %s", why);
                return SINK_TRY_LATER;
        case CURLE_USE_SSL_FAILED:
                snprintf(detail, size,
                         "the server does not offer STARTTLS and starttls is 'required': "
                         "nothing was sent (%s)",
                         why);
                return SINK_TRY_LATER;
        case CURLE_LOGIN_DENIED:
                /* a password is fixed by the admin; the notifications wait for that */
                snprintf(detail, size,
                         "authentication failed: check username and password_file (%s)", why);
                return SINK_TRY_LATER;
        default:
                break;
        }
        if (response == 530 || response == 534 || response == 535) {
                snprintf(detail, size,
                         "authentication failed (SMTP %ld): check username and password_file",
                         response);
                return SINK_TRY_LATER;
        }
        if (response >= 500 && response < 600) {
                snprintf(detail, size, "SMTP %ld: %s", response, why);
                return SINK_REJECTED;
        }
        if (response >= 400 && response < 500) {
                snprintf(detail, size, "SMTP %ld: %s", response, why);
                return SINK_TRY_LATER;
        }
        snprintf(detail, size, "%s", why);
        return SINK_TRY_LATER;
}

static void on_done(CURL *easy, CURLcode code, void *userdata)
{
        struct email_send *es = userdata;
        struct email_sink *e = es->sink;
        long response = 0;
        char detail[CURL_ERROR_SIZE + 160];

        (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response);
        enum sink_result result = smtp_outcome(code, response, es->errbuf, detail, sizeof(detail));
        if (result == SINK_ACCEPTED)
                log_debug("Sink %s: message of %zu bytes accepted (%s).", e->sink.name, es->size,
                          detail);
        else
                log_warning("Sink %s: %s: %s", e->sink.name, sink_result_name(result), detail);

        email_send_unlink(es);
        curl_easy_cleanup(es->easy);
        es->easy = NULL; /* http no longer knows it */
        struct waiter *w = TAKE_PTR(es->waiters);
        size_t n = es->n_waiters;
        email_send_free(es);
        /* last: a done callback may free the sink (a reload after the final send) */
        waiters_complete(&e->sink, w, n, result, 0, detail);
        free(w);
}

static int message_id_local(char *buf, size_t size)
{
        uint64_t v[2] = {0, 0};
        static uint64_t counter;

        if (getrandom(v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
                /* no entropy yet (early boot): time and a counter are unique enough here */
                v[0] = now_realtime_usec();
                v[1] = ++counter ^ (uint64_t)getpid() << 32;
        }
        int n = snprintf(buf, size, "%016" PRIx64 "%016" PRIx64 ".govwatch", v[0], v[1]);
        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

/* Starts one SMTP transfer of a message with subject and body, completing waiters (taken
 * over, on success and failure alike) when it ends. */
/* The message, into es->message. A -EINVAL is no better tried again (*ret_fail says so). */
static int email_message(struct email_sink *e, struct email_send *es, const char *subject,
                         const char *body, char *detail, size_t size, enum sink_result *ret_fail)
{
        const struct email_settings *set = e->settings;
        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        int32_t offset = 0;
        char mid[64];
        int r;

        if (tz_utc_offset(NULL, now, &offset) < 0)
                offset = 0;
        r = message_id_local(mid, sizeof(mid));
        struct mail_message m = {
                .from = set->from,
                .to = set->to,
                .subject = subject,
                .body = body,
                .date = now,
                .utc_offset = offset,
                .message_id = mid,
        };
        if (r >= 0)
                r = mail_build(&m, &es->message, &es->size);
        if (r < 0) {
                /* the addresses were checked at create and the subject flattened: this is a
                 * bug or memory, and retrying the same input cannot help a -EINVAL */
                *ret_fail = r == -EINVAL ? SINK_REJECTED : SINK_TRY_LATER;
                snprintf(detail, size, "cannot build the message: %s", strerror(-r));
        }
        return r;
}

/* The SMTP password, when the sink logs in: *ret is NULL when it does not. */
static int email_password(const struct email_settings *set, char **ret, size_t *ret_size,
                          char *detail, size_t size)
{
        int r;

        *ret = NULL;
        if (!set->username || !set->password_file)
                return 0;
        r = read_full_file(set->password_file, PASSWORD_MAX, true, ret, ret_size);
        if (r < 0) {
                snprintf(detail, size, "cannot read password_file %s: %s", set->password_file,
                         strerror(-r));
                return r;
        }
        /* the unit's fallback for a missing smtp-password credential is an empty one */
        if ((*ret)[0] == '\0') {
                snprintf(detail, size,
                         "password_file %s is empty (the service's smtp-password credential is "
                         "empty when its file is missing)",
                         set->password_file);
                return -ENODATA;
        }
        return 0;
}

/* The curl handle of es, with its recipients; password (may be NULL) is wiped once set. */
static int email_easy(struct email_sink *e, struct email_send *es, char *password,
                      size_t password_size, char *detail, size_t size)
{
        const struct email_settings *set = e->settings;
        long timeout_ms = (long)(e->conf->timeout_usec / USEC_PER_MSEC);

        for (char **a = e->rcpt_addrs; *a; a++) {
                struct curl_slist *l = curl_slist_append(es->rcpt, *a);
                if (!l) {
                        snprintf(detail, size, "out of memory");
                        return -ENOMEM;
                }
                es->rcpt = l;
        }
        es->easy = curl_easy_init();
        if (!es->easy) {
                snprintf(detail, size, "cannot create a curl handle");
                return -ENOMEM;
        }
        CURL *c = es->easy;
        curl_easy_setopt(c, CURLOPT_URL, set->url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, es->errbuf);
        curl_easy_setopt(c, CURLOPT_USE_SSL,
                         set->starttls == STARTTLS_NEVER      ? (long)CURLUSESSL_NONE
                         : set->starttls == STARTTLS_OPTIONAL ? (long)CURLUSESSL_TRY
                                                              : (long)CURLUSESSL_ALL);
        if (set->ca_file)
                curl_easy_setopt(c, CURLOPT_CAINFO, set->ca_file);
        if (password) {
                curl_easy_setopt(c, CURLOPT_USERNAME, set->username);
                curl_easy_setopt(c, CURLOPT_PASSWORD, password); /* libcurl keeps a copy */
                explicit_bzero(password, password_size);
        }
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, e->from_addr);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, es->rcpt);
        /* without UPLOAD libcurl sends VRFY and reports success with nothing sent */
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(c, CURLOPT_READDATA, es);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)es->size);
        return 0;
}

static void email_start(struct email_sink *e, const char *subject, const char *body,
                        struct waiter *waiters, size_t n_waiters)
{
        _cleanup_free_ char *password = NULL;
        size_t password_size = 0;
        struct email_send *es = NULL;
        char detail[256];
        enum sink_result fail = SINK_TRY_LATER;
        int r;

        es = calloc(1, sizeof(*es));
        if (!es) {
                snprintf(detail, sizeof(detail), "out of memory");
                goto fail;
        }
        es->sink = e;
        es->waiters = waiters;
        es->n_waiters = n_waiters;
        waiters = NULL;

        r = email_message(e, es, subject, body, detail, sizeof(detail), &fail);
        if (r >= 0)
                r = email_password(e->settings, &password, &password_size, detail, sizeof(detail));
        if (r >= 0)
                r = email_easy(e, es, password, password_size, detail, sizeof(detail));
        if (r < 0)
                goto fail;
        r = http_add(e->http, es->easy, on_done, es);
        if (r < 0) {
                snprintf(detail, sizeof(detail), "cannot start the transfer: %s", strerror(-r));
                goto fail;
        }
        es->next = e->sends;
        if (e->sends)
                e->sends->prev = es;
        e->sends = es;
        return;

fail:
        if (password)
                explicit_bzero(password, password_size);
        log_warning("Sink %s: %s", e->sink.name, detail);
        if (es) {
                waiters = TAKE_PTR(es->waiters);
                email_send_free(es);
        }
        waiters_complete(&e->sink, waiters, n_waiters, fail, 0, detail);
        free(waiters);
}

/* The body template for one notification (also one digest entry): the whole text, then where
 * it comes from. A broadcast's start gets its own line only when there is one. */
static const char *body_template(const struct sink_conf *conf, const struct notification *n,
                                 bool digest)
{
        if (conf->template_body)
                return conf->template_body;
        if (digest)
                return n->starts_at ? "{community}, {date}\n{text}\nНачало: {starts_at}\n{url}"
                                    : "{community}, {date}\n{text}\n{url}";
        /* the links, each with its label: "Открыть", or a live broadcast's "Задать вопрос" and
         * "Смотреть" (notification_actions) */
        return n->starts_at ? "{text}\n\nНачало: {starts_at}\n\n{actions}\nСообщество: "
                              "{community}\nКатегория: {category}\nТема: {topic}\n"
                            : "{text}\n\n{actions}\nСообщество: {community}\nКатегория: "
                              "{category}\nТема: {topic}\n";
}

static size_t body_max(const struct sink_conf *conf)
{
        return conf->max_length > 0 ? conf->max_length : BODY_DEFAULT_MAX;
}

/* The subject's text (before header encoding) and the body of one mail. */
static int email_render(const struct sink_conf *conf, const struct notification *n,
                        char **ret_title, char **ret_body)
{
        return sink_render_templates(conf, n, RENDER_DEFAULT_TITLE, body_template(conf, n, false),
                                     body_max(conf), ret_title, ret_body);
}

static int send_now(struct email_sink *e, const struct notification *n, sink_done_fn done,
                    void *userdata)
{
        _cleanup_free_ char *title = NULL, *subject = NULL, *body = NULL;
        struct waiter *w;
        int r;

        r = email_render(e->conf, n, &title, &body);
        if (r >= 0)
                r = mail_header_text(title, SUBJECT_MAX_BYTES, &subject);
        if (r < 0)
                return log_warning_errno(r, "Sink %s: cannot render the notification: %m",
                                         e->sink.name);
        w = malloc(sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (struct waiter){done, userdata};
        email_start(e, subject, body, w, 1);
        return 0;
}

/* ---- digest ------------------------------------------------------------------------------ */

/* The end of the digest window that contains t: the next multiple of the interval in local
 * time (so a daily digest goes at midnight, not at 03:00 Moscow time). */
static int64_t digest_window_end(int64_t t, uint64_t interval_usec)
{
        int64_t iv = (int64_t)(interval_usec / USEC_PER_SEC);
        int32_t offset = 0;

        if (iv <= 0)
                iv = 1;
        if (tz_utc_offset(NULL, t, &offset) < 0)
                offset = 0;
        int64_t local = t + offset;
        int64_t start = local - (((local % iv) + iv) % iv);
        return start + iv - offset;
}

static void digest_entry_done(struct digest_entry *d)
{
        free(d->topic);
        free(d->category);
        free(d->text);
}

static int digest_entry_cmp(const void *a, const void *b)
{
        const struct digest_entry *x = a, *y = b;
        int c = strcmp(x->topic, y->topic);
        if (c == 0)
                c = strcmp(x->category, y->category);
        if (c == 0)
                c = x->date < y->date ? -1 : x->date > y->date;
        if (c == 0)
                c = x->seq < y->seq ? -1 : x->seq > y->seq;
        return c;
}

/* Russian plural of "запись": 1 запись, 2 записи, 5 записей, 21 запись, 11 записей. */
static int digest_compose(struct digest_entry *entries, size_t n, char **ret_subject,
                          char **ret_body)
{
        struct strbuf subject = {0}, body = {0};
        int r;

        qsort(entries, n, sizeof(*entries), digest_entry_cmp);
        r = strbuf_appendf(&subject, "Сводка: %zu %s", n,
                           plural_ru(n, "запись", "записи", "записей"));
        for (size_t i = 0; i < n && r >= 0; i++) {
                const struct digest_entry *d = &entries[i];
                bool new_topic = i == 0 || !streq(d->topic, entries[i - 1].topic);
                bool new_category = new_topic || !streq(d->category, entries[i - 1].category);
                if (new_topic) {
                        r = strbuf_appendf(&subject, "%s%s", i == 0 ? " — " : ", ",
                                           d->topic[0] ? d->topic : "без темы");
                        if (r >= 0)
                                r = strbuf_appendf(&body, "%s== %s ==\n", i == 0 ? "" : "\n",
                                                   d->topic[0] ? d->topic : "Без темы");
                }
                if (r >= 0 && new_category)
                        r = strbuf_appendf(&body, "\n-- %s --\n",
                                           d->category[0] ? d->category : "Без категории");
                if (r >= 0)
                        r = strbuf_appendf(&body, "\n%s\n", d->text);
        }
        if (r >= 0)
                r = strbuf_append(&body, "", 0);
        if (r >= 0)
                r = mail_header_text(subject.buf, SUBJECT_MAX_BYTES, ret_subject);
        strbuf_done(&subject);
        if (r < 0) {
                strbuf_done(&body);
                return r;
        }
        *ret_body = body.buf;
        return 0;
}

static int on_flush(sd_event_source *source, void *userdata)
{
        struct email_sink *e = userdata;
        struct digest_entry *entries = TAKE_PTR(e->batch);
        size_t n = e->n_batch;
        _cleanup_free_ char *subject = NULL, *body = NULL;
        struct waiter *waiters;
        int r;

        e->flush = sd_event_source_disable_unref(e->flush);
        e->n_batch = e->batch_allocated = 0;
        if (n == 0) {
                free(entries);
                return 0;
        }
        waiters = calloc(n, sizeof(*waiters));
        r = waiters ? digest_compose(entries, n, &subject, &body) : -ENOMEM;
        if (waiters)
                for (size_t i = 0; i < n; i++)
                        waiters[i] = entries[i].waiter;
        log_debug("Sink %s: sending a digest of %zu notifications.", e->sink.name, n);
        if (r >= 0)
                email_start(e, subject, body, waiters, n);
        else {
                log_warning_errno(r, "Sink %s: cannot compose the digest: %m", e->sink.name);
                for (size_t i = 0; i < n; i++)
                        entries[i].waiter.done(&e->sink, SINK_TRY_LATER, 0,
                                               "cannot compose the digest",
                                               entries[i].waiter.userdata);
                free(waiters);
        }
        for (size_t i = 0; i < n; i++)
                digest_entry_done(&entries[i]);
        free(entries);
        return 0;
}

static int digest_add(struct email_sink *e, const struct notification *n, sink_done_fn done,
                      void *userdata)
{
        _cleanup_free_ char *text = NULL, *topic = NULL, *category = NULL;
        int r;

        if (e->n_batch >= DIGEST_MAX_ENTRIES)
                return -ENOBUFS; /* the outbox answers "try later" */
        r = render_template(body_template(e->conf, n, true), n, body_max(e->conf), &text);
        if (r < 0)
                return log_warning_errno(r, "Sink %s: cannot render the notification: %m",
                                         e->sink.name);
        r = mail_header_text(n->topic, 0, &topic);
        if (r < 0)
                return r;
        r = mail_header_text(
                n->categories && n->categories[0] ? render_category_title(n->categories[0]) : "", 0,
                &category);
        if (r < 0)
                return r;
        if (!e->flush) {
                /* runs after the outbox has handed over everything that is due now */
                r = sd_event_add_defer(e->event, &e->flush, on_flush, e);
                if (r < 0)
                        return r;
                (void)sd_event_source_set_description(e->flush, "email-digest");
        }
        if (!greedy_realloc((void **)&e->batch, &e->batch_allocated, e->n_batch + 1,
                            sizeof(*e->batch)))
                return -ENOMEM;
        e->batch[e->n_batch] = (struct digest_entry){
                .topic = TAKE_PTR(topic),
                .category = TAKE_PTR(category),
                .text = TAKE_PTR(text),
                .date = n->date,
                .seq = e->n_batch,
                .waiter = {done, userdata},
        };
        e->n_batch++;
        return 0;
}

static int email_send(struct sink *s, const struct notification *n, sink_done_fn done,
                      void *userdata)
{
        struct email_sink *e = (struct email_sink *)s;
        bool bypass = n->kind && (streq(n->kind, "test") || streq(n->kind, "alert"));

        if (e->settings->digest_usec == 0 || bypass)
                return send_now(e, n, done, userdata);

        int64_t now = (int64_t)(now_realtime_usec() / USEC_PER_SEC);
        int64_t created = n->created > 0 ? n->created : now;
        int64_t end = digest_window_end(created, e->settings->digest_usec);
        if (now < end) {
                char detail[96], when[32] = "";
                struct tm tm;
                /* in the zone digest_window_end() cut the window in */
                if (tz_localtime(NULL, end, &tm) >= 0)
                        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                snprintf(detail, sizeof(detail), "held for the digest until %s", when);
                /* a second late rather than early: the outbox counts whole seconds */
                done(s, SINK_HELD, (uint64_t)(end - now + 1) * USEC_PER_SEC, detail, userdata);
                return 0;
        }
        return digest_add(e, n, done, userdata);
}

/* ---- settings ---------------------------------------------------------------------------- */

static const char *check_smtp_url(const char *v, char *buf, size_t size)
{
        return setting_check_url(v, "smtp", buf, size);
}

/* Why the address part of v (between a final '>' and the '<' before it, else all of v) is too
 * long for SMTP and for one header line (RFC 5322's 998 bytes), or NULL: its domain becomes the
 * Message-ID's right part and must be a DNS name, the address fit in an SMTP path. */
static const char *address_too_long(const char *v, char *buf, size_t size)
{
        size_t len = strlen(v);
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
        const char *a = v;
        if (len > 0 && v[len - 1] == '>') {
                const char *lt = NULL;
                for (const char *p = v; p < v + len - 1; p++)
                        if (*p == '<')
                                lt = p;
                if (lt) {
                        a = lt + 1;
                        len = (size_t)(v + len - 1 - a);
                }
        }
        while (len > 0 && (*a == ' ' || *a == '\t')) {
                a++;
                len--;
        }
        const char *at = memrchr(a, '@', len);
        const char *domain = at ? at + 1 : a + len;
        size_t domain_len = (size_t)(a + len - domain), label = 0, longest = 0;
        for (size_t i = 0; i < domain_len; i++) {
                label = domain[i] == '.' ? 0 : label + 1;
                longest = label > longest ? label : longest;
        }
        _cleanup_free_ char *addr = strndup(a, len);
        if (!addr) {
                snprintf(buf, size, "out of memory");
                return buf;
        }
        if (domain_len > ADDRESS_DOMAIN_MAX || longest > ADDRESS_LABEL_MAX) {
                snprintf(buf, size,
                         "the domain of '%s' is longer than a DNS name may be (%d bytes, %d a "
                         "label)",
                         SETTING_QUOTE(addr), ADDRESS_DOMAIN_MAX, ADDRESS_LABEL_MAX);
                return buf;
        }
        if (len > MAIL_ADDR_MAX) {
                snprintf(buf, size, "the address '%s' is longer than %d bytes (RFC 5321)",
                         SETTING_QUOTE(addr), MAIL_ADDR_MAX);
                return buf;
        }
        return NULL;
}

/* What the e-mail sink will parse when it sends (mail.c), refused here rather than at 3 am. */
static const char *check_address(const char *v, char *buf, size_t size)
{
        _cleanup_free_ char *display = NULL, *addr = NULL;
        const char *reason = address_too_long(v, buf, size);
        if (reason)
                return reason;
        int r = mail_address_parse(v, &display, &addr);
        if (r == -ENOMEM) {
                snprintf(buf, size, "out of memory");
                return buf;
        }
        if (r < 0) {
                snprintf(buf, size,
                         "expected an e-mail address (user@example.org or \"Name "
                         "<user@example.org>\"), "
                         "got '%s'",
                         SETTING_QUOTE(v));
                return buf;
        }
        return NULL;
}

static const char *const starttls_values[] = {
        [STARTTLS_REQUIRED] = "required",
        [STARTTLS_OPTIONAL] = "optional",
        [STARTTLS_NEVER] = "never",
        NULL,
};

#define OFF(f) offsetof(struct email_settings, f)
static const struct setting email_table[] = {
        {S("url", SETTING_STRING, OFF(url), NULL, "smtp:// or smtps:// server"), .required = true,
         .check = check_smtp_url},
        {S("starttls", SETTING_ENUM, OFF(starttls), "required", "required, optional or never"),
         .enum_values = starttls_values},
        {S("ca_file", SETTING_PATH, OFF(ca_file), NULL, "CA bundle for a private CA")},
        {S("username", SETTING_STRING, OFF(username), NULL, "SMTP AUTH user")},
        {S("password_file", SETTING_PATH, OFF(password_file), NULL, "SMTP AUTH password file")},
        {S("from", SETTING_STRING, OFF(from), NULL, "From: header and envelope sender"),
         .required = true, .check = check_address},
        {S("to", SETTING_STRV, OFF(to), NULL, "recipients"), .required = true,
         .check = check_address},
        /* the hold (SINK_HELD) is this sink's: no other type takes the key */
        {S("digest", SETTING_DURATION, OFF(digest_usec), "0",
           "batch notifications into one mail per interval (0: send each)")},
};

static void email_check(const struct sink_conf *conf, struct setting_errors *e)
{
        const struct email_settings *set = conf->settings;
        if (set->username && !set->password_file)
                setting_error_at_key(e, "username", "'username' needs 'password_file' as well");
        if (!set->username && set->password_file)
                setting_error_at_key(e, "password_file",
                                     "'password_file' needs 'username' as well");
}

/* ---- life cycle -------------------------------------------------------------------------- */

static void email_free(struct sink *s)
{
        struct email_sink *e = (struct email_sink *)s;

        if (!e)
                return;
        /* Sends still in flight or gathered are dropped without completing them: their outbox
         * rows are still pending in the store and go out on the next delivery. */
        while (e->sends) {
                struct email_send *es = e->sends;
                email_send_unlink(es);
                email_send_free(es);
        }
        for (size_t i = 0; i < e->n_batch; i++)
                digest_entry_done(&e->batch[i]);
        free(e->batch);
        sd_event_source_disable_unref(e->flush);
        sd_event_unref(e->event);
        free(e->from_addr);
        strv_free(e->rcpt_addrs);
        free(e);
}

static int email_create(const struct sink_conf *conf, const struct sink_context *ctx,
                        struct sink **ret)
{
        _cleanup_free_ char *display = NULL, *addr = NULL;
        const struct email_settings *set = conf->settings;
        struct email_sink *e;
        int r;

        if (!ctx || !ctx->http || !ctx->event || !set || !set->url || !set->from || !set->to ||
            !set->to[0])
                return -EINVAL;
        size_t n_to = strv_length(set->to);
        r = mail_address_parse(set->from, &display, &addr);
        if (r < 0)
                return log_error_errno(r, "Sink %s: invalid 'from' address.", conf->name);

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->conf = conf;
        e->settings = set;
        e->sink.name = conf->name;
        e->event = sd_event_ref(ctx->event);
        e->http = ctx->http;
        e->rcpt_addrs = calloc(n_to + 1, sizeof(char *));
        if (!e->rcpt_addrs || asprintf(&e->from_addr, "<%s>", addr) < 0) {
                e->from_addr = NULL;
                email_free(&e->sink);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_to; i++) {
                _cleanup_free_ char *d = NULL, *a = NULL;
                r = mail_address_parse(set->to[i], &d, &a);
                if (r < 0) {
                        email_free(&e->sink);
                        /* the address may be an injection attempt: do not echo it raw */
                        return log_error_errno(r, "Sink %s: invalid 'to' address #%zu.", conf->name,
                                               i + 1);
                }
                if (asprintf(&e->rcpt_addrs[i], "<%s>", a) < 0) {
                        e->rcpt_addrs[i] = NULL;
                        email_free(&e->sink);
                        return -ENOMEM;
                }
        }
        if (set->username && strncasecmp(set->url, "smtps://", 8) != 0 &&
            set->starttls != STARTTLS_REQUIRED)
                log_warning("Sink %s: starttls is '%s', so the SMTP password may travel "
                            "unencrypted.",
                            conf->name, set->starttls == STARTTLS_NEVER ? "never" : "optional");
        *ret = &e->sink;
        return 0;
}

const struct sink_ops sink_email_ops = {
        .type = "email",
        SINK_SETTINGS(email_table, struct email_settings),
        .check = email_check,
        .create = email_create,
        .send = email_send,
        .free = email_free,
        .render = email_render,
};
