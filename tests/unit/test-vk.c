/* test-vk.c — building execute batches and reading their answers. A failure here means a batch
 * would ask VK for the wrong walls, or pair a failed call with the wrong community. */
#include "test-helpers.h"

#include "vk.h"

static void test_execute_code(void **state)
{
        struct vk_wall_request reqs[] = {
                {.owner_id = -210000101, .count = 20, .offset = 0},
                {.owner_id = 5000001, .count = 500, .offset = 40},
        };
        _cleanup_free_ char *code = NULL;
        assert_int_equal(vk_execute_code_wall_get(reqs, 2, &code), 0);
        assert_string_equal(code, "return [API.wall.get({\"owner_id\":-210000101,\"count\":20,"
                                  "\"offset\":0,\"extended\":1}),API.wall.get({\"owner_id\":"
                                  "5000001,\"count\":100,\"offset\":40,\"extended\":1})];");
        struct vk_wall_request many[26] = {0};
        char *c = NULL;
        assert_int_equal(vk_execute_code_wall_get(many, 26, &c), -EINVAL);
        assert_int_equal(vk_execute_code_wall_get(many, 0, &c), -EINVAL);
        assert_null(c);
}

static void test_form_body(void **state)
{
        const char *k[] = {"code", "v"};
        const char *v[] = {"return [API.wall.get({\"owner_id\":-1})];", "5.199"};
        _cleanup_free_ char *body = NULL;
        assert_int_equal(vk_form_body(k, v, 2, &body), 0);
        assert_string_equal(body, "code=return%20%5BAPI.wall.get%28%7B%22owner_id%22%3A-1%7D%29"
                                  "%5D%3B&v=5.199");
}

static void test_error_classes(void **state)
{
        assert_int_equal(vk_error_class_of(5), VK_ERROR_TOKEN);
        assert_int_equal(vk_error_class_of(6), VK_ERROR_RATE);
        assert_int_equal(vk_error_class_of(9), VK_ERROR_RATE);
        assert_int_equal(vk_error_class_of(10), VK_ERROR_TRANSIENT);
        assert_int_equal(vk_error_class_of(13), VK_ERROR_TRANSIENT);
        assert_int_equal(vk_error_class_of(VK_ERROR_CODE_HTTP), VK_ERROR_TRANSIENT);
        assert_int_equal(vk_error_class_of(VK_ERROR_CODE_MALFORMED), VK_ERROR_TRANSIENT);
        for (int c = 15; c <= 15; c++)
                assert_int_equal(vk_error_class_of(c), VK_ERROR_COMMUNITY);
        assert_int_equal(vk_error_class_of(18), VK_ERROR_COMMUNITY);
        assert_int_equal(vk_error_class_of(30), VK_ERROR_COMMUNITY);
        assert_int_equal(vk_error_class_of(203), VK_ERROR_COMMUNITY);
        assert_int_equal(vk_error_class_of(29), VK_ERROR_QUOTA);
        assert_int_equal(vk_error_class_of(100), VK_ERROR_CONFIG);
        assert_int_equal(vk_error_class_of(104), VK_ERROR_CONFIG);
        assert_int_equal(vk_error_class_of(113), VK_ERROR_CONFIG);
        assert_int_equal(vk_error_class_of(0), VK_ERROR_NONE);
        assert_int_equal(vk_error_class_of(777), VK_ERROR_OTHER);
}

static void test_execute_mixed(void **state)
{
        /* 3 calls, the 2nd and 3rd failed: false entries pair with execute_errors in order */
        const char *body = "\xEF\xBB\xBF{\"response\":[{\"count\":1,\"items\":[]},false,false],"
                           "\"execute_errors\":[{\"method\":\"wall.get\",\"error_code\":18,"
                           "\"error_msg\":\"User was deleted or banned\"},{\"method\":"
                           "\"wall.get\",\"error_code\":15,\"error_msg\":\"Access denied\"}]}";
        struct vk_result *res = NULL;
        const char *reason = NULL;
        assert_int_equal(vk_result_parse(body, strlen(body), 3, &res, &reason), 0);
        assert_int_equal(res->error_code, 0);
        assert_non_null(res->calls[0].response);
        assert_int_equal(res->calls[1].error_code, 18);
        assert_int_equal(res->calls[2].error_code, 15);
        assert_string_equal(res->calls[2].error_msg, "Access denied");
        res = vk_result_free(res);

        /* fewer answers than calls: the shape is wrong, not a partial success */
        const char *short_body = "{\"response\":[{\"count\":0,\"items\":[]}]}";
        assert_int_equal(vk_result_parse(short_body, strlen(short_body), 2, &res, &reason),
                         -EBADMSG);

        /* false without its error: retried as VK's internal error */
        const char *lonely = "{\"response\":[false]}";
        assert_int_equal(vk_result_parse(lonely, strlen(lonely), 1, &res, &reason), 0);
        assert_int_equal(res->calls[0].error_code, 10);
        res = vk_result_free(res);

        /* a top-level error applies to every call */
        const char *top = "{\"error\":{\"error_code\":6,\"error_msg\":\"Too many requests per "
                          "second\",\"request_params\":[]}}";
        assert_int_equal(vk_result_parse(top, strlen(top), 2, &res, &reason), 0);
        assert_int_equal(res->error_code, 6);
        assert_int_equal(res->calls[1].error_code, 6);
        res = vk_result_free(res);

        /* a huge error code from a hostile answer is clamped, never negative */
        const char *huge = "{\"error\":{\"error_code\":9223372036854775807}}";
        assert_int_equal(vk_result_parse(huge, strlen(huge), 0, &res, &reason), 0);
        assert_true(res->error_code > 0);
        res = vk_result_free(res);
}

/* what each() was given, kept beyond the parse */
struct kept {
        json_t *responses[8];
        size_t n_each;
        int fail_at;   /* each() fails with -ENOMEM at this call; -1 never */
        long live_max; /* jansson allocations alive while each() ran, at most */
};

static long jansson_live;

