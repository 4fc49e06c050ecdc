/* fuzz-config.c — the watch list and the rule file, as YAML text from whoever edits them.
 *
 * The input is a govwatch.yaml. It goes through exactly what `check-config`, `run` and `reload`
 * run: config_load_string() (what config_load() does after reading the file) and then
 * govwatch_prepare_config(), the one shared step that builds the classifier (the rules file, the
 * config's phrases, regexes and exclusions, the model) and the scheduler, on the small rules of
 * config-rules.yaml. The same bytes are then read as a rule file (classifier.rules,
 * data/rules.yaml's format).
 *
 * Checks: a refusal comes with at least one error and no config, at most CONFIG's cap of them,
 * each with a message; success comes with a config, a classifier, a scheduler and no error.
 * stdin should be /dev/null: a fuzzed classifier.rules may name /dev/stdin.
 */
#include <stdio.h>

#include "config.h"
#include "fuzz.h"
#include "govwatch.h"
#include "log.h"
#include "rules.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char **argv[])
{
        char *rules = fuzz_source_path("tests/fuzz/config-rules.yaml");
        if (!rules)
                abort();
        /* classifier_default_rules_path() reads $GOVWATCH_RULES first: a small rules file,
         * since the classifier is built anew for each input (config-rules.yaml says why) */
        setenv("GOVWATCH_RULES", rules, 0);
        free(rules);
        /* the shared step logs which model it uses, on every input */
        log_set_max_level(LOG_ERR);
        devnull = fopen("/dev/null", "we");
        if (!devnull)
                abort();
        return 0;
}

/* What `govwatchd check-config` (and run, and reload) runs on a file, from its bytes on. */
static int check_config(const char *text, size_t size, struct govwatch_prepared *ret,
                        struct config_errors *errors)
{
        struct config *c = NULL;
        int r = config_load_string("fuzz.yaml", text, size, &c, errors);
        if (r < 0) {
                fuzz_assert(!c, "a config came back with error %d", r);
                return r;
        }
        return govwatch_prepare_config(c, GOVWATCH_PREPARE_CHECK, ret, errors);
}

static void load_rules(const char *text, size_t size)
{
        struct ruleset *rs = NULL;
        _cleanup_free_ char *error = NULL;
        if (ruleset_new(&rs) < 0)
                return;
        int r = ruleset_load_string(rs, "fuzz-rules.yaml", text, size, &error);
        if (r >= 0)
                r = ruleset_finish(rs);
        else
                fuzz_assert(r == -ENOMEM || (error && error[0]),
                            "rules refused (%d) without a message", r);
        ruleset_free(rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* exactly size bytes, no terminating NUL: the loader must not need one */
        const char *text = (const char *)data;
        struct govwatch_prepared p = {0};
        struct config_errors errors = {0};

        int r = check_config(text, size, &p, &errors);
        if (r < 0) {
                fuzz_assert(r == -ENOMEM || errors.n_errors > 0, "refused (%d) without an error",
                            r);
                fuzz_assert(errors.n_errors <= 101, "%zu errors: the cap is 100", errors.n_errors);
                for (size_t i = 0; i < errors.n_errors; i++)
                        fuzz_assert(errors.errors[i].message, "error %zu has no message", i);
                config_errors_print(&errors, "fuzz.yaml", devnull);
        } else {
                fuzz_assert(p.conf && p.classifier && p.scheduler, "success with a part missing");
                fuzz_assert(errors.n_errors == 0, "success with %zu errors", errors.n_errors);
        }
        config_errors_done(&errors);
        govwatch_prepared_done(&p);

        load_rules(text, size);
        return 0;
}
