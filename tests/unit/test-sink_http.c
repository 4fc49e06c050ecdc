/* test-sink_http.c — what the HTTP sinks share (src/sink_http.c). A failure here shows in the
 * webhook's, ntfy's and telegram's details and log lines: a server's Russian cut into a broken
 * character, a "retry after" the outbox does not honour, a request freed twice or never. */
#include "test-helpers.h"

#include "sink_http.h"

static void test_printable(void **state)
{
        char out[16];

        sink_http_printable("a\tb\nc\x7F", 6, 100, true, out, sizeof(out));
        assert_string_equal(out, "a b c ");
        /* "Привет" is 12 bytes: 7 bytes of room leave three characters, not three and a half */
        sink_http_printable("Привет", strlen("Привет"), 100, true, out, 8);
        assert_string_equal(out, "При");
        sink_http_printable("Привет", strlen("Привет"), 4, true, out, sizeof(out));
        assert_string_equal(out, "При");
        /* a body in an encoding we do not know: no byte above 0x7F reaches the log */
        sink_http_printable("\xcf\xf0\xe8 ok", 6, 100, false, out, sizeof(out));
        assert_string_equal(out, "??? ok");
        sink_http_printable(NULL, 0, 100, true, out, sizeof(out));
        assert_string_equal(out, "");
}

static void test_answer_detail(void **state)
{
        char out[128];
        struct sink_http_answer a = {
                .status = 503, .answered = true, .retry_after = 120, .result = SINK_TRY_LATER};

        sink_http_answer_detail(&a, "busy", out, sizeof(out));
        assert_string_equal(out, "HTTP 503, retry after 120 s: busy");
        assert_int_equal(sink_http_answer_retry_usec(&a), 120 * USEC_PER_SEC);

        /* a Retry-After on a refusal is no reason to wait, nor to say so */
        a = (struct sink_http_answer){
                .status = 404, .answered = true, .retry_after = 60, .result = SINK_REJECTED};
        sink_http_answer_detail(&a, "", out, sizeof(out));
        assert_string_equal(out, "HTTP 404");
        assert_int_equal(sink_http_answer_retry_usec(&a), 0);

        a = (struct sink_http_answer){.code = CURLE_PEER_FAILED_VERIFICATION,
                                      .why = "SSL certificate problem",
                                      .result = SINK_TRY_LATER};
        sink_http_answer_detail(&a, NULL, out, sizeof(out));
        assert_string_equal(out, "certificate not trusted: set ca_file (SSL certificate problem)");

        a = (struct sink_http_answer){.code = CURLE_COULDNT_CONNECT,
                                      .why = "Connection refused",
                                      .result = SINK_TRY_LATER};
        sink_http_answer_detail(&a, NULL, out, sizeof(out));
        assert_string_equal(out, "Connection refused");
}

static int freed;

static struct sink_http_request *count_free(struct sink_http_request *q)
{
        freed++;
        return sink_http_request_free(q);
}

static void test_list(void **state)
{
        struct sink_http_request *list = NULL, *a, *b, *c;

        assert_int_equal(sink_http_request_new(NULL, NULL, NULL, NULL, &a), 0);
        assert_int_equal(sink_http_request_new(NULL, NULL, NULL, NULL, &b), 0);
        assert_int_equal(sink_http_request_new(NULL, NULL, NULL, NULL, &c), 0);
        sink_http_request_link(a, &list);
        sink_http_request_link(b, &list);
        sink_http_request_link(c, &list);
        /* the middle one goes on its own (an answer), the others with the sink */
        sink_http_request_free(b);
        assert_ptr_equal(list, c);
        assert_ptr_equal(c->next, a);
        assert_ptr_equal(a->prev, c);
        freed = 0;
        sink_http_requests_drop(&list, count_free);
        assert_null(list);
        assert_int_equal(freed, 2);
}

static struct sink_http_request *done_request;
static int done_calls;

static void on_sink_done(struct sink *s, enum sink_result result, uint64_t retry_after_usec,
                         const char *detail, void *userdata)
{
        /* the request is gone from the list by now: the sink may free itself here */
        assert_null(*(struct sink_http_request **)userdata);
        assert_int_equal(result, SINK_TRY_LATER);
        assert_int_equal(retry_after_usec, 5);
        assert_string_equal(detail, "why");
        done_calls++;
}

static void test_finish(void **state)
{
        struct sink_http_request *list = NULL;

        assert_int_equal(sink_http_request_new(NULL, NULL, on_sink_done, &list, &done_request), 0);
        sink_http_request_link(done_request, &list);
        done_calls = 0;
        sink_http_request_finish(done_request, sink_http_request_free, SINK_TRY_LATER, 5, "why");
        assert_int_equal(done_calls, 1);
}

static void test_prepare_headers(void **state)
{
        struct sink_http_request *q;

        assert_int_equal(sink_http_request_new(NULL, NULL, NULL, NULL, &q), 0);
        q->body = strdup("{}");
        assert_non_null(q->body);
        /* the admin's Content-Type wins; Expect is ours */
        assert_int_equal(sink_http_header_append(&q->headers, "content-type: text/plain"), 0);
        assert_int_equal(sink_http_request_prepare(q, "http://127.0.0.1:9/", 0, NULL), 0);
        assert_non_null(q->easy);
        assert_string_equal(q->headers->data, "content-type: text/plain");
        assert_non_null(q->headers->next);
        assert_string_equal(q->headers->next->data, "Expect:");
        assert_null(q->headers->next->next);
        sink_http_request_free(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_printable),
                cmocka_unit_test(test_answer_detail),
                cmocka_unit_test(test_list),
                cmocka_unit_test(test_finish),
                cmocka_unit_test(test_prepare_headers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
