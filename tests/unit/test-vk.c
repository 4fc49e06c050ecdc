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
                                  "\"offset\":0}),API.wall.get({\"owner_id\":5000001,"
                                  "\"count\":100,\"offset\":40})];");
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

static void test_groups_and_resolve(void **state)
{
        json_t *r = json_loads("{\"groups\":[{\"id\":210000101,\"name\":\"Администрация\","
                               "\"screen_name\":\"sev_adm\",\"is_closed\":0},{\"id\":-5},"
                               "{\"id\":2,\"is_closed\":true}],\"profiles\":[]}",
                               0, NULL);
        struct vk_group *g = NULL;
        size_t n = 0;
        assert_int_equal(vk_groups_parse(r, &g, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(g[0].name, "Администрация");
        assert_string_equal(g[1].screen_name, "");
        assert_true(g[1].is_closed);
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_execute_code),       cmocka_unit_test(test_form_body),
                cmocka_unit_test(test_error_classes),      cmocka_unit_test(test_execute_mixed),
                cmocka_unit_test(test_groups_and_resolve),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
