/* test-post.c — VK answers into posts: every recorded fixture, and hostile variants.
 * A failure here means govwatch would misread a real VK answer: miss a post, a repost's text,
 * a live broadcast, or take an ad for news. */
#include "test-helpers.h"

#include "post.h"
#include "vk.h"

#define FIX "tests/fixtures/vk/"

static struct vk_result *parse_fixture(const char *name, size_t n_calls)
{
        size_t size;
        _cleanup_free_ char *data = read_fixture(name, &size);
        struct vk_result *res = NULL;
        const char *reason = NULL;
        int r = vk_result_parse(data, size, n_calls, &res, &reason);
        if (r < 0)
                fail_msg("%s: %s", name, reason);
        return res;
}

static struct wall *wall_fixture(const char *name)
{
        _cleanup_(vk_result_freep) struct vk_result *res = parse_fixture(name, 0);
        struct wall *w = NULL;
        const char *reason = NULL;
        assert_int_equal(res->calls[0].error_code, 0);
        assert_int_equal(wall_from_json(res->calls[0].response, &w, &reason), 0);
        return w;
}

static void test_wall_get_repost_copy_history(void **state)
{
        _cleanup_(wall_freep) struct wall *w =
                wall_fixture(FIX "wall.get-extended-repost-copy_history-profiles-groups.json");
        assert_int_equal(w->count, 42);
        assert_int_equal(w->n_posts, 1);
        const struct post *p = w->posts[0];
        assert_int_equal(p->id, 41);
        assert_int_equal(p->owner_id, 10);
        assert_string_equal(p->text, "");
        assert_false(p->is_pinned);
        assert_non_null(p->repost);
        assert_int_equal(p->repost->owner_id, -29246653);
        assert_int_equal(p->repost->id, 93530);
        assert_int_equal(p->repost->n_attachments, 1);
        assert_int_equal(p->repost->attachments[0].kind, ATTACHMENT_PHOTO);
        /* extended=1: "groups" names the community the original came from */
        assert_string_equal(p->repost->owner_name, "Корпорация Зла");
        assert_null(p->owner_name);
        /* a repost without a comment of its own still says where it came from */
        _cleanup_free_ char *text = post_notification_text(p);
        assert_string_equal(text, "Репост из «Корпорация Зла»:");
}

/* The comment first, then the original and its source: nothing of either is dropped. */
static void test_notification_text_repost(void **state)
{
        const char *answer =
                "{\"count\":1,\"items\":[{\"id\":7,\"owner_id\":-1,\"date\":1,"
                "\"text\":\"Будьте внимательны!\",\"copy_history\":[{\"id\":5,\"owner_id\":-2,"
                "\"date\":1,\"text\":\"Штормовое предупреждение\",\"attachments\":[{\"type\":"
                "\"link\",\"link\":{\"title\":\"Подробнее\"}}]}]},{\"id\":6,\"owner_id\":-1,"
                "\"date\":1,\"text\":\"\",\"copy_history\":[{\"id\":9,\"owner_id\":77,"
                "\"date\":1,\"text\":\"Эфир в 18:00\"}]},{\"id\":4,\"owner_id\":-1,\"date\":1,"
                "\"text\":\"Своё\"}],\"groups\":[{\"id\":2,\"name\":\"МЧС\"},{\"id\":\"x\"}],"
                "\"profiles\":[{\"id\":76,\"first_name\":\"Не\"}]}";
        json_error_t err;
        json_t *root = json_loads(answer, 0, &err);
        assert_non_null(root);
        struct wall *w = NULL;
        const char *reason = NULL;
        assert_int_equal(wall_from_json(root, &w, &reason), 0);
        json_decref(root);
        assert_int_equal(w->n_posts, 3);

        _cleanup_free_ char *a = post_notification_text(w->posts[0]);
        assert_string_equal(a, "Будьте внимательны!\n\nРепост из «МЧС»:\nШтормовое "
                               "предупреждение\nПодробнее");
        /* a page VK did not name: its id, which is also its address */
        _cleanup_free_ char *b = post_notification_text(w->posts[1]);
        assert_string_equal(b, "Репост из «id77»:\nЭфир в 18:00");
        _cleanup_free_ char *c = post_notification_text(w->posts[2]);
        assert_string_equal(c, "Своё");
        wall_free(w);
}