static void *counting_malloc(size_t size)
{
        jansson_live++;
        return malloc(size);
}

static void counting_free(void *p)
{
        if (p)
                jansson_live--;
        free(p);
}

static int keep(size_t i, const json_t *response, void *userdata)
{
        struct kept *k = userdata;
        if (k->fail_at >= 0 && i == (size_t)k->fail_at)
                return -ENOMEM;
        assert_true(i < ELEMENTSOF(k->responses));
        assert_null(k->responses[i]); /* once per call */
        k->responses[i] = json_deep_copy(response);
        k->n_each++;
        return 0;
}

static int measure(size_t i, const json_t *response, void *userdata)
{
        struct kept *k = userdata;
        if (jansson_live > k->live_max)
                k->live_max = jansson_live;
        k->n_each++;
        return 0;
}

static void kept_done(struct kept *k)
{
        for (size_t i = 0; i < ELEMENTSOF(k->responses); i++)
                json_decref(k->responses[i]);
}

/* The daemon's way: vk_reader_step with a budget of a few bytes, so that every piece is a step
 * of its own. Returns what the reader returned (0 for an answer read); the same refusals come
 * out whatever the budget. */
static int read_stepwise(const char *body, size_t size, size_t n_calls, size_t budget,
                         struct kept *k, struct vk_result **ret)
{
        struct vk_graveyard graves = {0};
        struct vk_reader *r = NULL;
        const char *reason = NULL;
        size_t steps = 0;
        int rs;

        rs = vk_reader_new(body, size, n_calls, keep, k, &graves, &r, &reason);
        while (rs >= 0 && (rs = vk_reader_step(r, budget, ret, &reason)) == 0)
                assert_true(++steps <= size + 1); /* every step moves on */
        if (rs < 0)
                assert_non_null(reason);
        /* what the reader handed over or left goes to the graveyard, freed a few at a time; the
         * LeakSanitizer run shows it all goes */
        vk_reader_free(r);
        for (steps = 0; !vk_graveyard_release(&graves, budget);)
                assert_true(++steps <= size + 1);
        vk_graveyard_done(&graves);
        return rs < 0 ? rs : 0;
}

/* Reads body both ways and fails unless they agree: both refuse it, or both accept it with the
 * same top-level error and, call by call, the same error or the same response (each() got exactly
 * the calls that succeeded). Returns what both returned; *ret_whole (optional) gets the whole
 * parse's result. */
static int agree(const char *body, size_t size, size_t n_calls, struct vk_result **ret_whole)
{
        struct vk_result *whole = NULL, *each = NULL;
        const char *reason_whole = NULL, *reason_each = NULL;
        struct kept k = {.fail_at = -1};

        int rw = vk_result_parse(body, size, n_calls, &whole, &reason_whole);
        int re = vk_result_parse_each(body, size, n_calls, keep, &k, &each, &reason_each);
        if (re != rw)
                fail_msg("'%.*s' (%zu calls): whole %d (%s), each %d (%s)",
                         size > 200 ? 200 : (int)size, body, n_calls, rw, strempty(reason_whole),
                         re, strempty(reason_each));
        if (rw < 0) {
                struct kept ks = {.fail_at = -1};
                struct vk_result *stepped = NULL;
                assert_int_equal(read_stepwise(body, size, n_calls, 1, &ks, &stepped), rw);
                kept_done(&ks);
                assert_non_null(reason_whole);
                assert_non_null(reason_each);
                assert_null(whole);
                assert_null(each);
                kept_done(&k);
                return rw;
        }
        assert_int_equal(each->error_code, whole->error_code);
        assert_string_equal(strempty(each->error_msg), strempty(whole->error_msg));
        assert_int_equal(each->n_calls, whole->n_calls);
        size_t n_ok = 0;
        for (size_t i = 0; i < whole->n_calls; i++) {
                assert_null(each->calls[i].response);
                assert_int_equal(each->calls[i].error_code, whole->calls[i].error_code);
                assert_string_equal(strempty(each->calls[i].error_msg),
                                    strempty(whole->calls[i].error_msg));
                if (whole->calls[i].error_code != 0)
                        continue;
                n_ok++;
                assert_non_null(k.responses[i]);
                assert_true(json_equal(k.responses[i], whole->calls[i].response));
        }
        if (whole->error_code == 0)
                assert_int_equal(k.n_each, n_ok);
        vk_result_free(each);
        kept_done(&k);
        /* and a step at a time, as the daemon reads: the same at any budget */
        for (size_t budget = 1; budget <= 64; budget *= 8) {
                struct kept ks = {.fail_at = -1};
                struct vk_result *stepped = NULL;
                assert_int_equal(read_stepwise(body, size, n_calls, budget, &ks, &stepped), 0);
                assert_int_equal(stepped->error_code, whole->error_code);
                for (size_t i = 0; i < whole->n_calls; i++) {
                        assert_int_equal(stepped->calls[i].error_code, whole->calls[i].error_code);
                        if (whole->calls[i].error_code == 0)
                                assert_true(json_equal(ks.responses[i], whole->calls[i].response));
                }
                vk_result_free(stepped);
                kept_done(&ks);
        }
        if (ret_whole)
                *ret_whole = whole;
        else
                vk_result_free(whole);
        return rw;
}

