/* mail.h — RFC 5322 messages for the email sink: addresses, headers, encoded-words, bodies.
 *
 * Pure: no I/O, no clock, no randomness, no logging; the caller passes the time and the
 * Message-ID's unique part, so every byte of a message is reproducible in a unit test.
 * Header values and addresses containing CR, LF or NUL are refused with -EINVAL: libcurl 7.88
 * copies addresses into "MAIL FROM:<%s>" / "RCPT TO:<%s>" unchecked (FACTS.md), so a line break
 * there is an SMTP command of someone else's choosing. Text (subject, body) is UTF-8; invalid
 * sequences are replaced with U+FFFD, never passed on and never a reason to fail.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Header lines are folded (RFC 5322 §2.2.3: CRLF inserted before white space, so that unfolding
 * gives the value back) to at most MAIL_LINE_MAX: RFC 2047's limit for a line with encoded-words,
 * within RFC 5322's 78 for any other. A line passes it only when it holds one token that cannot
 * be broken, alone on its continuation line: an address (at most MAIL_ADDR_MAX) or a msg-id (at
 * most 2 + MAIL_MESSAGE_ID_LEFT_MAX + 1 + MAIL_ADDR_MAX). Those bounds keep every line within
 * RFC 5322's hard limit, MAIL_HARD_LINE_MAX, whatever the input. */
#define MAIL_LINE_MAX            76  /* RFC 2047 §2: a line with encoded-words; RFC 2045 base64 */
#define MAIL_HARD_LINE_MAX       998 /* RFC 5322 §2.1.1: characters a line, without CRLF */
#define MAIL_WORD_MAX            75  /* RFC 2047 §2: one encoded-word */
#define MAIL_WORD_TEXT_MAX       45  /* bytes of UTF-8 in one word: 60 base64 chars + 12 = 72 */
#define MAIL_ADDR_MAX            254 /* RFC 5321 §4.5.3.1.3: a path of 256 with its "<>" */
#define MAIL_MESSAGE_ID_LEFT_MAX 64  /* the unique part of a Message-ID */

/* -EINVAL when the first size bytes of s contain CR, LF or NUL. */
int mail_header_value_check(const char *s, size_t size);

/* Splits "Display Name <local@domain>", "\"Quoted, Name\" <local@domain>", "<local@domain>" or
 * "local@domain". The address must be plain ASCII without spaces, controls or specials, with
 * one '@' and non-empty parts, at most MAIL_ADDR_MAX bytes. *ret_display is NULL when there is no
 * display name; a display name may be of any length (it is folded as encoded-words). */
int mail_address_parse(const char *s, char **ret_display, char **ret_addr);

/* A copy of s (size bytes) with every invalid UTF-8 sequence (overlong, surrogate, > U+10FFFF,
 * truncated, stray continuation, NUL) replaced by U+FFFD. */
int mail_utf8_sanitize(const char *s, size_t size, char **ret);

/* Untrusted text made fit for one header line: sanitized UTF-8, every control character
 * (CR, LF, TAB ...) turned into a space, runs of spaces collapsed, trimmed, and cut to at most
 * max_bytes on a character boundary (0: no limit). */
int mail_header_text(const char *s, size_t max_bytes, char **ret);

/* Appends text (valid UTF-8, no CR/LF) as RFC 2047 B encoded-words "=?UTF-8?B?...?=", each at
 * most MAIL_WORD_MAX chars with at most MAIL_WORD_TEXT_MAX bytes of text, never splitting a
 * character, each preceded by a space or folded with CRLF SP so that no line passes
 * MAIL_LINE_MAX. *col is the current column (bytes since the last CRLF), updated. */
int mail_append_encoded_words(struct strbuf *sb, const char *text, size_t *col);

/* RFC 5322 date-time in the C locale whatever the process's locale: "Sat, 28 Nov 2026 18:00:00
 * +0300". buf needs at least 32 bytes. utc_offset in seconds east of UTC. */
int mail_format_date(int64_t t, int32_t utc_offset, char *buf, size_t size);

/* Base64 of data in lines of at most line_max characters ending in CRLF (0: one line, no
 * CRLF). */
int mail_base64_append(struct strbuf *sb, const void *data, size_t size, size_t line_max);

struct mail_message {
        const char *from;       /* "Name <addr>" or "addr" (the sink's config) */
        char *const *to;        /* NULL-terminated, same forms; at least one */
        const char *subject;    /* UTF-8, one line (see mail_header_text) */
        const char *body;       /* UTF-8 text, LF or CRLF line ends; NULL: empty */
        int64_t date;           /* unix time for the Date header */
        int32_t utc_offset;     /* seconds east of UTC for the Date header */
        const char *message_id; /* the unique left part of Message-ID: [A-Za-z0-9.-]+, at most
                                   MAIL_MESSAGE_ID_LEFT_MAX; its domain is the From address's */
};

/* Builds the whole message (headers, blank line, base64 text/plain body) with CRLF line ends,
 * headers folded as said above MAIL_LINE_MAX: between the mailboxes of a list, between a display
 * name and its address, between encoded-words; a display name is a quoted-string when it is
 * ASCII and fits on a line, encoded-words otherwise; addresses are never encoded.
 * -EINVAL on a bad address, a CR/LF in a header value, or a bad message_id. */
int mail_build(const struct mail_message *m, char **ret, size_t *ret_size);
