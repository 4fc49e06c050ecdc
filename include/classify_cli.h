/* classify_cli.h — the classifier's command-line verbs, for main.c (classify_cli.c).
 *
 * Kept out of classify.h, which is the pure classifier: these read files and stdin, write stdout
 * and stderr, and return exit statuses.
 */
#pragma once

/* govwatchd train ...: writes a model file. argv[0] is "train". Returns the exit status. */
int verb_train(int argc, char **argv);

/* govwatchd classify [--rules FILE] [--explain] [--timezone ZONE]: VK post objects (JSON lines) on
 * stdin, {"owner_id","id","categories","starts_at"} lines on stdout; --explain writes the rules
 * that fired to stderr. argv[0] is "classify". Returns the exit status. */
int verb_classify(int argc, char **argv);