static void test_execute_each_same_as_whole(void **state)
{
        /* the answers read one call at a time are read as a parse of the whole would read them:
         * otherwise a wall would be taken from the wrong call, or a broken answer half used */
        static const struct {
                const char *body;
                size_t n_calls;
        } cases[] = {
                {"\xEF\xBB\xBF{\"response\":[{\"count\":1,\"items\":[]},false,false],"
                 "\"execute_errors\":[{\"method\":\"wall.get\",\"error_code\":18,\"error_msg\":"
                 "\"User was deleted or banned\"},{\"error_code\":15,\"error_msg\":\"Access\"}]}",
                 3},
                {" \n{ \"response\" : [ {\"a\":\"],\\\"x{\"} ,\r\n false\t] , \"execute_errors\" : "
                 "[ {\"error_code\":15,\"error_msg\":\"Access denied\"} ] } \n",
                 2},
                {"{\"response\":[{\"text\":\"Добро \\u043f\",\"n\":[[1,[2]],{}]}]}", 1},
                {"{\"response\":[1,\"s\",null,true]}", 4},
                {"{\"response\":[false]}", 1},
                {"{\"response\":[{},false],\"execute_errors\":{\"error_code\":1}}", 2},
                {"{\"response\":[{}],\"execute_errors\":[],\"error\":{\"error_code\":6,"
                 "\"error_msg\":\"Too many requests per second\"}}",
                 1},
                {"{\"error\":{\"error_code\":5,\"error_msg\":\"User authorization failed\"}}", 2},
                {"{\"response\":null,\"execute_errors\":[{\"error_code\":18,\"error_msg\":\"x\"}]}",
                 1},
                {"{\"execute_errors\":[{\"error_code\":15,\"error_msg\":\"x\"}],"
                 "\"response\":[false,{}]}",
                 2},
                /* broken: every one of them must fail, whichever way it is read */
                {"{\"response\":[{\"count\":0,\"items\":[]}]}", 2},
                {"{\"response\":[{},{},{}]}", 2},
                {"{\"response\":[]}", 1},
                {"{\"response\":[{}],}", 1},
                {"{\"response\":[{}]} x", 1},
                {"{\"response\":[{}]", 1},
                {"{\"response\":[{},", 2},
                {"{\"response\":[{\"a\":1}{\"b\":2}]}", 2},
                {"{\"response\":[{}],\"execute_errors\":[]", 1},
                {"{\"response\":[{}],\"execute_errors\":[]}}", 1},
                {"{\"response\":[tru]}", 1},
                {"{\"response\":[{}] \"x\":1}", 1},
                {"", 1},
                {"[1]", 1},
        };
        for (size_t c = 0; c < ELEMENTSOF(cases); c++)
                agree(cases[c].body, strlen(cases[c].body), cases[c].n_calls, NULL);

        /* a NUL after the answer is not white space */
        const char nul[] = "{\"response\":[{}]}";
        struct vk_result *res = NULL;
        const char *reason = NULL;
        struct kept k = {.fail_at = -1};
        assert_int_equal(vk_result_parse(nul, sizeof(nul), 1, &res, &reason), -EBADMSG);
        assert_int_equal(vk_result_parse_each(nul, sizeof(nul), 1, keep, &k, &res, &reason),
                         -EBADMSG);
        kept_done(&k);

        /* a second "response" is refused rather than guessed at */
        const char *twice = "{\"response\":[{}],\"response\":[{\"a\":1}]}";
        k = (struct kept){.fail_at = -1};
        assert_int_equal(vk_result_parse_each(twice, strlen(twice), 1, keep, &k, &res, &reason),
                         -EBADMSG);
        kept_done(&k);

        /* each() failing fails the parse with its error */
        const char *two = "{\"response\":[{\"a\":1},{\"b\":2}]}";
        k = (struct kept){.fail_at = 1};
        assert_int_equal(vk_result_parse_each(two, strlen(two), 2, keep, &k, &res, &reason),
                         -ENOMEM);
        assert_null(res);
        kept_done(&k);
        assert_int_equal(vk_result_parse_each(two, strlen(two), 0, keep, &k, &res, &reason),
                         -EINVAL);
}

/* An execute answer whose one entry is d arrays deep, so that the answer is d + 2 levels deep
 * (its object and "response" around it); the nesting sits in execute_errors' array instead
 * when in_errors, where the reader of a call at a time parses it as part of the rest. */
static char *nested_answer(size_t d, bool in_errors, size_t *ret_size)
{
        struct strbuf sb = {0};
        assert_int_equal(strbuf_puts(&sb, in_errors ? "{\"response\":[{}],\"execute_errors\":["
                                                    : "{\"response\":["),
                         0);
        for (size_t i = 0; i < d; i++)
                assert_int_equal(strbuf_append(&sb, "[", 1), 0);
        for (size_t i = 0; i < d; i++)
                assert_int_equal(strbuf_append(&sb, "]", 1), 0);
        assert_int_equal(strbuf_puts(&sb, "]}"), 0);
        *ret_size = sb.len;
        return sb.buf;
}

/* The two readers are one rule: what one accepts the other accepts, with the same results. A
 * difference means the daemon's behaviour on a strange answer depends on which reader the
 * request happened to use: a wall dropped by one, its posts notified by the other. */
