/* detect.h — which posts of a wall are new: the decision, without I/O.
 *
 * Given one poll of a wall (its posts as VK gave them: a pinned post first, then newest to
 * oldest), what the store knows of the community and of some of its posts, and the config's
 * options, detect_decide() says for every post what to record and what to send. The sweep reads
 * the store first (detect_rows_wanted says which post rows), and applies the verdicts in one
 * transaction. Every post is classified at most once, through the function it is handed.
 *
 * "New" (DESIGN.md, Promises): a post is new when its id is above the highest id seen before.
 * VK numbers a wall's posts in increasing order, so an old post that was pinned, a deleted one,
 * or an edited one never looks new, and a repost is new like any post of the wall (it is sent as
 * the wall's post, classified by what it reposts). On first sight of a community nothing is new:
 * its current posts are taken as seen, but for the newest `backfill` posts that are not pinned.
 * An edited post is sent again only with resend_on_category_change, and only when the edit added
 * a category its stored row does not have. Ads and donut-only posts are never sent when skipped.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "post.h"

struct detect_options {
        unsigned backfill; /* first sight: send the newest few non-pinned posts */
        bool resend_on_category_change;
        bool skip_ads;    /* marked_as_ads */
        bool skip_donut;  /* donut-only */
        bool preview_all; /* once --dry-run --all: every post not skipped, as if new */
};

/* What the store knew of a community before this poll. */
struct detect_wall {
        bool first_sight;
        int64_t last_post_id; /* highest id seen before (ignored on first sight) */
        int64_t last_post_date;
};

/* A post's row in the store, as read for the posts detect_wants_row() names. */
struct detect_row {
        bool seen;
        uint64_t categories; /* what it was recorded with */
        int64_t edited;      /* its edit time then (0: never edited) */
};

enum detect_verdict {
        DETECT_OLD,    /* nothing to record, nothing to send */
        DETECT_RECORD, /* record as seen, send nothing */
        DETECT_NEW,    /* send, record as seen */
        DETECT_RESEND, /* an edit added a category: send again, record the union */
        _DETECT_VERDICT_MAX,
};

struct detect_post {
        enum detect_verdict verdict;
        const char *why;            /* a few words, for the debug log and the tests */
        bool classified;            /* cr is valid */
        struct classify_result cr;  /* what the post is, when classified */
        uint64_t record_categories; /* RECORD, NEW and RESEND: the row's categories */
};

struct detect_result {
        struct detect_post *posts; /* one per post, in the wall's order */
        size_t n_posts;
        /* the community's row after this poll */
        int64_t last_post_id;
        int64_t last_post_date;
        /* for the scheduler: the dates of the posts new to us; on first sight the page's history
         * from history_since on (an old pinned post, out of the page's time range, left out) */
        int64_t *dates;
        size_t n_dates;
        int64_t history_since; /* 0 unless first sight found a history */
        unsigned n_classified;
};

/* Classifies p into *ret; a negative errno fails the decision. */
typedef int (*detect_classify_fn)(const struct post *p, struct classify_result *ret,
                                  void *userdata);

/* Which posts' stored rows the decision needs: ret_wanted[i] for posts[i]. Returns how many. */
size_t detect_rows_wanted(const struct detect_wall *w, const struct detect_options *o,
                          struct post *const *posts, size_t n_posts, bool *ret_wanted);

/* rows: one per post, filled where detect_rows_wanted() said so (the others are not read; NULL
 * when it wanted none). On failure returns a negative errno and *ret holds nothing. */
int detect_decide(const struct detect_wall *w, const struct detect_options *o,
                  struct post *const *posts, size_t n_posts, const struct detect_row *rows,
                  detect_classify_fn classify, void *userdata, struct detect_result *ret);
void detect_result_done(struct detect_result *r);

/* A burst: every post of this page of the wall (n of them, page_size asked for) is new, and the
 * wall (wall_count posts) has more from next_offset on. The sweep then pages back, so that a
 * burst loses nothing. Never on first sight: there is nothing to catch up with. */
bool detect_burst(const struct detect_wall *w, struct post *const *page, size_t n,
                  unsigned page_size, unsigned next_offset, int64_t wall_count);

const char *detect_verdict_to_string(enum detect_verdict v);
