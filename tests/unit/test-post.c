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
                "{\"count\":1,\"items\":[{\"id\":7,\"owner_id\":-1,\"date\":1764340000,"
                "\"text\":\"Будьте внимательны!\",\"copy_history\":[{\"id\":5,\"owner_id\":-2,"
                "\"date\":1764340000,\"text\":\"Штормовое "
                "предупреждение\",\"attachments\":[{\"type\":"
                "\"link\",\"link\":{\"title\":\"Подробнее\"}}]}]},{\"id\":6,\"owner_id\":-1,"
                "\"date\":1764340000,\"text\":\"\",\"copy_history\":[{\"id\":9,\"owner_id\":77,"
                "\"date\":1764340000,\"text\":\"Эфир в "
                "18:00\"}]},{\"id\":4,\"owner_id\":-1,\"date\":1764340000,"
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
                                 (json_int_t)-1, "date", (json_int_t)1764340000, "text", "",
                                 "attachments", "type", "video", "video", video);
        assert_non_null(post);
        _cleanup_post_free_ struct post *p = NULL;
        assert_int_equal(post_from_json(post, &p, NULL), 0);
        json_decref(post);
        assert_int_equal(p->n_attachments, 1);
        assert_true(p->attachments[0].live);
        assert_string_equal(p->attachments[0].live_status, "started");
        assert_string_equal(p->attachments[0].title, "Новое Радио. LIVE 24/7");
        assert_non_null(strstr(p->attachments[0].description, "Прямой эфир"));
        /* the "Смотреть" button opens this very video */
        assert_true(p->attachments[0].video_owner_id == -106042931);
        assert_true(p->attachments[0].video_id == 456240719);
        char url[96];
        post_watch_url(p, url, sizeof(url));
        assert_string_equal(url, "https://vk.com/video-106042931_456240719");
}

static struct post *post_of(const char *json, int expected, const char *expected_reason);

/* A notification reads as VK shows the post: a mention is its name, not its markup. What only
 * looks like markup stays as written. */
static void test_notification_text_mentions(void **state)
{
        static const struct {
                const char *text, *shown;
        } cases[] = {
                {"Приём ведёт [club100001|администрация района] и [id1|Павел Дуров].",
                 "Приём ведёт администрация района и Павел Дуров."},
                {"[public5|МФЦ][event7|День города]", "МФЦДень города"},
                {"[sevadm|Администрация]!", "Администрация!"},
                {"[1] сноска, [a|] пусто, [|имя] без цели, [id1|две\nстроки], [id1|не [вложено]]",
                 "[1] сноска, [a|] пусто, [|имя] без цели, [id1|две\nстроки], [id1|не [вложено]]"},
                {"[id1|незакрыто", "[id1|незакрыто"},
                {"", ""},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *o = json_pack("{s:I, s:I, s:I, s:s}", "id", (json_int_t)1, "owner_id",
                                      (json_int_t)-1, "date", (json_int_t)1764340000, "text",
                                      cases[i].text);
                _cleanup_post_free_ struct post *p = NULL;
                assert_int_equal(post_from_json(o, &p, NULL), 0);
                json_decref(o);
                _cleanup_free_ char *shown = post_notification_text(p);
                assert_string_equal(shown, cases[i].shown);
        }
}

/* No live video in the post or its repost: the community's videos, where its broadcast shows up
 * when it starts. A recorded (not live) video is not the broadcast. */