static void test_parsers_agree_on_edges(void **state)
{
        static const struct {
                const char *body;
                size_t size; /* 0: strlen */
                size_t n_calls;
                bool accepted;
        } cases[] = {
#define B(s) s, sizeof(s) - 1
                /* a NUL byte anywhere: after a number, a literal, a string, an object; inside a
                 * string; before and after the answer (jansson loses a NUL after a number) */
                {B("{\"response\":[1\0]}"), 1, false},
                {B("{\"response\":[1\0,2]}"), 2, false},
                {B("{\"response\":[true\0]}"), 1, false},
                {B("{\"response\":[null\0]}"), 1, false},
                {B("{\"response\":[\"s\"\0]}"), 1, false},
                {B("{\"response\":[{}\0]}"), 1, false},
                {B("{\"response\":[\"a\0b\"]}"), 1, false},
                {B("{\"response\":[{}]\0}"), 1, false},
                {B("{\"response\":[{}]}\0"), 1, false},
                {B("\0{\"response\":[{}]}"), 1, false},
                {B("{\"response\":[{}],\"execute_errors\":[1\0]}"), 1, false},
                {B("\xEF\xBB\xBF\0{\"response\":[{}]}"), 1, false},
                {B("{\"response\":[\"\\u0000\"]}"), 1, false}, /* jansson's default */
                /* what may follow the answer: white space only */
                {B("{\"response\":[{}]} \t\r\n"), 1, true},
                {B("{\"response\":[{}]} x"), 1, false},
                {B("{\"response\":[{}]}}"), 1, false},
                {B("{\"response\":[{}]},"), 1, false},
                {B("{\"response\":[{}]}{}"), 1, false},
                {B("{\"response\":[{}]}\xEF\xBB\xBF"), 1, false},
                {B("{\"response\":[{}],\"execute_errors\":[]} ]"), 1, false},
                {B("{\"response\":[1 2]}"), 1, false},
                {B("{\"response\":[1\xC3\xA9]}"), 1, false},
                {B("{\"response\":[1\xFF]}"), 1, false},
                /* one BOM, first, is allowed; anywhere else it is not JSON */
                {B("\xEF\xBB\xBF{\"response\":[{}]}"), 1, true},
                {B("\xEF\xBB\xBF\xEF\xBB\xBF{\"response\":[{}]}"), 1, false},
                {B(" \xEF\xBB\xBF{\"response\":[{}]}"), 1, false},
                {B("{\xEF\xBB\xBF\"response\":[{}]}"), 1, false},
                {B("{\"response\":[\xEF\xBB\xBF{}]}"), 1, false},
                {B("\xEF\xBB\xBF"), 1, false},
                {B("\xEF\xBB"), 1, false},
                /* empty and truncated (every prefix of a real answer is tried below) */
                {B(""), 1, false},
                {B(" \r\n"), 1, false},
                {B("{"), 1, false},
                {B("{\"response\":["), 1, false},
                {B("{\"response\":[{}"), 1, false},
                {B("{\"response\":[{}],"), 1, false},
                {B("{\"response\":[{}],\"execute_errors\""), 1, false},
                /* numbers jansson refuses, whichever reader */
                {B("{\"response\":[1e999]}"), 1, false},
                {B("{\"response\":[9223372036854775808]}"), 1, false},
                {B("{\"response\":[01]}"), 1, false},
                {B("{\"response\":[-]}"), 1, false},
                /* duplicate keys: refused at every level, "response" included */
                {B("{\"response\":[{}],\"response\":[{}]}"), 1, false},
                {B("{\"response\":[{\"a\":1,\"a\":2}]}"), 1, false},
                {B("{\"response\":[{}],\"execute_errors\":[],\"execute_errors\":[]}"), 1, false},
                {B("{\"execute_errors\":[],\"response\":[{}],\"execute_errors\":[]}"), 1, false},
                {B("{\"\\u0072esponse\":[{}],\"response\":[{}]}"), 1, false},
                {B("{\"\\u0072esponse\":[{\"a\":1}]}"), 1, true},
                /* a top-level error wins over a "response" of any length */
                {B("{\"response\":[{}],\"error\":{\"error_code\":6,\"error_msg\":\"m\"}}"), 2,
                 true},
                {B("{\"response\":[{},{},{}],\"error\":{\"error_code\":6}}"), 2, true},
                {B("{\"response\":[],\"error\":{\"error_code\":9}}"), 2, true},
                {B("{\"response\":[{}],\"error\":{\"error_msg\":\"no code\"}}"), 1, false},
                {B("{\"response\":[{},{},{}]}"), 2, false},
                /* real execute answers end execute_errors with one about the execute itself */
                {B("{\"response\":[{},false],\"execute_errors\":[{\"method\":\"wall.get\","
                   "\"error_code\":15,\"error_msg\":\"Access denied\"},{\"method\":\"execute\","
                   "\"error_code\":15,\"error_msg\":\"Access denied\"}]}"),
                 2, true},
                {B("{\"response\":[false,false],\"execute_errors\":[{\"method\":\"wall.get\","
                   "\"error_code\":18,\"error_msg\":\"deleted\"},{\"method\":\"execute\","
                   "\"error_code\":18,\"error_msg\":\"deleted\"}]}"),
                 2, true},
                {B("{\"response\":[false,{}],\"execute_errors\":[{\"method\":\"execute\","
                   "\"error_code\":13,\"error_msg\":\"x\"},{\"method\":\"wall.get\","
                   "\"error_code\":30,\"error_msg\":\"private\"}]}"),
                 2, true},
                /* a string full of brackets is no nesting */
                {B("{\"response\":[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                   "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                   "[[[[[[[[[[[[\\\"{{{{{{\"]}"),
                 1, true},
#undef B
        };
        for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
                int r = agree(cases[c].body, cases[c].size, cases[c].n_calls, NULL);
                if ((r == 0) != cases[c].accepted)
                        fail_msg("case %zu: %s by both", c, r == 0 ? "accepted" : "refused");
        }

        /* deep nesting, around our limit and around jansson's own (2048, counted from where each
         * reader starts: two levels apart), in an entry and in the rest */
        static const size_t depths[] = {VK_ANSWER_DEPTH_MAX - 1,
                                        VK_ANSWER_DEPTH_MAX,
                                        VK_ANSWER_DEPTH_MAX + 1,
                                        2045,
                                        2046,
                                        2047,
                                        2048,
                                        2049,
                                        2050,
                                        100000};
        for (size_t i = 0; i < ELEMENTSOF(depths); i++)
                for (int in_errors = 0; in_errors <= 1; in_errors++) {
                        size_t size, depth = depths[i];
                        _cleanup_free_ char *body = nested_answer(depth - 2, in_errors, &size);
                        int r = agree(body, size, 1, NULL);
                        if ((r == 0) != (depth <= VK_ANSWER_DEPTH_MAX))
                                fail_msg("%zu levels%s: %d", depth, in_errors ? " (errors)" : "",
                                         r);
                }
}

