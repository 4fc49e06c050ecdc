/* post.h — a VK wall post as govwatch understands it, parsed from the API's JSON.
 *
 * Only what later stages need is kept: ids, dates, flags, the text, the first reposted post
 * (copy_history[0]) and a summary of each attachment. Everything else in VK's object is skipped.
 * Text is owned by the post and is whatever VK sent (valid JSON strings are valid UTF-8).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* VK timestamps are read only within [VK_TIME_MIN, VK_TIME_MAX): VK began in 2006, and a value
 * outside is a broken or hostile answer. One rule: a post whose "date" is out of range is refused
 * as malformed (a "date" that is absent, 0 or not a number means none, as for a text from
 * elsewhere); an optional time out of range (live_start_time, edited, a poll's end_date) is read
 * as absent (0). Later stages add hours or days to these and print them: bounded here, none of
 * that can overflow or announce a start in the year -219246529. */
#define VK_TIME_MIN INT64_C(946684800)  /* 2000-01-01T00:00:00Z */
#define VK_TIME_MAX INT64_C(4102444800) /* 2100-01-01T00:00:00Z */

/* The most UTF-8 a post's text may hold, and the most its attachments' titles and descriptions
 * may hold together; beyond it the text is cut at a character boundary and the post marked
 * text_truncated. VK caps a post at 16384 characters, at most 4 bytes each: 64 KiB holds any real
 * post, while a hostile answer's megabytes never reach the normaliser, which needs about 26 bytes
 * of memory a byte of text. So a post (with its repost) puts at most 4 * POST_TEXT_MAX bytes
 * before the classifier. */
#define POST_TEXT_MAX 65536
/* Attachments read of one post: VK allows 10; the rest of a longer list is not read. */
#define POST_ATTACHMENTS_MAX 32

enum attachment_kind {
        ATTACHMENT_OTHER,
        ATTACHMENT_PHOTO,
        ATTACHMENT_VIDEO,
        ATTACHMENT_POLL,
        ATTACHMENT_LINK,
        ATTACHMENT_DOC,
        ATTACHMENT_ARTICLE,
};

struct attachment {
        enum attachment_kind kind;
        char *type;        /* VK's "type" string, e.g. "video", "poll", "podcast" */
        char *title;       /* video title, poll question, link or article title; may be NULL */
        char *description; /* video description, link description; may be NULL */
        /* video only */
        bool live;               /* "live": 1 */
        bool upcoming;           /* "upcoming": 1 */
        char *live_status;       /* "started", "finished", "failed", ... ; NULL when absent */
        int64_t live_start_time; /* unix time, 0 when absent or out of range */
        int64_t video_owner_id;  /* the video's owner and id: vk.com/video<owner>_<id>; */
        int64_t video_id;        /* 0 when VK gave none */
        /* poll only */
        bool poll_closed;
        int64_t poll_end_date; /* 0 when open-ended (or out of range) */
};

struct post {
        int64_t owner_id; /* negative for communities, positive for users */
        int64_t id;
        int64_t from_id;
        int64_t date;   /* unix time in [VK_TIME_MIN, VK_TIME_MAX), 0 when VK gave none */
        int64_t edited; /* unix time of the last edit, 0 if never (or out of range) */
        bool is_pinned;
        bool marked_as_ads;
        bool donut;          /* donut-only (paid subscribers) post */
        char *post_type;     /* "post", "copy", "reply", ... */
        char *text;          /* never NULL after parsing ("" when absent) */
        bool text_truncated; /* its text, its attachments' texts or its repost's were cut to
                              * POST_TEXT_MAX: the caller may log it */
        struct post *repost; /* copy_history[0], the reposted original; NULL if not a repost */
        char *owner_name;    /* the name of owner_id's community or page, from an extended
                              * answer's "groups"/"profiles" (reposted originals only); NULL when
                              * VK did not name it */
        struct attachment *attachments;
        size_t n_attachments;
};

/* Parses one post object. -EBADMSG with a reason in ret_reason (static string) when the object
 * lacks an integer id or owner_id, or its "date" is outside [VK_TIME_MIN, VK_TIME_MAX); every
 * other field is optional. */
int post_from_json(const json_t *obj, struct post **ret, const char **ret_reason);

struct post *post_free(struct post *p);
static inline void post_freep(struct post **p)
{
        *p = post_free(*p);
}
#define _cleanup_post_free_ _cleanup_(post_freep)

/* The text the classifier should read: the repost's text and attachments for a repost with an
 * empty comment, both joined otherwise. Returned string is newly allocated. */
char *post_effective_text(const struct post *p);

/* The text a notification tells: the post's own text; for a repost, its comment (if any), then
 * "Репост из «NAME»:" and the reposted text with its attachments' titles, NAME being the original
 * owner's owner_name or, unnamed, club<N>/id<N>. VK's mention markup, [club1|Name], is shown as
 * VK shows it, the name alone. Returned string is newly allocated. */
char *post_notification_text(const struct post *p);

/* "https://vk.com/wall-123_456" into buf (at least 64 bytes). */
void post_url(int64_t owner_id, int64_t id, char *buf, size_t size);

/* Where the broadcast a post announces is watched, into buf (at least 64 bytes): its live video
 * (vk.com/video<owner>_<id>, the first live or upcoming video attachment of the post or of its
 * repost), else the videos of the post's owner (vk.com/videos<owner>), where a community's
 * broadcast appears when it starts. */
void post_watch_url(const struct post *p, char *buf, size_t size);

/* A wall.get answer: {"count": N, "items": [...]} (also a bare array of posts, the legacy shape).
 * With extended=1 the answer also has "groups" and "profiles": the names of every owner it
 * mentions, which name the communities that reposted originals came from (post.owner_name). */
struct wall {
        int64_t count;
        struct post **posts;
        size_t n_posts;
        size_t n_skipped; /* items that were not valid posts (logged at debug by the caller) */
        const char *skip_reason; /* why the first of them was refused (static); NULL if none */
};
/* The work one wall's answer can cause, whatever its bytes: wall.get returns at most 100 posts
 * (its count's maximum), so more items are not VK and the answer is refused; a reposted
 * original's name is looked for among the first WALL_EXTENDED_MAX groups or profiles only, so
 * that 100 reposts against a million groups are not a hundred million comparisons. */
#define WALL_ITEMS_MAX    100
#define WALL_EXTENDED_MAX 1000
int wall_from_json(const json_t *response, struct wall **ret, const char **ret_reason);
struct wall *wall_free(struct wall *w);
static inline void wall_freep(struct wall **w)
{
        *w = wall_free(*w);
}