static void test_watch_url_without_live_video(void **state)
{
        _cleanup_post_free_ struct post *p =
                post_of("{\"id\":9,\"owner_id\":-100001,\"date\":1764340000,\"text\":\"x\","
                        "\"attachments\":[{\"type\":\"video\",\"video\":{\"id\":3,"
                        "\"owner_id\":-100001,\"title\":\"Запись эфира\"}}]}",
                        0, NULL);
        char url[96];
        post_watch_url(p, url, sizeof(url));
        assert_string_equal(url, "https://vk.com/videos-100001");

        _cleanup_post_free_ struct post *q =
                post_of("{\"id\":10,\"owner_id\":-100001,\"date\":1764340000,\"text\":\"\","
                        "\"copy_history\":[{\"id\":2,\"owner_id\":-2,\"date\":1764340000,"
                        "\"attachments\":[{\"type\":\"video\",\"video\":{\"id\":5,"
                        "\"owner_id\":-2,\"live\":1,\"upcoming\":1}}]}]}",
                        0, NULL);
        post_watch_url(q, url, sizeof(url));
        assert_string_equal(url, "https://vk.com/video-2_5");
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
        /* the last entry is about the execute itself ("method":"execute"), not the third call:
         * that call failed without its error, VK's internal error (10), retried */
        assert_int_equal(res->calls[2].error_code, 10);
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

static struct post *post_of(const char *json, int expected, const char *expected_reason)
{
        json_error_t err;
        json_t *o = json_loads(json, 0, &err);
        if (!o)
                fail_msg("bad test JSON: %s", err.text);
        struct post *p = NULL;
        const char *reason = NULL;
        int r = post_from_json(o, &p, &reason);
        json_decref(o);
        if (r != expected)
                fail_msg("%s: %s, expected %s", json, strerror(-r), strerror(-expected));
        if (expected_reason)
                assert_string_equal(reason, expected_reason);
        return p;
}

/* A date VK could not have sent must not become a start time in the year -219246529 and a
 * reminder at it: the post is refused (a wall keeps its other posts and says why), and an
 * optional time out of range reads as absent. */
static void test_times_out_of_range(void **state)
{
        static const char *const refused[] = {
                "9223372036854775000", "-9223372036854775807", "\"9223372036854775000\"",
                "946684799",           "4102444800",           "-1",
        };
        static const char *why = "post date is out of range (before 2000 or from 2100 on)";
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                _cleanup_free_ char *json = NULL;
                assert_true(asprintf(&json, "{\"id\":1,\"owner_id\":-1,\"date\":%s}", refused[i]) >
                            0);
                assert_null(post_of(json, -EBADMSG, why));
        }
        /* the ends of the range, and "no date" (absent, 0, not a number) */
        static const struct {
                const char *date;
                int64_t expected;
        } kept[] = {
                {"946684800", VK_TIME_MIN},
                {"4102444799", VK_TIME_MAX - 1},
                {"0", 0},
                {"null", 0},
                {"\"soon\"", 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
                _cleanup_free_ char *json = NULL;
                assert_true(asprintf(&json, "{\"id\":1,\"owner_id\":-1,\"date\":%s}",
                                     kept[i].date) > 0);
                _cleanup_post_free_ struct post *p = post_of(json, 0, NULL);
                assert_true(p->date == kept[i].expected);
        }

        /* optional times out of range are absent; the broadcast is still a broadcast */
        _cleanup_post_free_ struct post *p = post_of(
                "{\"id\":1,\"owner_id\":-1,\"date\":1764340000,\"edited\":-5,\"attachments\":["
                "{\"type\":\"video\",\"video\":{\"live\":1,\"upcoming\":1,"
                "\"live_start_time\":9223372036854775000}},"
                "{\"type\":\"video\",\"video\":{\"live\":1,\"live_start_time\":1764349200}},"
                "{\"type\":\"poll\",\"poll\":{\"end_date\":-9223372036854775807}}]}",
                0, NULL);
        assert_true(p->date == 1764340000);
        assert_true(p->edited == 0);
        assert_int_equal(p->n_attachments, 3);
        assert_true(p->attachments[0].live && p->attachments[0].upcoming);
        assert_true(p->attachments[0].live_start_time == 0);
        assert_true(p->attachments[1].live_start_time == 1764349200);
        assert_true(p->attachments[2].poll_end_date == 0);

        /* a repost with a wild date is dropped, the post kept */
        _cleanup_post_free_ struct post *q =
                post_of("{\"id\":1,\"owner_id\":-1,\"date\":1764340000,\"copy_history\":[{"
                        "\"id\":2,\"owner_id\":-2,\"date\":9223372036854775807}]}",
                        0, NULL);
        assert_null(q->repost);

        /* in a wall, the post is skipped with its reason and the others are kept */
        json_t *answer = json_loads("{\"count\":3,\"items\":[{\"id\":1,\"owner_id\":-1,"
                                    "\"date\":1764340000},{\"id\":2,\"owner_id\":-1,\"date\":"
                                    "9223372036854775000},{\"id\":3,\"owner_id\":-1}]}",
                                    0, NULL);
        assert_non_null(answer);
        struct wall *w = NULL;
        const char *reason = NULL;
        assert_int_equal(wall_from_json(answer, &w, &reason), 0);
        json_decref(answer);
        assert_int_equal(w->n_posts, 2);
        assert_int_equal(w->n_skipped, 1);
        assert_string_equal(w->skip_reason, why);
        w = wall_free(w);
}

static char *repeat(const char *unit, size_t bytes)
{
        struct strbuf sb = {0};
        while (sb.len + strlen(unit) <= bytes)
                assert_int_equal(strbuf_puts(&sb, unit), 0);
        return sb.buf;
}

static bool utf8_whole(const char *s)
{
        size_t len = strlen(s);
        /* ends on a character: its last lead byte starts a sequence that fits */
        size_t i = len;
        while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
                i--;
        if (i == 0)
                return true;
        unsigned char c = (unsigned char)s[i - 1];
        size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        return len - (i - 1) == n;
}

/* A hostile post's megabytes never reach the normaliser (26 bytes of memory a byte): the text,
 * and the attachments' texts together, stop at POST_TEXT_MAX, on a character, and the post says
 * it was cut so that the daemon can log it. A real post (16384 characters at most) is whole. */
/* The work one wall's answer can cause: at most WALL_ITEMS_MAX posts (wall.get's largest count),
 * POST_ATTACHMENTS_MAX attachments read of each, WALL_EXTENDED_MAX groups looked through for a
 * repost's author. Under the bounds everything is read; past them the answer is refused, the
 * attachments past the bound are not read, and an author past the bound stays unnamed. */
static void test_wall_bounds(void **state)
{
        for (size_t n = WALL_ITEMS_MAX; n <= WALL_ITEMS_MAX + 1; n++) {
                json_t *items = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(items,
                                              json_pack("{s:I,s:I,s:s}", "id", (json_int_t)i + 1,
                                                        "owner_id", (json_int_t)-1, "text", "x"));
                json_t *answer = json_pack("{s:I,s:o}", "count", (json_int_t)n, "items", items);
                struct wall *w = NULL;
                const char *reason = NULL;
                int r = wall_from_json(answer, &w, &reason);
                if (n == WALL_ITEMS_MAX) {
                        assert_int_equal(r, 0);
                        assert_int_equal(w->n_posts, WALL_ITEMS_MAX);
                } else {
                        assert_int_equal(r, -EBADMSG);
                        assert_string_equal(reason, "wall answer has more than 100 posts");
                        assert_null(w);
                }
                wall_free(w);
                json_decref(answer);
        }

        json_t *attachments = json_array();
        for (int i = 0; i < POST_ATTACHMENTS_MAX + 5; i++)
                json_array_append_new(attachments,
                                      json_pack("{s:s,s:{s:s}}", "type", "link", "link", "title",
                                                "Расписание автобусов"));
        json_t *post = json_pack("{s:I,s:I,s:s,s:o}", "id", (json_int_t)1, "owner_id",
                                 (json_int_t)-1, "text", "x", "attachments", attachments);
        struct post *p = NULL;
        assert_int_equal(post_from_json(post, &p, NULL), 0);
        assert_int_equal(p->n_attachments, POST_ATTACHMENTS_MAX);
        post_free(p);
        json_decref(post);

        /* reposts of two communities, one named among the first WALL_EXTENDED_MAX groups and
         * one just past them */
        for (int past = 0; past <= 1; past++) {
                json_t *groups = json_array();
                for (int g = 0; g < WALL_EXTENDED_MAX + 1; g++)
                        json_array_append_new(groups,
                                              json_pack("{s:I,s:s}", "id", (json_int_t)1000 + g,
                                                        "name", "Администрация"));
                json_int_t author = 1000 + (past ? WALL_EXTENDED_MAX : WALL_EXTENDED_MAX - 1);
                json_t *answer =
                        json_pack("{s:I,s:[{s:I,s:I,s:s,s:[{s:I,s:I,s:s}]}],s:o}", "count",
                                  (json_int_t)1, "items", "id", (json_int_t)1, "owner_id",
                                  (json_int_t)-1, "text", "", "copy_history", "id", (json_int_t)7,
                                  "owner_id", -author, "text", "Отключение воды", "groups", groups);
                assert_non_null(answer);
                struct wall *w = NULL;
                assert_int_equal(wall_from_json(answer, &w, NULL), 0);
                assert_int_equal(w->n_posts, 1);
                assert_non_null(w->posts[0]->repost);
                if (past)
                        assert_null(w->posts[0]->repost->owner_name);
                else
                        assert_string_equal(w->posts[0]->repost->owner_name, "Администрация");
                wall_free(w);
                json_decref(answer);
        }
}

static void test_text_cap(void **state)
{
        _cleanup_free_ char *exact = repeat("a", POST_TEXT_MAX);
        _cleanup_free_ char *over = repeat("a", POST_TEXT_MAX + 10);
        _cleanup_free_ char *odd = repeat("я", POST_TEXT_MAX + 2); /* cut inside a letter... */
        _cleanup_free_ char *real = repeat("😀", 16384 * 4);        /* the longest VK post */
        json_t *o;
        struct post *p;
        const char *reason;

        memmove(odd, odd + 1, strlen(odd)); /* ...once its first byte is gone */
        odd[0] = 'a';
        const struct {
                const char *text;
                size_t len;
                bool truncated;
        } cases[] = {
                {exact, POST_TEXT_MAX, false},
                {over, POST_TEXT_MAX, true},
                {odd, POST_TEXT_MAX - 1, true},
                {real, 16384 * 4, false},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                o = json_pack("{s:I,s:I,s:s}", "id", (json_int_t)1, "owner_id", (json_int_t)-1,
                              "text", cases[i].text);
                assert_non_null(o);
                assert_int_equal(post_from_json(o, &p, &reason), 0);
                json_decref(o);
                assert_int_equal(strlen(p->text), cases[i].len);
                assert_memory_equal(p->text, cases[i].text, cases[i].len);
                assert_true(utf8_whole(p->text));
                assert_int_equal(p->text_truncated, cases[i].truncated);
                p = post_free(p);
        }

        /* attachments share one budget: the second description gets what the first left */
        _cleanup_free_ char *d40k = repeat("b", 40000);
        o = json_pack("{s:I,s:I,s:s,s:[{s:s,s:{s:s}},{s:s,s:{s:s,s:s}}]}", "id", (json_int_t)1,
                      "owner_id", (json_int_t)-1, "text", "эфир", "attachments", "type", "video",
                      "video", "description", d40k, "type", "link", "link", "title", "Заголовок",
                      "description", d40k);
        assert_non_null(o);
        assert_int_equal(post_from_json(o, &p, &reason), 0);
        json_decref(o);
        assert_int_equal(p->n_attachments, 2);
        assert_string_equal(p->text, "эфир");
        assert_int_equal(strlen(p->attachments[0].description), 40000);
        assert_string_equal(p->attachments[1].title, "Заголовок");
        assert_int_equal(strlen(p->attachments[1].description),
                         POST_TEXT_MAX - 40000 - strlen("Заголовок"));
        assert_true(p->text_truncated);
        p = post_free(p);

        /* a repost cut: the post says so too */
        o = json_pack("{s:I,s:I,s:s,s:[{s:I,s:I,s:s}]}", "id", (json_int_t)1, "owner_id",
                      (json_int_t)-1, "text", "", "copy_history", "id", (json_int_t)2, "owner_id",
                      (json_int_t)-2, "text", over);
        assert_non_null(o);
        assert_int_equal(post_from_json(o, &p, &reason), 0);
        json_decref(o);
        assert_true(p->repost->text_truncated);
        assert_true(p->text_truncated);
        assert_int_equal(strlen(p->repost->text), POST_TEXT_MAX);
        p = post_free(p);
}

/* Real VK marks an upcoming broadcast in more than one way: "type":"live" with "upcoming":1 and
 * no "live", or "live":1 with "type":"video". Each is a live broadcast. */
static void test_live_variants(void **state)
{
        _cleanup_post_free_ struct post *upcoming =
                post_of("{\"id\":1,\"owner_id\":-1,\"date\":1764340000,\"attachments\":[{\"type\":"
                        "\"video\",\"video\":{\"id\":7,\"type\":\"live\",\"upcoming\":1,"
                        "\"live_start_time\":1764349200,\"title\":\"Прямая линия\"}}]}",
                        0, NULL);
        assert_int_equal(upcoming->n_attachments, 1);
        assert_int_equal(upcoming->attachments[0].kind, ATTACHMENT_VIDEO);
        assert_true(upcoming->attachments[0].live);
        assert_true(upcoming->attachments[0].upcoming);
        assert_true(upcoming->attachments[0].live_start_time == 1764349200);

        _cleanup_post_free_ struct post *live =
                post_of("{\"id\":2,\"owner_id\":-1,\"date\":1764340000,\"attachments\":[{\"type\":"
                        "\"video\",\"video\":{\"id\":8,\"type\":\"video\",\"live\":1,"
                        "\"live_status\":\"started\"}}]}",
                        0, NULL);
        assert_true(live->attachments[0].live);
        assert_false(live->attachments[0].upcoming);
        assert_string_equal(live->attachments[0].live_status, "started");

        _cleanup_post_free_ struct post *both =
                post_of("{\"id\":3,\"owner_id\":-1,\"date\":1764340000,\"attachments\":[{\"type\":"
                        "\"video\",\"video\":{\"id\":9,\"live\":1,\"upcoming\":1,"
                        "\"live_start_time\":1764349200}}]}",
                        0, NULL);
        assert_true(both->attachments[0].live && both->attachments[0].upcoming);
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
                cmocka_unit_test(test_watch_url_without_live_video),
                cmocka_unit_test(test_notification_text_mentions),
                cmocka_unit_test(test_video_get_is_not_live),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_execute_null_with_errors),
                cmocka_unit_test(test_groups_legacy_array),
                cmocka_unit_test(test_not_an_answer),
                cmocka_unit_test(test_hostile_posts),
                cmocka_unit_test(test_times_out_of_range),
                cmocka_unit_test(test_text_cap),
                cmocka_unit_test(test_wall_bounds),
                cmocka_unit_test(test_live_variants),
                cmocka_unit_test(test_truncated_and_garbage),
                cmocka_unit_test(test_url),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