static void test_execute_errors_about_execute(void **state)
{
        /* a failed wall takes its own error, never the one about the execute itself */
        const char *body = "{\"response\":[false,{},false],\"execute_errors\":[{\"method\":"
                           "\"wall.get\",\"error_code\":15,\"error_msg\":\"Access denied\"},"
                           "{\"method\":\"execute\",\"error_code\":15,\"error_msg\":\"Access "
                           "denied\"}]}";
        struct vk_result *res = NULL;
        assert_int_equal(agree(body, strlen(body), 3, &res), 0);
        assert_int_equal(res->calls[0].error_code, 15);
        assert_int_equal(res->calls[1].error_code, 0);
        assert_int_equal(res->calls[2].error_code, 10); /* none of its own: retried */
        res = vk_result_free(res);

        /* the recorded answer: null with two inner errors and one about the execute */
        size_t size;
        _cleanup_free_ char *data = read_fixture(
                "tests/fixtures/vk/execute-response-null-with-execute_errors.json", &size);
        assert_int_equal(agree(data, size, 3, &res), 0);
        assert_int_equal(res->error_code, 0);
        assert_int_equal(res->calls[0].error_code, 1);
        assert_int_equal(res->calls[1].error_code, 935);
        assert_string_equal(res->calls[1].error_msg, "User not found in chat");
        assert_int_equal(res->calls[2].error_code, 10);
        res = vk_result_free(res);
}

/* A real wall.get answer (with a BOM, as some are) three times in one execute, the middle call
 * failed: both readers agree on it, and every shorter prefix of it is refused by both. */
static void test_parsers_agree_on_real_answer(void **state)
{
        size_t size;
        _cleanup_free_ char *data = read_fixture(
                "tests/fixtures/vk/wall.get-extended-repost-copy_history-profiles-groups.json",
                &size);
        json_t *fixture = json_loadb(data, size, 0, NULL);
        assert_non_null(fixture);
        json_t *wall = json_object_get(fixture, "response");
        assert_non_null(wall);
        json_t *answer = json_pack("{s:[O,b,O],s:[{s:s,s:i,s:s},{s:s,s:i,s:s}]}", "response", wall,
                                   0, wall, "execute_errors", "method", "wall.get", "error_code",
                                   15, "error_msg", "Access denied", "method", "execute",
                                   "error_code", 15, "error_msg", "Access denied");
        assert_non_null(answer);
        _cleanup_free_ char *text = json_dumps(answer, JSON_COMPACT);
        assert_non_null(text);
        struct strbuf sb = {0};
        assert_int_equal(strbuf_puts(&sb, "\xEF\xBB\xBF"), 0);
        assert_int_equal(strbuf_puts(&sb, text), 0);

        struct vk_result *res = NULL;
        assert_int_equal(agree(sb.buf, sb.len, 3, &res), 0);
        assert_true(json_equal(res->calls[0].response, wall));
        assert_int_equal(res->calls[1].error_code, 15);
        assert_true(json_equal(res->calls[2].response, wall));
        res = vk_result_free(res);

        for (size_t len = 0; len < sb.len; len++)
                if (agree(sb.buf, len, 3, NULL) == 0)
                        fail_msg("a prefix of %zu of %zu bytes was accepted", len, sb.len);
        strbuf_done(&sb);
        json_decref(answer);
        json_decref(fixture);
}

/* The size bound: an answer of VK_ANSWER_MAX_BYTES is read, one byte more is refused by both
 * readers (the HTTP shell stops reading there too). White space fills it: what is measured is
 * the bytes, and a tree of 32 MiB would only cost the test memory. */
static void test_answer_size_bound(void **state)
{
        static const char answer[] = "{\"response\":[{\"count\":0},false]}";
        size_t size = VK_ANSWER_MAX_BYTES + 1;
        _cleanup_free_ char *body = malloc(size);
        assert_non_null(body);
        memcpy(body, answer, sizeof(answer) - 1);
        memset(body + sizeof(answer) - 1, ' ', size - (sizeof(answer) - 1));

        struct vk_result *res = NULL;
        const char *reason = NULL;
        assert_int_equal(agree(body, size, 2, NULL), -EFBIG);
        assert_int_equal(vk_result_parse(body, size, 2, &res, &reason), -EFBIG);
        assert_string_equal(reason, "answer larger than 32 MiB");
        /* ret_reason is optional, for every way of refusing */
        assert_int_equal(vk_result_parse(body, size, 2, &res, NULL), -EFBIG);
        assert_int_equal(vk_result_parse("{\"response\":[1]}\0", 17, 1, &res, NULL), -EBADMSG);
        assert_int_equal(vk_result_parse("[", 1, 1, &res, NULL), -EBADMSG);
        assert_int_equal(agree(body, size - 1, 2, &res), 0);
        assert_int_equal(res->calls[1].error_code, 10);
        vk_result_free(res);
}

/* The piece bound: whatever the reader hands to jansson whole (a post five levels down, a string
 * anywhere, a number) is at most VK_PIECE_MAX; one byte more and the answer is refused as too
 * large (-EFBIG, which the sweep answers by splitting the batch), by both readers alike. Above
 * the pieces, an answer may be as large as VK_ANSWER_MAX_BYTES. */
