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

int community_ref_parse(const char *s, struct community_ref *ret, const char **ret_reason)
{
        const char *reason = NULL;
        const char *name = s;
        size_t len;
        int r;

        if (!s || *s == '\0') {
                *ret_reason = "empty";
                return -EINVAL;
        }

        r = strip_address(s, &name, &reason);
        if (r < 0) {
                *ret_reason = reason;
                return r;
        }
        /* The page name ends where a query, a fragment or a trailing slash begins. */
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

        char buf[65];
        memcpy(buf, name, len);
        buf[len] = '\0';

        struct community_ref ref = {0};
        int64_t id;

        if (strncasecmp(buf, "wall", 4) == 0 && (buf[4] == '-' || isdigit((unsigned char)buf[4]))) {
                *ret_reason = "a link to a post, not a community";
                return -EINVAL;
        }

        if (buf[0] == '-' || isdigit((unsigned char)buf[0])) {
                bool negative = buf[0] == '-';
                r = parse_id(buf + negative, &id);
                if (r == 0) {
                        if (id == 0) {
                                *ret_reason = "0 is not a VK id";
                                return -EINVAL;
                        }
                        ref.kind = negative ? COMMUNITY_REF_ID : COMMUNITY_REF_USER_ID;
                        ref.owner_id = negative ? -id : id;
                        goto done;
                }
                if (r == -ERANGE) {
                        *ret_reason = "id out of range";
                        return -EINVAL;
                }
                if (negative) {
                        *ret_reason = "a negative id must be all digits";
                        return -EINVAL;
                }
                /* "1abc" can still be a screen name */
        }

        static const struct {
                const char *prefix;
                enum community_ref_kind kind;
        } prefixes[] = {
                {"club", COMMUNITY_REF_ID},
                {"public", COMMUNITY_REF_ID},
                {"event", COMMUNITY_REF_ID},
                {"id", COMMUNITY_REF_USER_ID},
        };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
                size_t l = strlen(prefixes[i].prefix);
                if (strncasecmp(buf, prefixes[i].prefix, l) != 0 || !isdigit((unsigned char)buf[l]))
                        continue;
                r = parse_id(buf + l, &id);
                if (r == -ERANGE) {
                        *ret_reason = "id out of range";
                        return -EINVAL;
                }
                if (r < 0)
                        break; /* "club1x": VK reserves these, but let resolution decide */
                if (id == 0) {
                        *ret_reason = "0 is not a VK id";
                        return -EINVAL;
                }
                ref.kind = prefixes[i].kind;
                ref.owner_id = ref.kind == COMMUNITY_REF_ID ? -id : id;
                goto done;
        }

        if (len < 2) {
                *ret_reason = "a screen name has at least 2 characters";
                return -EINVAL;
        }
        if (len > 32) {
                *ret_reason = "a screen name has at most 32 characters";
                return -EINVAL;
        }
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)buf[i];
                if (!(isalnum(ch) || ch == '_' || ch == '.') || ch >= 0x80) {
                        *ret_reason = "a screen name has only latin letters, digits, '_' and '.'";
                        return -EINVAL;
                }
                buf[i] = (char)tolower(ch);
        }
        ref.kind = COMMUNITY_REF_SCREEN_NAME;
        ref.screen_name = strdup(buf);
        if (!ref.screen_name)
                return -ENOMEM;

done:
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
