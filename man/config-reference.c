/* config-reference.c — the key reference of govwatch.yaml(5), generated from the loader's tables.
 *
 * Built and run at build time only (never installed). It walks config_keys_foreach(), the same
 * tables config_load() parses with, and writes every key as scdoc text in place of the line
 * "%CONFIG_REFERENCE%" of the hand-written page, so a key added to config.c or to a sink type's
 * table (src/sinks/) is documented by the next build and none can be missed. `--keys` prints the
 * dotted paths alone, for the test that checks the installed page against them.
 *
 *   govwatch-config-reference TEMPLATE.scd OUTPUT.scd
 *   govwatch-config-reference --keys
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

#define MARKER "%CONFIG_REFERENCE%"

struct entry {
        char *path;
        enum config_key_kind kind;
        char *text; /* the entry as scdoc, ready to print */
};

struct reference {
        struct entry *entries;
        size_t n, allocated;
};

/* Text from the tables is data to scdoc: its markup characters are escaped, and so is a first
 * character that would start a list, a table or a heading. */
static int put_escaped(struct strbuf *sb, const char *s, bool paragraph_start)
{
        for (const char *p = s; *p; p++) {
                bool special = strchr("\\*_", *p) ||
                               (paragraph_start && p == s && strchr("-.|:[]#;`", *p));
                if (special && strbuf_puts(sb, "\\") < 0)
                        return -ENOMEM;
                if (strbuf_append(sb, p, 1) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* "email, webhook" as "*email* and *webhook*". */
static int put_types(struct strbuf *sb, const char *types)
{
        while (*types) {
                size_t n = strcspn(types, ",");
                const char *next = types + n + strspn(types + n, ", ");
                const char *separator = !*next ? "" : strchr(next, ',') ? ", " : " and ";
                if (strbuf_appendf(sb, "*%.*s*%s", (int)n, types, separator) < 0)
                        return -ENOMEM;
                types = next;
        }
        return 0;
}

/* What the loader checks beyond the type, in words. */
static int put_constraints(struct strbuf *sb, const struct config_key *k)
{
        unsigned long long min = k->min, max = k->max;
        bool only = k->only_for && k->only_for[0];
        bool required_some = k->required_for && k->required_for[0];

        if (k->values) {
                if (strbuf_puts(sb, " One of:") < 0)
                        return -ENOMEM;
                for (size_t i = 0; k->values[i]; i++)
                        if (strbuf_appendf(sb, "%s *%s*", i ? "," : "", k->values[i]) < 0)
                                return -ENOMEM;
                if (strbuf_puts(sb, ".") < 0)
                        return -ENOMEM;
        }
        if (min > 0 && max > 0 && strbuf_appendf(sb, " From %llu to %llu.", min, max) < 0)
                return -ENOMEM;
        if (min > 0 && max == 0 && strbuf_appendf(sb, " At least %llu.", min) < 0)
                return -ENOMEM;
        if (min == 0 && max > 0 && strbuf_appendf(sb, " At most %llu.", max) < 0)
                return -ENOMEM;
        if (k->positive && strbuf_puts(sb, " Greater than 0.") < 0)
                return -ENOMEM;

        const char *only_tail = " sinks only.";
        if (only && required_some && streq(k->only_for, k->required_for)) {
                only_tail = " sinks, where it is required.";
                required_some = false;
        }
        if (only && (strbuf_puts(sb, " For ") < 0 || put_types(sb, k->only_for) < 0 ||
                     strbuf_puts(sb, only_tail) < 0))
                return -ENOMEM;
        if (required_some && (strbuf_puts(sb, " Required for ") < 0 ||
                              put_types(sb, k->required_for) < 0 || strbuf_puts(sb, " sinks.") < 0))
                return -ENOMEM;
        if (k->required_for && !k->required_for[0] && strbuf_puts(sb, " Required.") < 0)
                return -ENOMEM;
        return 0;
}

static int format_entry(const struct config_key *k, struct strbuf *sb)
{
        static const char *const kind_words[] = {
                [CONFIG_KEY_SECTION] = "section",
                [CONFIG_KEY_MAP] = "mapping of names",
                [CONFIG_KEY_LIST] = "list of entries",
        };
        const char *type = k->kind == CONFIG_KEY_VALUE ? k->type : kind_words[k->kind];

        if (strbuf_puts(sb, "*") < 0 || put_escaped(sb, k->path, false) < 0 ||
            strbuf_puts(sb, "*") < 0)
                return -ENOMEM;
        if (type || k->default_value) {
                if (strbuf_appendf(sb, " (") < 0)
                        return -ENOMEM;
                if (type && strbuf_appendf(sb, "%s%s", type, k->default_value ? ", " : "") < 0)
                        return -ENOMEM;
                if (k->default_value && (strbuf_appendf(sb, "default: ") < 0 ||
                                         put_escaped(sb, k->default_value, false) < 0))
                        return -ENOMEM;
                if (strbuf_appendf(sb, ")") < 0)
                        return -ENOMEM;
        }
        if (strbuf_appendf(sb, "\n\t") < 0 || put_escaped(sb, k->description, true) < 0 ||
            strbuf_appendf(sb, ".") < 0 || put_constraints(sb, k) < 0)
                return -ENOMEM;
        if (k->kind == CONFIG_KEY_MAP &&
            strbuf_appendf(sb, " Each NAME is yours to choose; its keys follow.") < 0)
                return -ENOMEM;
        if (k->kind == CONFIG_KEY_LIST && strbuf_appendf(sb, " The keys of each entry follow.") < 0)
                return -ENOMEM;
        return strbuf_appendf(sb, "\n\n") < 0 ? -ENOMEM : 0;
}

static int collect(const struct config_key *k, void *userdata)
{
        struct reference *ref = userdata;
        struct strbuf sb = {0};

        if (!greedy_realloc((void **)&ref->entries, &ref->allocated, ref->n + 1,
                            sizeof(struct entry)))
                return -ENOMEM;
        if (format_entry(k, &sb) < 0) {
                strbuf_done(&sb);
                return -ENOMEM;
        }
        struct entry *e = &ref->entries[ref->n];
        *e = (struct entry){.path = strdup(k->path), .kind = k->kind, .text = sb.buf};
        if (!e->path) {
                strbuf_done(&sb);
                return -ENOMEM;
        }
        ref->n++;
        return 0;
}

static void reference_done(struct reference *ref)
{
        for (size_t i = 0; i < ref->n; i++) {
                free(ref->entries[i].path);
                free(ref->entries[i].text);
        }
        free(ref->entries);
}

static bool is_top_level(const struct entry *e)
{
        return !strpbrk(e->path, ".[");
}

/* The first component of a path: "vk" of "vk.api_url", "watch" of "watch[].topic". */
static bool in_group(const struct entry *e, const char *group)
{
        size_t n = strlen(group);
        return strncmp(e->path, group, n) == 0 && (e->path[n] == '.' || e->path[n] == '[');
}

/* Top-level values first, then each section, mapping or list with its keys, in the tables'
 * order. */
static void print_reference(const struct reference *ref, FILE *f)
{
        fputs("## Top level\n\n", f);
        for (size_t i = 0; i < ref->n; i++)
                if (is_top_level(&ref->entries[i]) && ref->entries[i].kind == CONFIG_KEY_VALUE)
                        fputs(ref->entries[i].text, f);
        for (size_t i = 0; i < ref->n; i++) {
                const struct entry *group = &ref->entries[i];
                if (!is_top_level(group) || group->kind == CONFIG_KEY_VALUE)
                        continue;
                fprintf(f, "## %s\n\n", group->path);
                fputs(group->text, f);
                for (size_t j = 0; j < ref->n; j++)
                        if (in_group(&ref->entries[j], group->path))
                                fputs(ref->entries[j].text, f);
        }
}

static int write_page(const struct reference *ref, const char *template_path,
                      const char *output_path)
{
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file(template_path, 1024 * 1024, false, &text, &size);
        if (r < 0) {
                fprintf(stderr, "Failed to read %s: %s\n", template_path, strerror(-r));
                return r;
        }
        char *marker = strstr(text, "\n" MARKER "\n");
        if (!marker || strstr(marker + 1, "\n" MARKER "\n")) {
                fprintf(stderr, "%s: needs the line %s exactly once\n", template_path, MARKER);
                return -EINVAL;
        }
        FILE *f = fopen(output_path, "we");
        if (!f) {
                r = -errno;
                fprintf(stderr, "Failed to create %s: %s\n", output_path, strerror(-r));
                return r;
        }
        fwrite(text, 1, (size_t)(marker - text) + 1, f);
        print_reference(ref, f);
        fputs(marker + strlen("\n" MARKER "\n"), f);
        if (fclose(f) != 0) {
                r = -errno;
                fprintf(stderr, "Failed to write %s: %s\n", output_path, strerror(-r));
                return r;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct reference ref = {0};
        int r;

        if (!(argc == 2 && streq(argv[1], "--keys")) && argc != 3) {
                fprintf(stderr, "Usage: %s TEMPLATE.scd OUTPUT.scd\n       %s --keys\n", argv[0],
                        argv[0]);
                return 2;
        }
        r = config_keys_foreach(collect, &ref);
        if (r < 0) {
                fprintf(stderr, "Failed to walk the settings tables: %s\n", strerror(-r));
                reference_done(&ref);
                return 1;
        }
        if (argc == 2)
                for (size_t i = 0; i < ref.n; i++)
                        puts(ref.entries[i].path);
        else
                r = write_page(&ref, argv[1], argv[2]);
        reference_done(&ref);
        return r < 0 ? 1 : 0;
}
