/* detect.c — the new-post decision (detect.h): pure, unit-tested in tests/unit/test-detect.c.
 *
 * One pass over the wall's posts in VK's order. A post below the highest id seen before is old
 * by construction, and needs no row: only an edit might change it (resend_on_category_change).
 * On first sight only the backfilled posts get a row; the community's last_post_id covers the
 * rest, which keeps a 7000-community first sweep from writing 140 000 rows.
 */
#include <errno.h>
#include <stdlib.h>

#include "detect.h"
#include "util.h"

static bool skipped(const struct detect_options *o, const struct post *p)
{
        return (o->skip_ads && p->marked_as_ads) || (o->skip_donut && p->donut);
}

/* On first sight: p is one of the newest `backfill` posts that are not pinned. *left counts
 * down over the pass. */
static bool backfilled(const struct post *p, unsigned *left)
{
        if (p->is_pinned || *left == 0)
                return false;
        (*left)--;
        return true;
}

static bool may_be_edit(const struct detect_options *o, const struct post *p)
{
        return o->resend_on_category_change && p->edited > 0;
}

size_t detect_rows_wanted(const struct detect_wall *w, const struct detect_options *o,
                          struct post *const *posts, size_t n_posts, bool *ret_wanted)
{
        unsigned left = w->first_sight ? o->backfill : 0;
        size_t n = 0;

        for (size_t i = 0; i < n_posts; i++) {
                const struct post *p = posts[i];
                if (o->preview_all)
                        ret_wanted[i] = false;
                else if (w->first_sight)
                        ret_wanted[i] = backfilled(p, &left);
                else
                        ret_wanted[i] = p->id > w->last_post_id || may_be_edit(o, p);
                n += ret_wanted[i];
        }
        return n;
}

static int classify_once(struct detect_post *d, const struct post *p, detect_classify_fn classify,
                         void *userdata, unsigned *counter)
{
        int r;

        if (d->classified)
                return 0;
        r = classify(p, &d->cr, userdata);
        if (r < 0)
                return r;
        d->classified = true;
        (*counter)++;
        return 0;
}

static void verdict(struct detect_post *d, enum detect_verdict v, const char *why,
                    uint64_t record_categories)
{
        d->verdict = v;
        d->why = why;
        d->record_categories = record_categories;
}

/* A post the store has a row of: an edit may send it again. */
static int decide_seen(const struct detect_options *o, const struct post *p,
                       const struct detect_row *row, struct detect_post *d,
                       detect_classify_fn classify, void *userdata, unsigned *counter)
{
        int r;

        if (!o->resend_on_category_change || p->edited <= row->edited) {
                verdict(d, DETECT_OLD, "seen", 0);
                return 0;
        }
        if (skipped(o, p)) {
                verdict(d, DETECT_OLD, "seen, edited, skipped", 0);
                return 0;
        }
        r = classify_once(d, p, classify, userdata, counter);
        if (r < 0)
                return r;
        if ((d->cr.categories & ~row->categories) == 0)
                verdict(d, DETECT_OLD, "edited, no new category", 0);
        else
                verdict(d, DETECT_RESEND, "edited, new category",
                        d->cr.categories | row->categories);
        return 0;
}

/* A post the store has no row of, and that may need one. */
static int decide_unseen(const struct detect_wall *w, const struct detect_options *o,
                         const struct post *p, struct detect_post *d, detect_classify_fn classify,
                         void *userdata, unsigned *counter)
{
        bool is_new = w->first_sight || p->id > w->last_post_id; /* first sight: a backfill */
        int r;

        if (skipped(o, p)) {
                verdict(d, DETECT_RECORD, p->marked_as_ads ? "ad, skipped" : "donut, skipped", 0);
                return 0;
        }
        /* an old post we hold no row of, edited: record what it is now, so that a later edit is
         * measured against it (it was never sent: first sight took it as seen) */
        r = classify_once(d, p, classify, userdata, counter);
        if (r < 0)
                return r;
        if (is_new)
                verdict(d, DETECT_NEW, w->first_sight ? "backfill" : "new", d->cr.categories);
        else
                verdict(d, DETECT_RECORD, "old, edited, unrecorded", d->cr.categories);
        return 0;
}

/* The dates the scheduler learns from (detect.h, struct detect_result). */
static void collect_dates(const struct detect_wall *w, struct post *const *posts, size_t n_posts,
                          const bool *wanted, const struct detect_row *rows,
                          struct detect_result *res)
{
        int64_t oldest = INT64_MAX;