static void test_wall_get_repost_with_poll(void **state)
{
        _cleanup_(wall_freep) struct wall *w =
                wall_fixture(FIX "wall.get-repost-with-poll-attachment-and-geo.json");
        assert_int_equal(w->n_posts, 1);
        const struct post *p = w->posts[0];
        assert_non_null(p->repost);
        bool poll = false;
        for (size_t i = 0; i < p->repost->n_attachments; i++)
                if (p->repost->attachments[i].kind == ATTACHMENT_POLL) {
                        poll = true;
                        assert_non_null(p->repost->attachments[i].title);
                }
        assert_true(poll);
        /* the classifier reads the reposted text when the repost has none of its own */
        _cleanup_free_ char *text = post_effective_text(p);
        assert_non_null(text);
        assert_true(strlen(text) > 0);
        assert_non_null(strstr(text, p->repost->text[0] ? p->repost->text : ""));
}

static void test_wall_get_ads_mojibake(void **state)
{
        _cleanup_(wall_freep) struct wall *w =
                wall_fixture(FIX "wall.get-article-attachment-mojibake-text-next_from.json");
        assert_true(w->n_posts >= 1);
        const struct post *p = w->posts[0];
        assert_int_equal(p->id, 4284);
        assert_false(p->marked_as_ads);
        bool article = false;
        for (size_t i = 0; i < p->n_attachments; i++)
                article |= p->attachments[i].kind == ATTACHMENT_ARTICLE;
        assert_true(article);
        assert_non_null(strstr(p->text, "\xe2\x88\x9a")); /* "√": mojibake kept as it came */
}

static void test_wall_getbyid_donut_escaped(void **state)
{
        _cleanup_(wall_freep) struct wall *w =
                wall_fixture(FIX "wall.getById-items-groups-donut-escaped-slashes.json");
        assert_true(w->n_posts >= 1);
        assert_int_equal(w->posts[0]->id, 123);
        assert_string_equal(w->posts[0]->text, "В этом посте нет доната");
        assert_int_equal(w->posts[0]->n_attachments, 0);
        assert_false(w->posts[0]->donut);
}

static void test_wall_getbyid_legacy_array(void **state)
{
        _cleanup_(wall_freep) struct wall *w =
                wall_fixture(FIX "wall.getById-legacy-array-shape.json");
        assert_int_equal(w->n_posts, 1);
        assert_int_equal(w->posts[0]->id, 617);
        assert_int_equal(w->posts[0]->owner_id, 1);
        assert_int_equal(w->count, 1);
}

static void test_fave_nonlive_video(void **state)
{
        _cleanup_(wall_freep) struct wall *w =
                wall_fixture(FIX "fave.getPosts-wallpost-with-nonlive-video-attachment.json");
        assert_int_equal(w->n_posts, 1);
        const struct post *p = w->posts[0];
        assert_int_equal(p->n_attachments, 1);
        assert_int_equal(p->attachments[0].kind, ATTACHMENT_VIDEO);
        assert_false(p->attachments[0].live);
        assert_false(p->attachments[0].upcoming);
        assert_null(p->attachments[0].live_status);
}

static void test_newsfeed_bom_source_ids(void **state)
{
        /* BOM, friend items without post ids (skipped), posts keyed by source_id/post_id */
        _cleanup_(wall_freep) struct wall *w =
                wall_fixture(FIX "newsfeed.get-utf8-bom-repost-copy_history-friend-items.json");
        assert_true(w->n_skipped > 0);
        bool smena = false;
        for (size_t i = 0; i < w->n_posts; i++)
                if (w->posts[i]->repost && strstr(w->posts[i]->repost->text, "СМЕНА"))
                        smena = true;
        assert_true(smena);
}

