/* test-detect.c — the new-post decision (src/detect.c), every case of DESIGN.md's "new".
 *
 * A failure here is a flood (an old, pinned or edited post sent as new, a first sight sending a
 * wall's history) or a loss (a new post recorded without being sent). The classifier is a fake:
 * a post's categories are its text read as a number, and every call is counted, so the tests
 * also hold the decision to classifying each post at most once.
 */
#include <inttypes.h>

#include "test-helpers.h"

#include "detect.h"

#define LIVE    (UINT64_C(1) << 0)
#define SERVICE (UINT64_C(1) << 1)
#define OUTAGE  (UINT64_C(1) << 2)

struct fake {
        unsigned calls[64]; /* per post id */
        int fail_on;        /* post id whose classification fails, 0: none */
};

static int fake_classify(const struct post *p, struct classify_result *ret, void *userdata)
{
        struct fake *f = userdata;

        assert_true(p->id > 0 && p->id < 64);
        f->calls[p->id]++;
        if (p->id == f->fail_on)
                return -EIO;
        *ret = (struct classify_result){.categories = strtoull(p->text, NULL, 0)};
        return 0;
}

/* a wall: posts[i] = {id, date = 1000 * id, categories in its text} */
struct page {
        struct post *posts[16];
        size_t n;
};

static void add(struct page *w, int64_t id, uint64_t categories)
{
        struct post *p = calloc(1, sizeof(*p));
        assert_non_null(p);
        p->owner_id = -42;
        p->id = id;
        p->date = 1700000000 + 1000 * id;
        assert_true(asprintf(&p->text, "%" PRIu64, categories) > 0);
        w->posts[w->n++] = p;
}

static void wall_done(struct page *w)
{
        for (size_t i = 0; i < w->n; i++)
                post_free(w->posts[i]);
}

/* posts 20 (pinned, old) 12 11 10 9, newest first after the pinned post, as VK gives them */
static void typical(struct page *w)
{
        add(w, 5, LIVE);
        w->posts[0]->is_pinned = true;
        add(w, 12, LIVE);
        add(w, 11, 0);
        add(w, 10, SERVICE);
        add(w, 9, OUTAGE);
}

static struct detect_result decide(const struct detect_wall *dw, const struct detect_options *o,
                                   const struct page *w, const struct detect_row *rows,
                                   struct fake *f)
{
        struct detect_result res;
        assert_int_equal(detect_decide(dw, o, w->posts, w->n, rows, fake_classify, f, &res), 0);
        assert_int_equal(res.n_posts, w->n);
        for (size_t i = 0; i < 64; i++)
                assert_true(f->calls[i] <= 1); /* classified once, if at all */
        return res;
}

static unsigned count(const struct detect_result *r, enum detect_verdict v)
{
        unsigned n = 0;
        for (size_t i = 0; i < r->n_posts; i++)
                n += r->posts[i].verdict == v;
        return n;
}