        if (w->first_sight) {
                for (size_t i = 0; i < n_posts; i++)
                        if (!posts[i]->is_pinned && posts[i]->date < oldest)
                                oldest = posts[i]->date;
                if (oldest == INT64_MAX)
                        return;
                for (size_t i = 0; i < n_posts; i++)
                        if (posts[i]->date >= oldest)
                                res->dates[res->n_dates++] = posts[i]->date;
                res->history_since = oldest;
                return;
        }
        for (size_t i = 0; i < n_posts; i++)
                if (posts[i]->id > w->last_post_id && !(wanted[i] && rows && rows[i].seen))
                        res->dates[res->n_dates++] = posts[i]->date;
}

static int decide_post(const struct detect_wall *w, const struct detect_options *o,
                       const struct post *p, bool wanted, const struct detect_row *row,
                       struct detect_post *d, detect_classify_fn classify, void *userdata,
                       unsigned *counter)
{
        int r;

        if (o->preview_all) {
                /* a preview of what the wall holds now, seen or not (dry-run only) */
                if (skipped(o, p)) {
                        verdict(d, DETECT_OLD, "skipped", 0);
                        return 0;
                }
                r = classify_once(d, p, classify, userdata, counter);
                if (r < 0)
                        return r;
                verdict(d, DETECT_NEW, "preview", d->cr.categories);
                return 0;
        }
        if (!wanted) {
                verdict(d, DETECT_OLD,
                        w->first_sight ? "first sight"
                        : p->is_pinned ? "pinned, old"
                                       : "old",
                        0);
                return 0;
        }
        if (row && row->seen)
                return decide_seen(o, p, row, d, classify, userdata, counter);
        return decide_unseen(w, o, p, d, classify, userdata, counter);
}

int detect_decide(const struct detect_wall *w, const struct detect_options *o,
                  struct post *const *posts, size_t n_posts, const struct detect_row *rows,
                  detect_classify_fn classify, void *userdata, struct detect_result *ret)
{
        _cleanup_free_ bool *wanted = calloc(n_posts + 1, sizeof(bool));
        struct detect_result res = {
                .posts = calloc(n_posts + 1, sizeof(struct detect_post)),
                .n_posts = n_posts,
                .dates = calloc(n_posts + 1, sizeof(int64_t)),
                .last_post_id = w->first_sight ? 0 : w->last_post_id,
                .last_post_date = w->first_sight ? 0 : w->last_post_date,
        };
        int r;

        if (!wanted || !res.posts || !res.dates) {
                detect_result_done(&res);
                return -ENOMEM;
        }
        detect_rows_wanted(w, o, posts, n_posts, wanted);
        for (size_t i = 0; i < n_posts; i++) {
                const struct post *p = posts[i];
                if (p->id > res.last_post_id) {
                        res.last_post_id = p->id;
                        res.last_post_date = p->date;
                }
                r = decide_post(w, o, p, wanted[i], wanted[i] && rows ? &rows[i] : NULL,
                                &res.posts[i], classify, userdata, &res.n_classified);
                if (r < 0) {
                        detect_result_done(&res);
                        return r;
                }
        }
        collect_dates(w, posts, n_posts, wanted, rows, &res);
        *ret = res;
        return 0;
}

void detect_result_done(struct detect_result *r)
{
        free(r->posts);
        free(r->dates);
        *r = (struct detect_result){0};
}

bool detect_burst(const struct detect_wall *w, struct post *const *page, size_t n,
                  unsigned page_size, unsigned next_offset, int64_t wall_count)
{
        int64_t oldest = INT64_MAX;

        if (w->first_sight || n == 0 || n < page_size || (int64_t)next_offset >= wall_count)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!page[i]->is_pinned && page[i]->id < oldest)
                        oldest = page[i]->id;
        return oldest != INT64_MAX && oldest > w->last_post_id;
}

const char *detect_verdict_to_string(enum detect_verdict v)
{
        static const char *const names[_DETECT_VERDICT_MAX] = {
                [DETECT_OLD] = "old",
                [DETECT_RECORD] = "record",
                [DETECT_NEW] = "new",
                [DETECT_RESEND] = "resend",
        };
        return v >= 0 && v < _DETECT_VERDICT_MAX ? names[v] : NULL;
}