static void test_piece_bound(void **state)
{
        static const char *const shapes[][2] = {
                /* a post's text: a string inside a piece */
                {"{\"response\":[{\"count\":1,\"items\":[{\"id\":1,\"text\":\"", "\"}]}]}"},
                /* a string where a wall should be */
                {"{\"response\":[\"", "\"]}"},
                /* a number */
                {"{\"response\":[1", "]}"},
        };
        for (size_t i = 0; i < ELEMENTSOF(shapes); i++) {
                size_t head = strlen(shapes[i][0]), tail = strlen(shapes[i][1]);
                /* the piece: the whole post {...} in the first shape, the string or number
                 * itself in the others */
                size_t fill_max = i == 0 ? VK_PIECE_MAX -
                                                   (head - strlen("{\"response\":[{"
                                                                  "\"count\":1,\"items"
                                                                  "\":[")) -
                                                   strlen("\"}")
                                  : i == 1 ? VK_PIECE_MAX - 2
                                           : VK_PIECE_MAX - 1;
                for (size_t extra = 0; extra <= 1; extra++) {
                        size_t fill = fill_max + extra, size = head + fill + tail;
                        _cleanup_free_ char *body = malloc(size);
                        assert_non_null(body);
                        memcpy(body, shapes[i][0], head);
                        memset(body + head, i == 2 ? '0' : 'a', fill);
                        memcpy(body + head + fill, shapes[i][1], tail);
                        int r = agree(body, size, 1, NULL);
                        if (extra)
                                assert_int_equal(r, -EFBIG);
                        else
                                assert_int_not_equal(r, -EFBIG);
                }
        }

        /* above the pieces: 3,000 posts of 1 KiB in one wall (3 MiB) are read, a piece each */
        struct strbuf sb = {0};
        assert_true(strbuf_puts(&sb, "{\"response\":[{\"count\":3000,\"items\":[") >= 0);
        for (int p = 0; p < 3000; p++) {
                assert_true(strbuf_appendf(&sb, "%s{\"id\":%d,\"text\":\"", p ? "," : "", p + 1) >=
                            0);
                for (int c = 0; c < 1000; c++)
                        assert_true(strbuf_puts(&sb, "x") >= 0);
                assert_true(strbuf_puts(&sb, "\"}") >= 0);
        }
        assert_true(strbuf_puts(&sb, "]}]}") >= 0);
        struct kept k = {.fail_at = -1};
        struct vk_result *res = NULL;
        assert_int_equal(read_stepwise(sb.buf, sb.len, 1, VK_STEP_BYTES, &k, &res), 0);
        assert_int_equal(json_array_size(json_object_get(k.responses[0], "items")), 3000);
        vk_result_free(res);
        kept_done(&k);
        strbuf_done(&sb);
}

/* The graveyard frees a tree a few values a step, children before parents, and all of it: the
 * jansson allocations alive come back to where they were. A tree someone else holds loses only
 * the graveyard's reference. */
/* Entries of an array or object above the pieces, which the reader builds by hand: at most
 * VK_ITEMS_MAX, one more and the answer is refused as too large, by both readers alike. */
static void test_items_bound(void **state)
{
        for (size_t n = VK_ITEMS_MAX; n <= VK_ITEMS_MAX + 1; n++) {
                struct strbuf sb = {0};
                assert_true(strbuf_puts(&sb, "{\"response\":[{\"count\":1,\"items\":[") >= 0);
                for (size_t i = 0; i < n; i++)
                        assert_true(strbuf_puts(&sb, i ? ",1" : "1") >= 0);
                assert_true(strbuf_puts(&sb, "]}]}") >= 0);
                int r = agree(sb.buf, sb.len, 1, NULL);
                if (n == VK_ITEMS_MAX)
                        assert_int_equal(r, 0);
                else
                        assert_int_equal(r, -EFBIG);
                strbuf_done(&sb);
        }
        /* below the pieces, a post may hold as many as fit in VK_PIECE_MAX */
        struct strbuf sb = {0};
        assert_true(strbuf_puts(&sb, "{\"response\":[{\"count\":1,\"items\":[{\"id\":1,"
                                     "\"x\":[0") >= 0);
        for (size_t i = 0; i < 2 * VK_ITEMS_MAX; i++)
                assert_true(strbuf_puts(&sb, ",0") >= 0);
        assert_true(strbuf_puts(&sb, "]}]}]}") >= 0);
        assert_int_equal(agree(sb.buf, sb.len, 1, NULL), 0);
        strbuf_done(&sb);
}

static void test_graveyard(void **state)
{
        json_set_alloc_funcs(counting_malloc, counting_free);
        long before = jansson_live;
        json_t *shared = json_object();
        long shared_cost = jansson_live - before;
        json_t *tree = json_array();
        assert_non_null(tree);
        assert_non_null(shared);
        for (int i = 0; i < 300; i++) {
                json_t *post = json_pack("{s:i, s:s, s:[{s:[i,i,i]}, {}, []]}", "id", i, "text",
                                         "Отключение воды", "attachments", "sizes", 1, 2, 3);
                assert_non_null(post);
                assert_int_equal(json_array_append_new(tree, post), 0);
        }
        assert_int_equal(json_array_append(tree, shared), 0);
        long alive = jansson_live;

        struct vk_graveyard g = {0};
        vk_graveyard_bury(&g, tree, SIZE_MAX);
        size_t steps = 0;
        while (!vk_graveyard_release(&g, 10))
                steps++;
        /* a step frees about 10 values (a container's children at once): many steps */
        assert_true(steps > 100);
        assert_int_equal(jansson_live, before + shared_cost); /* all but the shared object */
        assert_int_equal(shared->refcount, 1);
        vk_graveyard_bury(&g, shared, SIZE_MAX); /* the graveyard's alone: freed as any */
        assert_true(vk_graveyard_release(&g, 1));
        assert_int_equal(jansson_live, before);
        assert_true(alive > before + 300 * 8);
        vk_graveyard_bury(NULL, json_string("freed at once"), SIZE_MAX);
        json_t *small = json_pack("[{s:i}]", "id", 1);
        vk_graveyard_bury(&g, small, VK_PIECE_MAX); /* read from a piece's bytes: freed now */
        assert_int_equal(g.n, 0);
        vk_graveyard_bury(&g, NULL, SIZE_MAX);
        assert_int_equal(jansson_live, before);
        vk_graveyard_done(&g);
        json_set_alloc_funcs(malloc, free);
}