static void test_first_sight_sends_nothing(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.first_sight = true};
        struct detect_options o = {0};
        bool wanted[16];

        typical(&w);
        assert_int_equal(detect_rows_wanted(&dw, &o, w.posts, w.n, wanted), 0);
        struct detect_result r = decide(&dw, &o, &w, NULL, &f);
        assert_int_equal(count(&r, DETECT_OLD), w.n);
        assert_int_equal(r.n_classified, 0);
        /* the community's row covers what was seen: the highest id, the pinned post's too */
        assert_int_equal(r.last_post_id, 12);
        assert_int_equal(r.last_post_date, w.posts[1]->date);
        /* the scheduler learns the page's history, the old pinned post left out */
        assert_int_equal(r.history_since, w.posts[4]->date);
        assert_int_equal(r.n_dates, 4);
        for (size_t i = 0; i < r.n_dates; i++)
                assert_true(r.dates[i] >= r.history_since);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_first_sight_backfill(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.first_sight = true};
        struct detect_options o = {.backfill = 2};
        struct detect_row rows[16] = {0};
        bool wanted[16];

        typical(&w);
        /* the newest two that are not pinned: 12 and 11, never the pinned post */
        assert_int_equal(detect_rows_wanted(&dw, &o, w.posts, w.n, wanted), 2);
        assert_false(wanted[0]);
        assert_true(wanted[1] && wanted[2]);
        assert_false(wanted[3] || wanted[4]);

        struct detect_result r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(r.posts[0].verdict, DETECT_OLD);
        assert_int_equal(r.posts[1].verdict, DETECT_NEW);
        assert_int_equal(r.posts[1].record_categories, LIVE);
        assert_true(r.posts[1].classified);
        assert_int_equal(r.posts[1].cr.categories, LIVE);
        assert_int_equal(r.posts[2].verdict, DETECT_NEW); /* sent even with no category: routing */
        assert_int_equal(r.posts[3].verdict, DETECT_OLD);
        assert_int_equal(r.posts[4].verdict, DETECT_OLD);
        assert_int_equal(r.n_classified, 2);
        assert_int_equal(f.calls[10] + f.calls[9] + f.calls[5], 0);

        /* a backfill larger than the page takes what there is, still not the pinned post */
        detect_result_done(&r);
        o.backfill = 100;
        memset(&f, 0, sizeof(f));
        r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(count(&r, DETECT_NEW), 4);
        assert_int_equal(r.posts[0].verdict, DETECT_OLD);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_new_by_id(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.last_post_id = 10, .last_post_date = 1};
        struct detect_options o = {.backfill = 5}; /* backfill is for first sight only */
        struct detect_row rows[16] = {0};
        bool wanted[16];

        typical(&w);
        assert_int_equal(detect_rows_wanted(&dw, &o, w.posts, w.n, wanted), 2);
        struct detect_result r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(r.posts[0].verdict, DETECT_OLD); /* pinned and old: never new */
        assert_string_equal(r.posts[0].why, "pinned, old");
        assert_int_equal(r.posts[1].verdict, DETECT_NEW);
        assert_int_equal(r.posts[2].verdict, DETECT_NEW);
        assert_int_equal(r.posts[3].verdict, DETECT_OLD); /* the highest seen before */
        assert_int_equal(r.posts[4].verdict, DETECT_OLD);
        assert_int_equal(r.n_classified, 2);
        assert_int_equal(r.last_post_id, 12);
        assert_int_equal(r.last_post_date, w.posts[1]->date);
        /* the scheduler learns the new posts' dates, and no history */
        assert_int_equal(r.n_dates, 2);
        assert_int_equal(r.dates[0], w.posts[1]->date);
        assert_int_equal(r.dates[1], w.posts[2]->date);
        assert_int_equal(r.history_since, 0);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_new_pinned_post_is_new(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.last_post_id = 12};
        struct detect_options o = {0};
        struct detect_row rows[16] = {0};

        typical(&w);
        w.posts[0]->id = 13; /* posted and pinned since the last poll */
        struct detect_result r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(r.posts[0].verdict, DETECT_NEW);
        assert_int_equal(count(&r, DETECT_NEW), 1);
        assert_int_equal(r.last_post_id, 13);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_deleted_newest_post(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        /* post 14 was seen, then deleted: the wall now ends at 12 */
        struct detect_wall dw = {.last_post_id = 14, .last_post_date = 99};
        struct detect_options o = {0};
        struct detect_row rows[16] = {0};

        typical(&w);
        struct detect_result r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(count(&r, DETECT_OLD), w.n);
        /* the high-water mark never goes down: nothing below it turns new */
        assert_int_equal(r.last_post_id, 14);
        assert_int_equal(r.last_post_date, 99);
        assert_int_equal(r.n_dates, 0);
        detect_result_done(&r);

        /* and a post after the deletion is new */
        add(&w, 15, OUTAGE);
        r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(r.posts[5].verdict, DETECT_NEW);
        assert_int_equal(count(&r, DETECT_NEW), 1);
        assert_int_equal(r.last_post_id, 15);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_repost_is_new_like_any_post(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.last_post_id = 10};
        struct detect_options o = {0};
        struct detect_row rows[16] = {0};

        add(&w, 11, SERVICE);
        /* a repost on the watched wall: its own new id, of an old post elsewhere */
        struct post *orig = calloc(1, sizeof(*orig));
        assert_non_null(orig);
        orig->owner_id = -7;
        orig->id = 3;
        orig->text = strdup("4");
        w.posts[0]->repost = orig;
        add(&w, 9, LIVE); /* an old post that was reposted elsewhere is still old */
        struct detect_result r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(r.posts[0].verdict, DETECT_NEW);
        assert_int_equal(r.posts[1].verdict, DETECT_OLD);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_edit_is_not_new(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.last_post_id = 12};
        struct detect_options o = {0};
        bool wanted[16];

        typical(&w);
        w.posts[3]->edited = w.posts[3]->date + 60;
        /* without resend_on_category_change an edit needs no row and sends nothing */
        assert_int_equal(detect_rows_wanted(&dw, &o, w.posts, w.n, wanted), 0);
        struct detect_result r = decide(&dw, &o, &w, NULL, &f);
        assert_int_equal(count(&r, DETECT_OLD), w.n);
        assert_int_equal(r.n_classified, 0);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_resend_on_category_change(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.last_post_id = 12};
        struct detect_options o = {.resend_on_category_change = true};
        struct detect_row rows[16] = {0};
        bool wanted[16];

        add(&w, 12, SERVICE | OUTAGE); /* edited: an outage added */
        add(&w, 11, SERVICE);          /* edited: no category added */
        add(&w, 10, LIVE);             /* edited before we recorded it: not again */
        add(&w, 9, OUTAGE);            /* not edited */
        w.posts[0]->edited = 5000;
        w.posts[1]->edited = 5000;
        w.posts[2]->edited = 4000;
        rows[0] = (struct detect_row){.seen = true, .categories = SERVICE, .edited = 0};
        rows[1] = (struct detect_row){.seen = true, .categories = SERVICE | LIVE, .edited = 0};
        rows[2] = (struct detect_row){.seen = true, .categories = 0, .edited = 4000};
        rows[3] = (struct detect_row){.seen = true, .categories = OUTAGE};

        assert_int_equal(detect_rows_wanted(&dw, &o, w.posts, w.n, wanted), 3);
        assert_false(wanted[3]);
        struct detect_result r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(r.posts[0].verdict, DETECT_RESEND);
        assert_int_equal(r.posts[0].record_categories, SERVICE | OUTAGE);
        assert_int_equal(r.posts[0].cr.categories, SERVICE | OUTAGE);
        assert_int_equal(r.posts[1].verdict, DETECT_OLD); /* lost one, gained none */
        assert_int_equal(r.posts[2].verdict, DETECT_OLD);
        assert_int_equal(r.posts[3].verdict, DETECT_OLD);
        assert_int_equal(r.n_classified, 2); /* the two edits since their rows */
        assert_int_equal(f.calls[10] + f.calls[9], 0);
        assert_int_equal(r.n_dates, 0); /* an edit is no new post for the scheduler */
        detect_result_done(&r);
        wall_done(&w);
}

