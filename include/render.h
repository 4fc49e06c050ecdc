/* render.h — turning a notification into a sink's title and body, from templates.
 *
 * Pure. Placeholders: {community} {category} {text} {excerpt} {url} {date} {starts_at} {topic};
 * "{{" is a literal brace. A length limit cuts on a UTF-8 character boundary and marks the cut
 * with "…". Escaping for a medium (desktop markup, mail headers) is the sink's job, after this.
 */
#pragma once

#include <stddef.h>

#include "notification.h"

#define RENDER_DEFAULT_TITLE "{community}: {category}"
#define RENDER_DEFAULT_BODY  "{excerpt}\n{url}"
#define RENDER_EXCERPT_CHARS 280

/* tmpl NULL: RENDER_DEFAULT_BODY. max_bytes 0: no limit.
 * -EINVAL for an unknown placeholder (config validation uses render_check). */
int render_template(const char *tmpl, const struct notification *n, size_t max_bytes, char **ret);
/* Checks a template's placeholders; on error sets *ret_offset to the offending byte offset. */
int render_check(const char *tmpl, size_t *ret_offset);

/* A JSON document from a template that is JSON with placeholders inside its strings (a webhook's
 * body): the template's own text is kept as written and each placeholder's value is escaped for
 * the inside of a JSON string (quote, backslash, control characters), cut at value_max_bytes
 * (0: whole). Besides the placeholders above, {title} and {body} are the sink's title and body as
 * its templates render them. -EINVAL for an unknown placeholder or no template. */
int render_json_template(const char *tmpl, const struct notification *n, const char *title,
                         const char *body, size_t value_max_bytes, char **ret);
/* NULL when tmpl gives valid JSON whatever the notification says (its placeholders are all
 * known, and each sits inside a string); else why not, in buf. */
const char *render_json_check(const char *tmpl, char *buf, size_t size);
/* Length of the longest prefix of s (≤ max_bytes) that ends on a character boundary. */
size_t utf8_prefix_len(const char *s, size_t max_bytes);
/* Length of the well-formed UTF-8 sequence at s (1-4), 0 when it is not one (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF). */
size_t utf8_sequence_len(const unsigned char *s, size_t left);
/* Human names of the categories: "Прямой эфир", "Услуги" ... (LABELS.md); unknown: the id. */
const char *render_category_title(const char *category);
