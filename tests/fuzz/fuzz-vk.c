/* fuzz-vk.c — VK API answers, as the network hands them to source.c.
 *
 * The first byte picks the number of calls of an execute batch (1 + byte % 25); the rest is the
 * answer body. It is read both ways the daemon reads answers — whole (vk_result_parse) and one
 * call at a time (vk_result_parse_each) — and the two must agree: both accept or both refuse,
 * and when they accept, the same top-level error, the same error per call and the same response
 * per call. Where they differ, a sweep would act on an answer that a retry reads differently, so
 * a disagreement is a crash here. The body is then read as a plain method's answer and every
 * response goes through the parsers of what it may hold (wall.get, groups.getById, users.get,
 * utils.resolveScreenName), as the sweep and the resolver would. Both are also read by the
 * daemon's piecewise reader (vk_reader), a step at a time with a budget the first byte picks
 * (1 byte to 2 MiB), which must agree with the whole parse at every budget.
 */
#include "fuzz.h"
#include "post.h"
#include "vk.h"

struct kept {
        json_t *responses[VK_EXECUTE_MAX_CALLS];
        size_t n_each;
        size_t last; /* index of the last call handed over, to check the order */
};

static int keep(size_t i, const json_t *response, void *userdata)
{
        struct kept *k = userdata;
        fuzz_assert(i < VK_EXECUTE_MAX_CALLS, "call %zu", i);
        fuzz_assert(response, "call %zu handed over without a response", i);
        fuzz_assert(k->n_each == 0 || i > k->last, "call %zu handed over after %zu", i, k->last);
        fuzz_assert(!k->responses[i], "call %zu handed over twice", i);
        /* the streamed tree is released when each() returns: a reference keeps it */
        k->responses[i] = json_incref((json_t *)response);
        k->last = i;
        k->n_each++;
        return 0;
}

static void read_response(const json_t *response)
{
        struct wall *w = NULL;
        const char *reason = NULL;
        if (wall_from_json(response, &w, &reason) >= 0) {
                for (size_t i = 0; i < w->n_posts; i++) {
                        char *t = post_effective_text(w->posts[i]);
                        char *n = post_notification_text(w->posts[i]);
                        free(t);
                        free(n);
                }
                wall_free(w);
        }

        struct vk_group *g = NULL;
        size_t n_groups = 0;
        if (vk_groups_parse(response, &g, &n_groups) >= 0)
                vk_groups_free(g, n_groups);

        struct vk_user *u = NULL;
        size_t n_users = 0;
        if (vk_users_parse(response, &u, &n_users) >= 0) {
                for (size_t i = 0; i < n_users; i++)
                        if (u[i].name)
                                fuzz_assert(strlen(u[i].name) <= VK_USER_NAME_MAX,
                                            "a user's name of %zu bytes", strlen(u[i].name));
                vk_users_free(u, n_users);
        }

        int64_t owner_id;
        (void)vk_resolve_parse(response, &owner_id);
}

/* The daemon's reader, a step of budget bytes at a time (plain answers: each NULL). */
static int read_stepwise(const char *body, size_t size, size_t n_calls, size_t budget,
                         vk_call_fn each, void *userdata, struct vk_result **ret)
{
        struct vk_graveyard graves = {0};
        struct vk_reader *r = NULL;
        const char *reason = NULL;
        size_t steps = 0;
        int rs = vk_reader_new(body, size, n_calls, each, userdata, &graves, &r, &reason);

        while (rs >= 0 && (rs = vk_reader_step(r, budget, ret, &reason)) == 0)
                fuzz_assert(++steps <= size + 1, "step %zu of a %zu-byte answer", steps, size);
        fuzz_assert(rs >= 0 || reason, "refused without a reason");
        vk_reader_free(r); /* what it built goes to the graveyard, freed as the daemon frees it */
        for (steps = 0; !vk_graveyard_release(&graves, budget);)
                fuzz_assert(++steps <= size + 1, "release step %zu of a %zu-byte answer", steps,
                            size);
        vk_graveyard_done(&graves);
        return rs < 0 ? rs : 0;
}