static void test_edit_of_unrecorded_old_post(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.last_post_id = 12};
        struct detect_options o = {.resend_on_category_change = true};
        struct detect_row rows[16] = {0};

        /* taken as seen on first sight, without a row, and edited since: recorded as it is now,
         * not sent; a later edit is measured against that */
        add(&w, 8, LIVE);
        w.posts[0]->edited = 5000;
        struct detect_result r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(r.posts[0].verdict, DETECT_RECORD);
        assert_int_equal(r.posts[0].record_categories, LIVE);
        assert_int_equal(r.n_dates, 0);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_skipped_posts(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.last_post_id = 10};
        struct detect_options o = {
                .skip_ads = true, .skip_donut = true, .resend_on_category_change = true};
        struct detect_row rows[16] = {0};

        add(&w, 13, LIVE);
        add(&w, 12, LIVE);
        add(&w, 11, LIVE);
        add(&w, 9, LIVE);
        w.posts[0]->marked_as_ads = true;
        w.posts[1]->donut = true;
        w.posts[3]->marked_as_ads = true;
        w.posts[3]->edited = 7000;
        rows[3] = (struct detect_row){.seen = true};
        struct detect_result r = decide(&dw, &o, &w, rows, &f);
        /* recorded, so that they stay old, but never sent, nor classified */
        assert_int_equal(r.posts[0].verdict, DETECT_RECORD);
        assert_int_equal(r.posts[1].verdict, DETECT_RECORD);
        assert_int_equal(r.posts[2].verdict, DETECT_NEW);
        assert_int_equal(r.posts[3].verdict, DETECT_OLD); /* an ad edited: still not sent */
        assert_int_equal(r.n_classified, 1);
        /* they are new posts for the scheduler all the same */
        assert_int_equal(r.n_dates, 3);
        detect_result_done(&r);

        /* when not skipped, an ad is a post */
        o.skip_ads = o.skip_donut = false;
        memset(&f, 0, sizeof(f));
        r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(count(&r, DETECT_NEW), 3);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_new_post_already_recorded(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        /* a row above the community's mark (a backfill recorded on first sight, the mark lost):
         * seen, so not sent twice, and no new post for the scheduler */
        struct detect_wall dw = {.last_post_id = 10};
        struct detect_options o = {0};
        struct detect_row rows[16] = {0};

        add(&w, 12, LIVE);
        add(&w, 11, LIVE);
        rows[0] = (struct detect_row){.seen = true, .categories = LIVE};
        struct detect_result r = decide(&dw, &o, &w, rows, &f);
        assert_int_equal(r.posts[0].verdict, DETECT_OLD);
        assert_int_equal(r.posts[1].verdict, DETECT_NEW);
        assert_int_equal(r.n_dates, 1);
        assert_int_equal(r.dates[0], w.posts[1]->date);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_preview_all(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.last_post_id = 12};
        struct detect_options o = {.preview_all = true, .skip_ads = true};
        bool wanted[16];

        typical(&w);
        w.posts[4]->marked_as_ads = true;
        assert_int_equal(detect_rows_wanted(&dw, &o, w.posts, w.n, wanted), 0);
        struct detect_result r = decide(&dw, &o, &w, NULL, &f);
        assert_int_equal(count(&r, DETECT_NEW), 4); /* seen or not, pinned or not */
        assert_int_equal(r.posts[4].verdict, DETECT_OLD);
        detect_result_done(&r);
        wall_done(&w);
}

