/*
 * main.c - the automl command line: dispatch to sub-commands.
 */
#include "cli.h"
#include "runner.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

/* clang-format off */
static const char usage[] =
    "usage: automl <command> [arguments]\n"
    "\n"
    "Search for the best model for a CSV data set, as a YAML spec describes.\n"
    "\n"
    "commands:\n"
    "  run SPEC [--fresh] [--quiet]      run the search the spec describes, record\n"
    "                                    every trial in the store, build the ensemble\n"
    "                                    and write the model; a study that exists\n"
    "                                    continues (finished\n"
    "                                    trials kept, unfinished ones run again;\n"
    "                                    --fresh starts over); Ctrl-C (or SIGTERM,\n"
    "                                    SIGHUP) stops cleanly\n"
    "  trials DB [--study S] [--top N] [--all] [--learner L]\n"
    "         [--status ok|failed|interrupted|running] [--format table|csv|json]\n"
    "                                    list trials, best first (--all: by number)\n"
    "  best DB [--study S] [--format table|csv|json]\n"
    "                                    show the best trial of a study\n"
    "  studies DB [--format table|csv|json]\n"
    "                                    list the studies in a store and their state\n"
    "  report DB [--study S] --out FILE.html\n"
    "                                    write a self-contained HTML report with charts\n"
    "  export DB [--study S] [--trial N | --ensemble [--method M] [--size N]]\n"
    "         --out FILE [--format model|c]\n"
    "                                    write the study's model (its ensemble, or one\n"
    "                                    trial) as a model file or as C source\n"
    "  predict MODEL DATA.csv [--out FILE] [--proba]\n"
    "                                    predict with an exported model; columns are\n"
    "                                    matched by header name\n"
    "  explain MODEL DATA.csv [--repeats R] [--seed S]\n"
    "                                    permutation importance of each input column\n"
    "                                    on labelled data (and the tree members'\n"
    "                                    impurity importance)\n"
    "  learners [--markdown]             every learner, its parameters and defaults\n"
    "  --help                            this text\n"
    "  --version                         the version\n"
    "\n"
    "exit codes: 0 success, 1 failure while working, 2 bad input, 128+N stopped by\n"
    "signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP)\n";
/* clang-format on */

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
} cli_command;

static const cli_command commands[] = {
    {"run", cli_run},         {"trials", cli_trials},
    {"best", cli_best},       {"studies", cli_studies},
    {"predict", cli_predict}, {"learners", cli_learners},
    {"report", cli_report},   {"explain", cli_explain},
    {"export", cli_export},   {NULL, NULL},
};

/*
 * Every command's output is checked once at the end: a write that failed
 * (disk full) is an error, exit 1, whatever the command thought.  A reader
 * that went away (`automl trials db | head -1`) is not: the command ends as
 * the default SIGPIPE would have ended it, silently with 128 + SIGPIPE = 141,
 * whether the failed write came during the command (killed there) or only at
 * this final flush; `run` ignores SIGPIPE to finish its work and says so.
 */
static int cli_finish_stdout(int code)
{
    int bad, err;

    errno = 0;
    bad = fflush(stdout) != 0;
    err = errno;
    bad = ferror(stdout) || bad;
    if (!bad)
        return code;
    if (err == EPIPE) {
        if (signal(SIGPIPE, SIG_DFL) != SIG_ERR) /* run ignored it */
            raise(SIGPIPE);
        return 128 + SIGPIPE;
    }
    cli_error("error writing standard output: %s", err ? strerror(err) : "a write failed");
    return code == CLI_EXIT_OK ? CLI_EXIT_FAIL : code;
}

int main(int argc, char **argv)
{
    const cli_command *c;

    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_INPUT;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("automl %s\n", AML_VERSION);
        return CLI_EXIT_OK;
    }
    /* OpenBLAS's threaded calls sum in an order that depends on the thread
     * count (MLP and SVM fits differ in the last bits between 1 and 2), so
     * BLAS stays on one thread and models never depend on `parallel` or on
     * the machine's cores; learners parallelise on their own, deterministically. */
    aml_blas_threads(1);
    for (c = commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0)
            return cli_finish_stdout(c->run(argc - 2, argv + 2));
    cli_error("unknown command '%s' (see automl --help)", argv[1]);
    return CLI_EXIT_INPUT;
}