static void test_execute_each_one_tree_at_a_time(void **state)
{
        /* 25 walls of 20 posts: while one is handed over, the other 24 are not in memory as
         * JSON. If they were, a sweep's peak would carry a 2.5 MB tree per answer. */
        struct strbuf body = {0}, one = {0};
        assert_true(strbuf_puts(&one, "{\"count\":20,\"items\":[") >= 0);
        for (int p = 0; p < 20; p++)
                assert_true(strbuf_appendf(&one,
                                           "%s{\"id\":%d,\"owner_id\":-1,\"date\":1,\"text\":"
                                           "\"t\",\"likes\":{\"count\":1},\"views\":"
                                           "{\"count\":2}}",
                                           p ? "," : "", p + 1) >= 0);
        assert_true(strbuf_puts(&one, "]}") >= 0);
        assert_true(strbuf_puts(&body, "{\"response\":[") >= 0);
        for (int w = 0; w < 25; w++)
                assert_true(strbuf_appendf(&body, "%s%s", w ? "," : "", one.buf) >= 0);
        assert_true(strbuf_puts(&body, "],\"execute_errors\":[]}") >= 0);

        json_set_alloc_funcs(counting_malloc, counting_free);
        jansson_live = 0;
        json_t *alone = json_loads(one.buf, 0, NULL);
        long per_wall = jansson_live;
        json_decref(alone);
        assert_true(per_wall > 100);

        struct vk_result *res = NULL;
        const char *reason = NULL;
        struct kept k = {.fail_at = -1};
        jansson_live = 0;
        assert_int_equal(vk_result_parse_each(body.buf, body.len, 25, measure, &k, &res, &reason),
                         0);
        json_set_alloc_funcs(malloc, free);
        assert_int_equal(k.n_each, 25);
        if (k.live_max > 2 * per_wall)
                fail_msg("%ld jansson allocations alive while one wall of %ld was handed over",
                         k.live_max, per_wall);
        vk_result_free(res);
        kept_done(&k);
        strbuf_done(&body);
        strbuf_done(&one);
}

static void test_groups_and_resolve(void **state)
{
        json_t *r = json_loads("{\"groups\":[{\"id\":210000101,\"name\":\"Администрация\","
                               "\"screen_name\":\"sev_adm\",\"is_closed\":0},{\"id\":-5},"
                               "{\"id\":2,\"is_closed\":true},"
                               "{\"id\":3,\"name\":\"DELETED\",\"deactivated\":\"deleted\"},"
                               "{\"id\":4,\"deactivated\":\"banned\"},"
                               "{\"id\":5,\"deactivated\":\"frozen\"}],\"profiles\":[]}",
                               0, NULL);
        struct vk_group *g = NULL;
        size_t n = 0;
        assert_int_equal(vk_groups_parse(r, &g, &n), 0);
        assert_int_equal(n, 5);
        assert_string_equal(g[0].name, "Администрация");
        assert_null(g[0].deactivated);
        assert_string_equal(g[1].screen_name, "");
        assert_true(g[1].is_closed);
        assert_string_equal(g[2].deactivated, "deleted");
        assert_string_equal(g[3].deactivated, "banned");
        assert_string_equal(g[4].deactivated, "deactivated");
        vk_groups_free(g, n);
        json_decref(r);

        int64_t id = 0;
        r = json_loads("{\"object_id\":5000001,\"type\":\"user\"}", 0, NULL);
        assert_int_equal(vk_resolve_parse(r, &id), 0);
        assert_true(id == 5000001);
        json_decref(r);
        r = json_loads("{\"object_id\":210000101,\"type\":\"group\"}", 0, NULL);
        assert_int_equal(vk_resolve_parse(r, &id), 0);
        assert_true(id == -210000101);
        json_decref(r);
        r = json_loads("[]", 0, NULL);
        assert_int_equal(vk_resolve_parse(r, &id), -ENOENT);
        json_decref(r);
}

static json_t *users_json(const char *text)
{
        json_error_t e;
        json_t *r = json_loads(text, 0, &e);
        if (!r)
                fail_msg("bad test JSON: %s", e.text);
        return r;
}

/* users.get as VK 5.199 answers it: a bare array, in request order */
static void test_users_names(void **state)
{
        json_t *r = users_json("[{\"id\":5000001,\"first_name\":\"Вениамин\","
                               "\"last_name\":\"Кондратьев\",\"can_access_closed\":true,"
                               "\"is_closed\":false},{\"id\":210000901,\"first_name\":\"Глава\","
                               "\"last_name\":\"Северского района\",\"can_access_closed\":false,"
                               "\"is_closed\":true},{\"id\":7,\"first_name\":\"Ольга\","
                               "\"last_name\":\"\"}]");
        struct vk_user *u = NULL;
        size_t n = 0;
        assert_int_equal(vk_users_parse(r, &u, &n), 0);
        assert_int_equal(n, 3);
        assert_true(u[0].id == 5000001);
        assert_string_equal(u[0].name, "Вениамин Кондратьев");
        assert_null(u[0].deactivated);
        assert_true(u[1].id == 210000901);
        assert_string_equal(u[1].name, "Глава Северского района");
        assert_string_equal(u[2].name, "Ольга"); /* no trailing space for an empty last name */
        vk_users_free(u, n);
        json_decref(r);

        r = users_json("[]");
        assert_int_equal(vk_users_parse(r, &u, &n), 0);
        assert_int_equal(n, 0);
        vk_users_free(u, n);
        json_decref(r);
}

/* a deleted or banned page: kept, so the caller can tell it from one VK did not answer for */
static void test_users_deactivated(void **state)
{
        json_t *r = users_json("[{\"id\":3,\"first_name\":\"DELETED\",\"last_name\":\"\","
                               "\"deactivated\":\"deleted\"},{\"id\":4,\"first_name\":\"Иван\","
                               "\"last_name\":\"Иванов\",\"deactivated\":\"banned\"},"
                               "{\"id\":5,\"deactivated\":\"frozen\"},"
                               "{\"id\":6,\"first_name\":\"A\",\"last_name\":\"B\","
                               "\"deactivated\":null}]");
        struct vk_user *u = NULL;
        size_t n = 0;
        assert_int_equal(vk_users_parse(r, &u, &n), 0);
        assert_int_equal(n, 4);
        assert_string_equal(u[0].deactivated, "deleted");
        assert_null(u[0].name); /* never "DELETED" as somebody's name */
        assert_string_equal(u[1].deactivated, "banned");
        assert_null(u[1].name);
        assert_string_equal(u[2].deactivated, "deactivated");
        assert_null(u[3].deactivated);
        assert_string_equal(u[3].name, "A B");
        vk_users_free(u, n);
        json_decref(r);
}