static void test_video_live_object(void **state)
{
        /* a bare video object (BOM-prefixed), wrapped into a post attachment as wall.get sends */
        size_t size;
        _cleanup_free_ char *data =
                read_fixture(FIX "video-object-live1-live_status-started-utf8-bom.json", &size);
        json_error_t err;
        json_t *video = json_loadb(data + 3, size - 3, 0, &err);
        assert_non_null(video);
        json_t *post = json_pack("{s:I,s:I,s:I,s:s,s:[{s:s,s:o}]}", "id", (json_int_t)5, "owner_id",
                                 (json_int_t)-1, "date", (json_int_t)1, "text", "", "attachments",
                                 "type", "video", "video", video);
        assert_non_null(post);
        _cleanup_post_free_ struct post *p = NULL;
        assert_int_equal(post_from_json(post, &p, NULL), 0);
        json_decref(post);
        assert_int_equal(p->n_attachments, 1);
        assert_true(p->attachments[0].live);
        assert_string_equal(p->attachments[0].live_status, "started");
        assert_string_equal(p->attachments[0].title, "Новое Радио. LIVE 24/7");
        assert_non_null(strstr(p->attachments[0].description, "Прямой эфир"));
}

static void test_video_get_is_not_live(void **state)
{
        _cleanup_(vk_result_freep) struct vk_result *res =
                parse_fixture(FIX "video.get-extended-nonlive-type-video.json", 0);
        const json_t *items = json_object_get(res->calls[0].response, "items");
        assert_int_equal(json_array_size(items), 1);
        json_t *post = json_pack("{s:I,s:I,s:[{s:s,s:O}]}", "id", (json_int_t)1, "owner_id",
                                 (json_int_t)-1, "attachments", "type", "video", "video",
                                 json_array_get(items, 0));
        _cleanup_post_free_ struct post *p = NULL;
        assert_int_equal(post_from_json(post, &p, NULL), 0);
        json_decref(post);
        assert_false(p->attachments[0].live);
        assert_false(p->attachments[0].upcoming);
}

static void test_errors(void **state)
{
        static const struct {
                const char *file;
                int code;
        } cases[] = {
                {FIX "error-5-user-authorization-failed.json", 5},
                {FIX "error-15-access-denied-private-community.json", 15},
                {FIX "error-100-invalid-parameter-tab-indented.json", 100},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(vk_result_freep) struct vk_result *res = parse_fixture(cases[i].file, 0);
                assert_int_equal(res->error_code, cases[i].code);
                assert_int_equal(res->calls[0].error_code, cases[i].code);
                assert_null(res->calls[0].response);
                assert_non_null(res->error_msg);
        }
}

static void test_execute_null_with_errors(void **state)
{
        _cleanup_(vk_result_freep) struct vk_result *res =
                parse_fixture(FIX "execute-response-null-with-execute_errors.json", 3);
        assert_int_equal(res->n_calls, 3);
        assert_int_equal(res->calls[0].error_code, 1);
        assert_int_equal(res->calls[1].error_code, 935);
        assert_int_equal(res->calls[2].error_code, 15);
}

