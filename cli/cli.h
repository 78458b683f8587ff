/*
 * cli.h - the automl command: sub-commands and the helpers they share.
 *
 * Only cli/ talks to the user.  Exit codes: 0 success, 1 a failure while
 * working (I/O, store, no successful trial), 2 bad input (usage, spec,
 * data), 128 + N stopped by signal N: 130 SIGINT, 143 SIGTERM, 129 SIGHUP
 * (automl run).
 */
#ifndef AML_CLI_H
#define AML_CLI_H

#include <stdio.h>

#include "aml.h"
#include "search.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_INPUT = 2,
    CLI_EXIT_INTERRUPTED = 130,
};

int cli_run(int argc, char **argv);
int cli_trials(int argc, char **argv);
int cli_best(int argc, char **argv);
int cli_studies(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_explain(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_learners(int argc, char **argv);
int cli_export(int argc, char **argv);

/*
 * Halving and bohb (halving_hint.c): about how many trials the search takes
 * to reach its first full evaluation, by a dry run of the strategy with
 * made-up scores (the real count depends on the results); 0 when none comes
 * within a few thousand trials or the dry run fails.
 */
long cli_halving_first_full(const aml_search_type *type, const aml_space *space,
                            uint64_t seed, const aml_search_options *opt,
                            const aml_config *seeds, size_t n_seeds);

/* Prints "automl: <message>" on stderr. */
void cli_error(const char *fmt, ...) AML_PRINTF(1, 2);
/* Prints the library's last message and returns the exit code for `rc`. */
int cli_fail(int rc);
/*
 * The same as one line "automl: CMD: <message>" (line breaks in the message
 * become spaces), for the commands whose every error carries their name;
 * cli_fail when cmd is NULL.
 */
int cli_fail_in(const char *cmd, int rc);

/*
 * Checks, before any work, that --out PATH names a file a rename may
 * replace (space/outfile.h); else sets AML_EINVAL with a message
 * "--out PATH is ..." for cli_fail_in.
 */
int cli_check_out(const char *path);

/*
 * The threads a command runs with for search.parallel (0: every core), never
 * more than AML_SPEC_MAX_PARALLEL whatever the machine (cli/cmd_run.c).
 */
int cli_threads(int parallel);
/* Exit code for a library return code: input errors 2, the rest 1. */
int cli_exit_code(int rc);

/* Option parsing shared by the sub-commands: `--name value` or `--name=value`. */
typedef struct cli_args {
    int argc;
    char **argv;
    int i;
    const char *cmd; /* the command, named in the option errors ("CMD: option ...") */
} cli_args;

/*
 * True when argv[i] is option `name`; sets *value for options that take one
 * (NULL, said, when the value is missing).
 */
int cli_opt(cli_args *a, const char *name, const char **value);
/*
 * Takes argv[i], not an option, as the next of the command's positional
 * arguments: into the first of *slots[0..n) still NULL.  An unknown option
 * (a word starting with '-', other than "-") or one argument too many is
 * an error "CMD: unknown option ..." / "CMD: unexpected argument ...";
 * returns 0 or -1.
 */
int cli_positional(cli_args *a, const char *cmd, const char **const slots[], size_t n);
/* Parses a non-negative integer value of option opt of a's command, printing an
 * error on failure. */
int cli_parse_long(const cli_args *a, const char *opt, const char *s, long *out);
/* Parses a count from 1 to hi, printing "option OPT takes a positive integer up to
 * HI, not 'S'" otherwise (one message for every wrong value). */
int cli_parse_count(const cli_args *a, const char *opt, const char *s, long hi,
                    long *out);

/* A simple aligned text table. */
typedef struct cli_table cli_table;
cli_table *cli_table_new(size_t n_cols);
/* Adds a cell to the current row (copied); a row ends after n_cols cells. */
int cli_table_add(cli_table *t, const char *fmt, ...) AML_PRINTF(2, 3);
/* Right-align this column (numbers). */
void cli_table_align_right(cli_table *t, size_t col);
void cli_table_print(const cli_table *t, FILE *out);
void cli_table_free(cli_table *t);

/*
 * A growing string for text the CLI builds before writing it (the
 * canonical search text, the HTML report).  An allocation failure sticks:
 * later appends do nothing and cli_buf_take returns NULL.
 */
typedef struct cli_buf {
    char *s;
    size_t len, cap;
    int failed;
} cli_buf;
void cli_buf_printf(cli_buf *b, const char *fmt, ...) AML_PRINTF(2, 3);
void cli_buf_puts(cli_buf *b, const char *text);
/* Appends text with &, <, >, " and ' replaced by HTML entities. */
void cli_buf_html(cli_buf *b, const char *text);
/* Returns the string (caller frees) or NULL after a failure; resets b. */
char *cli_buf_take(cli_buf *b);
void cli_buf_dispose(cli_buf *b);

/*
 * Reads the members JSON the store keeps for an ensemble
 * ([{"trial":N,"weight":W|null},...]) into trials and weights (NaN for
 * null), at most max of them; returns how many.
 */
size_t cli_ensemble_members(const char *json, long *trials, double *weights, size_t max);

/* Formats a score for people: 4 significant decimals, "-" for none. */
void cli_format_score(char *buf, size_t len, int has, double score);

#endif