static void test_users_malformed(void **state)
{
        static const char *const not_arrays[] = {
                "{\"items\":[]}", "{\"count\":1,\"items\":[{\"id\":1}]}", "null", "\"x\"", "5",
        };
        struct vk_user *u = NULL;
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(not_arrays); i++) {
                json_t *r = json_loads(not_arrays[i], JSON_DECODE_ANY, NULL);
                assert_non_null(r);
                u = (struct vk_user *)0x1;
                assert_int_equal(vk_users_parse(r, &u, &n), -EBADMSG);
                assert_ptr_equal(u, (struct vk_user *)0x1); /* untouched on failure */
                json_decref(r);
        }
        assert_int_equal(vk_users_parse(NULL, &u, &n), -EBADMSG);

        /* every entry here is unusable; the one good entry at the end survives them */
        json_t *r = users_json(
                "[1,null,\"id5\",[],{},{\"id\":\"5\",\"first_name\":\"A\",\"last_name\":\"B\"},"
                "{\"id\":0,\"first_name\":\"A\",\"last_name\":\"B\"},"
                "{\"id\":-5,\"first_name\":\"A\",\"last_name\":\"B\"},"
                "{\"id\":5.5,\"first_name\":\"A\",\"last_name\":\"B\"},"
                "{\"id\":8,\"last_name\":\"B\"},{\"id\":9,\"first_name\":\"A\"},"
                "{\"id\":10,\"first_name\":1,\"last_name\":\"B\"},"
                "{\"id\":11,\"first_name\":\"A\",\"last_name\":null},"
                "{\"id\":12,\"first_name\":[\"A\"],\"last_name\":{\"B\":1}},"
                "{\"id\":13,\"first_name\":\" \",\"last_name\":\"\\t\\n\"},"
                "{\"id\":14,\"first_name\":\"A\",\"last_name\":\"B\",\"deactivated\":1},"
                "{\"id\":15,\"first_name\":\"Ok\",\"last_name\":\"Fine\"}]");
        assert_int_equal(vk_users_parse(r, &u, &n), 0);
        assert_int_equal(n, 1);
        assert_true(u[0].id == 15);
        assert_string_equal(u[0].name, "Ok Fine");
        vk_users_free(u, n);
        json_decref(r);
}

static void assert_clean_line(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        for (size_t i = 0; p[i]; i++) {
                if (p[i] < 0x20 || p[i] == 0x7f)
                        fail_msg("control byte 0x%02x at %zu in '%s'", p[i], i, s);
                if (p[i] == 0xC2 && p[i + 1] >= 0x80 && p[i + 1] < 0xA0)
                        fail_msg("C1 control at %zu in '%s'", i, s);
                if (p[i] == 0xE2 && p[i + 1] == 0x80 && p[i + 2] >= 0xA8 && p[i + 2] <= 0xAE)
                        fail_msg("separator or bidi control at %zu in '%s'", i, s);
        }
        assert_true(s[0] != ' ' && (!s[0] || s[strlen(s) - 1] != ' '));
}

/* Names are untrusted: a newline would forge a log line, ESC would drive a terminal, a bidi
 * override would turn the name around in a notification. */
static void test_users_hostile_names(void **state)
{
        json_t *r = users_json(
                "[{\"id\":1,\"first_name\":\"Иван\\n<13>govwatchd: token=\","
                "\"last_name\":\"\\u001b[31mПетров\\u0007\\u007f\"},"
                "{\"id\":2,\"first_name\":\"\\u202eвонаВ\\u2066\",\"last_name\":\"\\u2028Пётр"
                "\\u0085\\u00a0 \\u200fСидоров\\r\\n\"},"
                "{\"id\":3,\"first_name\":\"\\t\\t\",\"last_name\":\"  Оле́г  \"}]");
        struct vk_user *u = NULL;
        size_t n = 0;
        assert_int_equal(vk_users_parse(r, &u, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(u[0].name, "Иван <13>govwatchd: token= [31mПетров");
        assert_string_equal(u[1].name, "вонаВ Пётр Сидоров");
        assert_string_equal(u[2].name, "Оле́г"); /* a combining accent is a letter's, kept */
        for (size_t i = 0; i < n; i++)
                assert_clean_line(u[i].name);
        vk_users_free(u, n);
        json_decref(r);

        /* a name the size of a post is cut, on a character boundary */
        struct strbuf sb = {0};
        assert_int_equal(strbuf_puts(&sb, "[{\"id\":1,\"first_name\":\""), 0);
        for (int i = 0; i < 5000; i++)
                assert_int_equal(strbuf_puts(&sb, "€"), 0); /* 3 bytes */
        assert_int_equal(strbuf_puts(&sb, "\",\"last_name\":\"X\"}]"), 0);
        r = users_json(sb.buf);
        assert_int_equal(vk_users_parse(r, &u, &n), 0);
        assert_int_equal(n, 1);
        assert_true(strlen(u[0].name) <= VK_USER_NAME_MAX);
        assert_int_equal(strlen(u[0].name) % 3, 0);
        assert_int_equal(strlen(u[0].name), VK_USER_NAME_MAX / 3 * 3);
        vk_users_free(u, n);
        json_decref(r);
        strbuf_done(&sb);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_execute_code),
                cmocka_unit_test(test_form_body),
                cmocka_unit_test(test_error_classes),
                cmocka_unit_test(test_execute_mixed),
                cmocka_unit_test(test_groups_and_resolve),
                cmocka_unit_test(test_users_names),
                cmocka_unit_test(test_users_deactivated),
                cmocka_unit_test(test_users_malformed),
                cmocka_unit_test(test_users_hostile_names),
                cmocka_unit_test(test_execute_each_same_as_whole),
                cmocka_unit_test(test_execute_each_one_tree_at_a_time),
                cmocka_unit_test(test_parsers_agree_on_edges),
                cmocka_unit_test(test_execute_errors_about_execute),
                cmocka_unit_test(test_parsers_agree_on_real_answer),
                cmocka_unit_test(test_answer_size_bound),
                cmocka_unit_test(test_piece_bound),
                cmocka_unit_test(test_items_bound),
                cmocka_unit_test(test_graveyard),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