static void test_groups_legacy_array(void **state)
{
        _cleanup_(vk_result_freep) struct vk_result *res =
                parse_fixture(FIX "groups.getById-legacy-array-shape-two-groups.json", 0);
        struct vk_group *g = NULL;
        size_t n = 0;
        assert_int_equal(vk_groups_parse(res->calls[0].response, &g, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(g[0].id, 17683660);
        assert_string_equal(g[0].screen_name, "club17683660");
        assert_false(g[0].is_closed);
        assert_true(g[1].is_closed);
        vk_groups_free(g, n);
}

static void test_not_an_answer(void **state)
{
        /* the error catalogue is JSON but no API answer: a clear refusal, not a crash */
        size_t size;
        _cleanup_free_ char *data = read_fixture(FIX "vk-api-schema-errors-catalog.json", &size);
        struct vk_result *res = NULL;
        const char *reason = NULL;
        assert_int_equal(vk_result_parse(data, size, 0, &res, &reason), -EBADMSG);
        assert_string_equal(reason, "answer has neither \"response\" nor \"error\"");
        assert_null(res);
}

static void test_hostile_posts(void **state)
{
        const char *reason = NULL;
        struct post *p = NULL;
        /* 64-bit ids stay 64-bit */
        json_t *o =
                json_loads("{\"id\":4294967297,\"owner_id\":-9007199254740993,\"text\":null,"
                           "\"is_pinned\":true,\"attachments\":[{\"nope\":1},{\"type\":\"video\","
                           "\"video\":{\"upcoming\":1,\"live_start_time\":1764349200}}],"
                           "\"copy_history\":\"not an array\"}",
                           0, NULL);
        assert_non_null(o);
        assert_int_equal(post_from_json(o, &p, &reason), 0);
        assert_true(p->id == INT64_C(4294967297));
        assert_true(p->owner_id == INT64_C(-9007199254740993));
        assert_string_equal(p->text, "");
        assert_true(p->is_pinned);
        assert_int_equal(p->n_attachments, 1); /* the typeless one is skipped */
        assert_true(p->attachments[0].upcoming);
        assert_true(p->attachments[0].live_start_time == 1764349200);
        assert_null(p->repost);
        p = post_free(p);
        json_decref(o);

        /* no id: refused with a reason */
        o = json_loads("{\"owner_id\":-1,\"text\":\"x\"}", 0, NULL);
        assert_int_equal(post_from_json(o, &p, &reason), -EBADMSG);
        assert_string_equal(reason, "post has no integer id and owner_id");
        json_decref(o);

        /* a deep copy_history chain is cut, not followed */
        o = json_loads("{\"id\":1,\"owner_id\":-1,\"copy_history\":[{\"id\":2,\"owner_id\":-2,"
                       "\"copy_history\":[{\"id\":3,\"owner_id\":-3,\"copy_history\":[{\"id\":4,"
                       "\"owner_id\":-4}]}]}]}",
                       0, NULL);
        assert_int_equal(post_from_json(o, &p, &reason), 0);
        assert_non_null(p->repost);
        assert_non_null(p->repost->repost);
        assert_null(p->repost->repost->repost);
        p = post_free(p);
        json_decref(o);
}

static void test_truncated_and_garbage(void **state)
{
        static const char *const bodies[] = {
                "{\"response\":{\"count\":3,\"items\":[{\"id\":1,",
                "<html><body>502 Bad Gateway</body></html>",
                "",
                "[1,2,3]",
                "{\"error\":{\"error_msg\":\"no code\"}}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
                struct vk_result *res = NULL;
                const char *reason = NULL;
                assert_int_equal(vk_result_parse(bodies[i], strlen(bodies[i]), 0, &res, &reason),
                                 -EBADMSG);
                assert_non_null(reason);
        }
}

static void test_url(void **state)
{
        char buf[64];
        post_url(-210000101, 42, buf, sizeof(buf));
        assert_string_equal(buf, "https://vk.com/wall-210000101_42");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_wall_get_repost_copy_history),
                cmocka_unit_test(test_notification_text_repost),
                cmocka_unit_test(test_wall_get_repost_with_poll),
                cmocka_unit_test(test_wall_get_ads_mojibake),
                cmocka_unit_test(test_wall_getbyid_donut_escaped),
                cmocka_unit_test(test_wall_getbyid_legacy_array),
                cmocka_unit_test(test_fave_nonlive_video),
                cmocka_unit_test(test_newsfeed_bom_source_ids),
                cmocka_unit_test(test_video_live_object),
                cmocka_unit_test(test_video_get_is_not_live),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_execute_null_with_errors),
                cmocka_unit_test(test_groups_legacy_array),
                cmocka_unit_test(test_not_an_answer),
                cmocka_unit_test(test_hostile_posts),
                cmocka_unit_test(test_truncated_and_garbage),
                cmocka_unit_test(test_url),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