static void differential(const char *body, size_t size, size_t n_calls, size_t budget)
{
        struct vk_result *whole = NULL, *each = NULL;
        const char *reason_whole = NULL, *reason_each = NULL;
        struct kept k = {0};

        int rw = vk_result_parse(body, size, n_calls, &whole, &reason_whole);
        int re = vk_result_parse_each(body, size, n_calls, keep, &k, &each, &reason_each);
        fuzz_assert(rw == re, "%zu calls: whole %d (%s), each %d (%s)", n_calls, rw,
                    strempty(reason_whole), re, strempty(reason_each));
        struct kept ks = {0};
        struct vk_result *stepped = NULL;
        int rs = read_stepwise(body, size, n_calls, budget, keep, &ks, &stepped);
        fuzz_assert(rs == rw, "%zu calls, steps of %zu bytes: whole %d, stepwise %d", n_calls,
                    budget, rw, rs);
        if (rs >= 0) {
                for (size_t i = 0; i < stepped->n_calls; i++) {
                        fuzz_assert(stepped->calls[i].error_code == whole->calls[i].error_code,
                                    "stepwise call %zu: error %d vs %d", i,
                                    stepped->calls[i].error_code, whole->calls[i].error_code);
                        if (whole->calls[i].error_code == 0)
                                fuzz_assert(json_equal(ks.responses[i], whole->calls[i].response),
                                            "stepwise call %zu: responses differ", i);
                }
                vk_result_free(stepped);
        }
        for (size_t i = 0; i < VK_EXECUTE_MAX_CALLS; i++)
                json_decref(ks.responses[i]);

        if (rw >= 0) {
                fuzz_assert(whole->error_code == each->error_code, "top-level error %d vs %d",
                            whole->error_code, each->error_code);
                fuzz_assert(whole->n_calls == each->n_calls, "%zu calls vs %zu", whole->n_calls,
                            each->n_calls);
                size_t n_ok = 0;
                for (size_t i = 0; i < whole->n_calls; i++) {
                        const struct vk_call_result *w = &whole->calls[i], *e = &each->calls[i];
                        fuzz_assert(w->error_code == e->error_code, "call %zu: error %d vs %d", i,
                                    w->error_code, e->error_code);
                        fuzz_assert(streq(strempty(w->error_msg), strempty(e->error_msg)),
                                    "call %zu: error message \"%s\" vs \"%s\"", i,
                                    strempty(w->error_msg), strempty(e->error_msg));
                        fuzz_assert(!e->response, "call %zu: each() kept a response", i);
                        if (w->error_code != 0)
                                continue;
                        n_ok++;
                        fuzz_assert(k.responses[i], "call %zu: succeeded but not handed over", i);
                        fuzz_assert(json_equal(k.responses[i], w->response),
                                    "call %zu: responses differ", i);
                        read_response(w->response);
                }
                if (whole->error_code == 0)
                        fuzz_assert(k.n_each == n_ok, "%zu calls handed over, %zu succeeded",
                                    k.n_each, n_ok);
        } else {
                fuzz_assert(reason_whole && reason_each, "refused without a reason");
                fuzz_assert(!whole && !each, "refused with a result");
        }
        vk_result_free(whole);
        vk_result_free(each);
        for (size_t i = 0; i < VK_EXECUTE_MAX_CALLS; i++)
                json_decref(k.responses[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t n_calls = 1 + data[0] % VK_EXECUTE_MAX_CALLS;
        const char *body = (const char *)data + 1;
        size--;

        /* the budget of a step: from every token a step to the whole answer in one */
        size_t budget = (size_t)1 << (data[0] % 8 * 3);
        differential(body, size, n_calls, budget);

        struct vk_result *plain = NULL, *stepped = NULL;
        const char *reason = NULL;
        int rp = vk_result_parse(body, size, 0, &plain, &reason);
        int rs = read_stepwise(body, size, 0, budget, NULL, NULL, &stepped);
        fuzz_assert(rp == rs, "plain answer: whole %d, stepwise %d", rp, rs);
        if (rs >= 0) {
                fuzz_assert(stepped->error_code == plain->error_code, "plain: error %d vs %d",
                            stepped->error_code, plain->error_code);
                fuzz_assert(json_equal(stepped->calls[0].response, plain->calls[0].response) ||
                                    (!stepped->calls[0].response && !plain->calls[0].response),
                            "plain: responses differ");
                vk_result_free(stepped);
        }
        if (rp >= 0) {
                fuzz_assert(plain->n_calls == 1, "a plain answer with %zu calls", plain->n_calls);
                if (plain->calls[0].response)
                        read_response(plain->calls[0].response);
                plain = vk_result_free(plain);
        }
        return 0;
}
