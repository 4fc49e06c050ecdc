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
/* Length of the longest prefix of s (≤ max_bytes) that ends on a character boundary. */
size_t utf8_prefix_len(const char *s, size_t max_bytes);
/* Human names of the categories: "Прямой эфир", "Услуги" ... (LABELS.md); unknown: the id. */
const char *render_category_title(const char *category);
