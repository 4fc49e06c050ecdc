/* community_ref.c — a community or personal page as written in the watch list, before resolution.
 *
 * Pure string work: an address, a numeric id or a screen name becomes either a known owner_id or
 * a lower-case screen name that the VK source resolves later. It never touches the network, and
 * it refuses anything it cannot read rather than guessing (a post link is not a community).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "util.h"

/* Hosts that serve the same pages; the mobile and www forms are what people copy from a phone or
 * an old bookmark. */
static const char *const vk_hosts[] = {
        "vk.com", "www.vk.com", "m.vk.com", "vk.ru", "www.vk.ru", "m.vk.ru",
};

/* Parses a decimal id without sign; -ERANGE beyond what VK ids can be (they fit in int64). */
static int parse_id(const char *s, int64_t *ret)
{
        int64_t v = 0;

        if (*s == '\0')
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (v > (INT64_MAX - (*s - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (*s - '0');
        }
        *ret = v;
        return 0;
}

/* Strips "https://vk.com/" and friends; *ret_name points into s. 0: not an address at all,
 * 1: an address, -EINVAL: an address of something else. */
static int strip_address(const char *s, const char **ret_name, const char **ret_reason)
{
        const char *p = s;
        bool had_scheme = false;

        if (strncasecmp(p, "https://", 8) == 0) {
                p += 8;
                had_scheme = true;
        } else if (strncasecmp(p, "http://", 7) == 0) {
                p += 7;
                had_scheme = true;
        }

        for (size_t i = 0; i < ELEMENTSOF(vk_hosts); i++) {
                size_t l = strlen(vk_hosts[i]);
                if (strncasecmp(p, vk_hosts[i], l) != 0)
                        continue;
                if (p[l] == '\0' || p[l] == '/') {
                        *ret_name = p[l] == '/' ? p + l + 1 : p + l;
                        return 1;
                }
        }
        if (had_scheme || strchr(s, '/')) {
                *ret_reason = "not a VK address (expected vk.com/NAME or vk.ru/NAME)";
                return -EINVAL;
        }
        return 0;
}

/* The page name in s, an address stripped, up to a query, a fragment or a trailing slash: copied
 * into buf, *ret_len bytes. */
static int page_name(const char *s, char buf[static 65], size_t *ret_len, const char **ret_reason)
{
        const char *name = s;
        size_t len;
        int r;

        r = strip_address(s, &name, ret_reason);
        if (r < 0)
                return r;
        len = strcspn(name, "/?#");
        if (name[len] == '/' && name[len + 1] != '\0' && name[len + 1] != '?' &&
            name[len + 1] != '#') {
                *ret_reason = "a link to a page inside a community, not a community";
                return -EINVAL;
        }
        if (len == 0) {
                *ret_reason = "no community name after the address";
                return -EINVAL;
        }
        if (len > 64) {
                *ret_reason = "too long for a VK id or screen name";
                return -EINVAL;
        }
        memcpy(buf, name, len);
        buf[len] = '\0';
        *ret_len = len;
        return 0;
}

/* "-1" (a community) or "1" (a user): 1 and ref filled in, 0 when name is no number ("1abc" can
 * still be a screen name), -EINVAL. */
static int numeric_id(const char *name, struct community_ref *ref, const char **ret_reason)
{
        bool negative = name[0] == '-';
        int64_t id;
        int r;

        if (!negative && !isdigit((unsigned char)name[0]))
                return 0;
        r = parse_id(name + negative, &id);
        if (r == 0) {
                if (id == 0) {
                        *ret_reason = "0 is not a VK id";
                        return -EINVAL;
                }
                ref->kind = negative ? COMMUNITY_REF_ID : COMMUNITY_REF_USER_ID;
                ref->owner_id = negative ? -id : id;
                return 1;
        }
        if (r == -ERANGE) {
                *ret_reason = "id out of range";
                return -EINVAL;
        }
        if (negative) {
                *ret_reason = "a negative id must be all digits";
                return -EINVAL;
        }
        return 0;
}

/* "club1", "public1", "event1", "id1": 1 and ref filled in, 0 when name is none of them, -EINVAL.
 */
static int prefixed_id(const char *name, struct community_ref *ref, const char **ret_reason)
{
        static const struct {
                const char *prefix;
                enum community_ref_kind kind;
        } prefixes[] = {
                {"club", COMMUNITY_REF_ID},
                {"public", COMMUNITY_REF_ID},
                {"event", COMMUNITY_REF_ID},
                {"id", COMMUNITY_REF_USER_ID},
        };
        int64_t id;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
                size_t l = strlen(prefixes[i].prefix);
                if (strncasecmp(name, prefixes[i].prefix, l) != 0 ||
                    !isdigit((unsigned char)name[l]))
                        continue;
                r = parse_id(name + l, &id);
                if (r == -ERANGE) {
                        *ret_reason = "id out of range";
                        return -EINVAL;
                }
                if (r < 0)
                        return 0; /* "club1x": VK reserves these, but let resolution decide */
                if (id == 0) {
                        *ret_reason = "0 is not a VK id";
                        return -EINVAL;
                }
                ref->kind = prefixes[i].kind;
                ref->owner_id = ref->kind == COMMUNITY_REF_ID ? -id : id;
                return 1;
        }
        return 0;
}

/* What is left must be a screen name: checked, and lower-cased in place. */
static int screen_name(char *name, size_t len, struct community_ref *ref, const char **ret_reason)
{
        if (len < 2) {
                *ret_reason = "a screen name has at least 2 characters";
                return -EINVAL;
        }
        if (len > 32) {
                *ret_reason = "a screen name has at most 32 characters";
                return -EINVAL;
        }
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)name[i];
                if (!(isalnum(ch) || ch == '_' || ch == '.') || ch >= 0x80) {
                        *ret_reason = "a screen name has only latin letters, digits, '_' and '.'";
                        return -EINVAL;
                }
                name[i] = (char)tolower(ch);
        }
        ref->kind = COMMUNITY_REF_SCREEN_NAME;
        ref->screen_name = strdup(name);
        if (!ref->screen_name)
                return -ENOMEM;
        return 0;
}

int community_ref_parse(const char *s, struct community_ref *ret, const char **ret_reason)
{
        struct community_ref ref = {0};
        char buf[65];
        size_t len;
        int r;

        if (!s || *s == '\0') {
                *ret_reason = "empty";
                return -EINVAL;
        }
        r = page_name(s, buf, &len, ret_reason);
        if (r < 0)
                return r;
        if (strncasecmp(buf, "wall", 4) == 0 && (buf[4] == '-' || isdigit((unsigned char)buf[4]))) {
                *ret_reason = "a link to a post, not a community";
                return -EINVAL;
        }
        /* an id, written as one or with a prefix, or else a screen name */
        r = numeric_id(buf, &ref, ret_reason);
        if (r == 0)
                r = prefixed_id(buf, &ref, ret_reason);
        if (r == 0)
                r = screen_name(buf, len, &ref, ret_reason);
        if (r < 0)
                return r;
        ref.raw = strdup(s);
        if (!ref.raw) {
                free(ref.screen_name);
                return -ENOMEM;
        }
        *ret = ref;
        return 0;
}

void community_ref_done(struct community_ref *r)
{
        if (!r)
                return;
        free(r->screen_name);
        free(r->raw);
        r->screen_name = r->raw = NULL;
}