static void test_empty_wall_and_failure(void **state)
{
        struct page w = {0};
        struct fake f = {0};
        struct detect_wall dw = {.first_sight = true};
        struct detect_options o = {.backfill = 3};
        struct detect_row rows[16] = {0};
        struct detect_result r;

        r = decide(&dw, &o, &w, NULL, &f);
        assert_int_equal(r.last_post_id, 0);
        assert_int_equal(r.n_dates, 0);
        assert_int_equal(r.history_since, 0);
        detect_result_done(&r);

        /* a classifier failure fails the decision, and leaves nothing to free */
        typical(&w);
        f.fail_on = 11;
        assert_int_equal(detect_decide(&dw, &o, w.posts, w.n, rows, fake_classify, &f, &r), -EIO);
        wall_done(&w);
}

static void test_burst(void **state)
{
        struct page w = {0};
        struct detect_wall dw = {.last_post_id = 10};

        /* a full page (4 asked for) of posts all above the mark, and more on the wall */
        add(&w, 5, 0);
        w.posts[0]->is_pinned = true; /* an old pinned post does not end a burst */
        add(&w, 14, 0);
        add(&w, 13, 0);
        add(&w, 12, 0);
        add(&w, 11, 0);
        assert_true(detect_burst(&dw, w.posts, w.n, 4, 5, 40));
        /* the wall has no more */
        assert_false(detect_burst(&dw, w.posts, w.n, 4, 5, 5));
        /* a page shorter than asked for is the wall's end */
        assert_false(detect_burst(&dw, w.posts, w.n, 6, 5, 40));
        /* the page reaches what was seen: caught up */
        dw.last_post_id = 11;
        assert_false(detect_burst(&dw, w.posts, w.n, 4, 5, 40));
        dw.last_post_id = 10;
        /* first sight: nothing to catch up with */
        dw.first_sight = true;
        assert_false(detect_burst(&dw, w.posts, w.n, 4, 5, 40));
        dw.first_sight = false;
        /* nothing but a pinned post */
        assert_false(detect_burst(&dw, w.posts, 1, 1, 1, 40));
        assert_false(detect_burst(&dw, w.posts, 0, 0, 0, 40));
        wall_done(&w);
}

static void test_verdict_names(void **state)
{
        for (int v = 0; v < _DETECT_VERDICT_MAX; v++)
                assert_non_null(detect_verdict_to_string(v));
        assert_null(detect_verdict_to_string(_DETECT_VERDICT_MAX));
        assert_string_equal(detect_verdict_to_string(DETECT_RESEND), "resend");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_first_sight_sends_nothing),
                cmocka_unit_test(test_first_sight_backfill),
                cmocka_unit_test(test_new_by_id),
                cmocka_unit_test(test_new_pinned_post_is_new),
                cmocka_unit_test(test_deleted_newest_post),
                cmocka_unit_test(test_repost_is_new_like_any_post),
                cmocka_unit_test(test_edit_is_not_new),
                cmocka_unit_test(test_resend_on_category_change),
                cmocka_unit_test(test_edit_of_unrecorded_old_post),
                cmocka_unit_test(test_skipped_posts),
                cmocka_unit_test(test_new_post_already_recorded),
                cmocka_unit_test(test_preview_all),
                cmocka_unit_test(test_empty_wall_and_failure),
                cmocka_unit_test(test_burst),
                cmocka_unit_test(test_verdict_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
