/*
 * test_spec.c - the YAML spec reader: every error kind with its exact
 * message and position, and good specs checked field by field.
 *
 * Most tests use a vocabulary written here, with hand-made learner tables
 * (name, tasks and parameters only), so the expected messages do not move
 * when a real learner gains a parameter.  One test loads the contract's
 * full example against the real registry (aml_learner_types).
 *
 * Specs are written into aml_test_tmpdir() next to an (empty) data file,
 * data/penguins.csv, which the reader only checks for existence.  Each
 * expected LINE:COL was counted by hand from the text beside it (1-based;
 * columns count characters from the start of the line).
 */
#include "testutil.h"

#include "aml.h"
#include "learner.h"
#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a test vocabulary --------------------------------------------------- */

static const char *const weights_words[] = {"uniform", "distance", NULL};
static const char *const criterion_words[] = {"gini", "entropy", NULL};
static const char *const yesno_words[] = {"yes", "no", NULL};

static const aml_param_def t_logreg_params[] = {
    {.name = "C",
     .kind = AML_VAL_REAL,
     .lo = 0,
     .hi = INFINITY,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1},
     .search_lo = 1e-3,
     .search_hi = 1e3,
     .search_log = 1},
    {.name = "max_iter",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 100},
     .search_lo = 100,
     .search_hi = 100},
    {.name = NULL},
};
static const aml_param_def t_knn_params[] = {
    {.name = "k",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 5},
     .search_lo = 1,
     .search_hi = 50},
    {.name = "weights",
     .kind = AML_VAL_STR,
     .choices = weights_words,
     .def = {.kind = AML_VAL_STR, .str = "uniform"}},
    {.name = NULL},
};
static const aml_param_def t_tree_params[] = {
    {.name = "max_depth",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 10},
     .search_lo = 1,
     .search_hi = 20},
    {.name = "min_samples_leaf",
     .kind = AML_VAL_INT,
     .lo = 1,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_INT, .i = 1},
     .search_lo = 1,
     .search_hi = 64,
     .search_log = 1},
    {.name = "max_features",
     .kind = AML_VAL_REAL,
     .lo = 0,
     .hi = 1,
     .lo_open = 1,
     .def = {.kind = AML_VAL_REAL, .real = 1},
     .search_lo = 0.1,
     .search_hi = 1},
    {.name = "criterion",
     .kind = AML_VAL_STR,
     .choices = criterion_words,
     .def = {.kind = AML_VAL_STR, .str = "gini"}},
    {.name = "bootstrap",
     .kind = AML_VAL_STR,
     .choices = yesno_words,
     .def = {.kind = AML_VAL_STR, .str = "no"}},
    {.name = NULL},
};
static const aml_param_def t_ridge_params[] = {
    {.name = "alpha",
     .kind = AML_VAL_REAL,
     .lo = 0,
     .hi = INFINITY,
     .def = {.kind = AML_VAL_REAL, .real = 1},
     .search_lo = 1e-3,
     .search_hi = 1e3,
     .search_log = 1},
    {.name = NULL},
};

#define CLF AML_TASK_BIT(AML_TASK_CLASSIFICATION)
#define REG AML_TASK_BIT(AML_TASK_REGRESSION)

static const aml_learner_type t_logreg = {
    .name = "logistic_regression", .tasks = CLF, .params = t_logreg_params};
static const aml_learner_type t_knn = {
    .name = "knn", .tasks = CLF | REG, .params = t_knn_params};
static const aml_learner_type t_tree = {
    .name = "decision_tree", .tasks = CLF | REG, .params = t_tree_params};
static const aml_learner_type t_ridge = {
    .name = "ridge", .tasks = REG, .params = t_ridge_params};
static const aml_learner_type *const t_learners[] = {&t_logreg, &t_knn, &t_tree, &t_ridge,
                                                     NULL};
static const char *const t_metrics[] = {"accuracy", "f1", "rmse", NULL};
static const char *const t_strategies[] = {"grid", "random", "halving", "bohb", NULL};
static const aml_spec_vocab t_vocab = {t_learners, t_metrics, t_strategies};

/* ---- helpers -------------------------------------------------------------- */

/* Writes `text` to tmpdir/name (and the data file the specs name); returns the path. */
static const char *write_spec(const char *name, const char *text)
{
    static char path[512];
    char data[512];
    FILE *f;

    snprintf(data, sizeof(data), "%s/data", aml_test_tmpdir());
    mkdir(data, 0700);
    snprintf(data, sizeof(data), "%s/data/penguins.csv", aml_test_tmpdir());
    f = fopen(data, "w");
    assert_non_null(f);
    fputs("bill,species\n", f);
    fclose(f);

    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Replaces every '@' in `pattern` with the temporary directory. */
static void expand(char *out, size_t len, const char *pattern)
{
    size_t used = 0;

    for (; *pattern && used + 1 < len; pattern++) {
        if (*pattern == '@')
            used += (size_t)snprintf(out + used, len - used, "%s", aml_test_tmpdir());
        else
            out[used++] = *pattern;
    }
    out[used < len ? used : len - 1] = '\0';
}

static aml_spec *load_ok(const char *text)
{
    aml_spec *s = NULL;
    int rc = aml_spec_load(&s, write_spec("good.yaml", text), &t_vocab);

    if (rc != 0)
        fail_msg("load failed (%d): %s", rc, aml_error_message());
    assert_non_null(s);
    return s;
}

/*
 * The bad-spec table quotes aml_param_check's messages (learners/learner.c)
 * after "LEARNER: "; this pins the wording it relies on.  (Referencing
 * learner.c here also puts it on the link line before aml_space; see the
 * note in space/CMakeLists.txt's report: aml_space needs aml_learners.)
 */
static void test_param_check_wording(void **state)
{
    const aml_param_def *k = aml_learner_param_find(&t_knn, "k");
    aml_value v = {.kind = AML_VAL_INT, .i = 0};
    char buf[128];

    assert_non_null(k);
    assert_null(aml_learner_param_find(&t_knn, "n_neighbors"));
    assert_string_equal(aml_param_check(k, &v, buf, sizeof(buf)),
                        "'k' must be >= 1, not 0");
    v.i = 3;
    assert_null(aml_param_check(k, &v, buf, sizeof(buf)));
}

/* ---- bad specs ------------------------------------------------------------ */

typedef struct bad_case {
    const char *yaml;
    const char *expect; /* after "PATH:"; '@' stands for the temporary directory */
} bad_case;

/* The first four lines of most cases: study and data (valid). */
#define HEAD "study: s\ndata:\n  train: data/penguins.csv\n  target: species\n"
/* Lines 5-6 and 7 of a valid tail. */
#define TAIL "learners:\n  knn:\nstore: s.db\n"

static const bad_case bad_cases[] = {
    /* YAML syntax: libyaml's problem and mark (0-based 2:0 / context 1:6). */
    {"study: x\ndata: [a, b\n",
     "3:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow "
     "sequence that starts at line 2)"},
    /* "study: a: b": the second ':' is character 9. */
    {"study: a: b\n", "1:9: YAML syntax error: mapping values are not allowed in this "
                      "context"},
    /* A reader error (bad UTF-8) has a byte offset, 7: line 1, column 8. */
    {"study: \xff\n", "1:8: YAML syntax error: invalid leading UTF-8 octet"},
    /* Empty, comment-only, not a mapping, two documents. */
    {"", "1:1: the spec is empty; it needs at least study, data, learners and store"},
    {"# only a comment\n",
     "1:1: the spec is empty; it needs at least study, data, learners and store"},
    {"- a\n- b\n",
     "1:1: the spec must be a mapping of keys (study, data, learners, store, ...), not a "
     "list"},
    {"hello\n", "1:1: the spec must be a mapping of keys (study, data, learners, store, "
                "...), not 'hello'"},
    {HEAD TAIL "---\nstudy: t\n",
     "8:1: the file holds a second YAML document; a spec is one document"},
    /* Unknown keys: top level (line 8), in data (line 5), in a domain. */
    {HEAD TAIL "colour: red\n",
     "8:1: unknown key 'colour'; allowed keys: study, data, cv, "
     "metric, search, learners, store, output, preprocess, ensemble"},
    {HEAD "  weight: w\n" TAIL,
     "5:3: unknown key 'weight' in 'data'; allowed keys: train, "
     "target, task, drop, missing, categorical, keep, delimiter, decimal"},
    {HEAD "learners:\n  logistic_regression:\n    C: {uniform: [1, 2], step: 1}\n"
          "store: s.db\n",
     "7:26: unknown key 'step' in the domain of 'C'; allowed keys: choice, uniform, "
     "log_uniform, int, int_log, grid"},
    /* Unknown learner and parameter. */
    {HEAD "learners:\n  svm:\nstore: s.db\n",
     "6:3: unknown learner 'svm'; known learners: logistic_regression, knn, "
     "decision_tree, ridge"},
    {HEAD "learners:\n  knn:\n    n_neighbors: 5\nstore: s.db\n",
     "7:5: unknown parameter 'n_neighbors' for knn; its parameters: k, weights"},
    /* Wrong types. "    k: five": the value starts at column 8. */
    {HEAD "learners:\n  knn:\n    k: five\nstore: s.db\n",
     "7:8: knn: 'k' takes a number, not 'five'"},
    /* Quoted numbers are strings. */
    {HEAD "learners:\n  knn:\n    k: \"5\"\nstore: s.db\n",
     "7:8: knn: 'k' takes a number, not '5'"},
    {HEAD "cv: [5]\n" TAIL, "5:5: 'cv' must be a mapping, not a list"},
    {HEAD "learners:\n  knn: [k]\nstore: s.db\n",
     "6:8: learner 'knn' takes a mapping of parameters (or nothing, for its default "
     "ranges), not a list"},
    {HEAD "  drop: year\n" TAIL, "5:9: 'drop' must be a list, like [a, b], not 'year'"},
    {"study: [a]\n", "1:8: 'study' must be a name, not a list"},
    /* "    k: {uniform: [1, 9]}": the domain key 'uniform' is at column 9. */
    {HEAD "learners:\n  knn:\n    k: {uniform: [1, 9]}\nstore: s.db\n",
     "7:9: knn: 'k' is an integer parameter: use int or int_log, not uniform"},
    /* "    weights: {uniform: [0, 1]}": 'uniform' at column 15. */
    {HEAD "learners:\n  knn:\n    weights: {uniform: [0, 1]}\nstore: s.db\n",
     "7:15: knn: 'weights' takes words: give a list of choices, not a range"},
    /* "    C: {uniform: [low, 2]}": 'low' at column 19. */
    {HEAD "learners:\n  logistic_regression:\n    C: {uniform: [low, 2]}\nstore: s.db\n",
     "7:19: a bound of 'C' must be a number, not 'low'"},
    /* "    C: {uniform: [1, 2, 3]}": '[' at column 18. */
    {HEAD "learners:\n  logistic_regression:\n    C: {uniform: [1, 2, 3]}\nstore: s.db\n",
     "7:18: 'uniform' takes [lo, hi], two numbers, not 3 items"},
    {HEAD "learners:\n  logistic_regression:\n    C: {uniform: [1]}\nstore: s.db\n",
     "7:18: 'uniform' takes [lo, hi], two numbers, not 1 item"},
    {HEAD "learners:\n  logistic_regression:\n    C: {uniform: 1}\nstore: s.db\n",
     "7:18: 'uniform' takes [lo, hi], two numbers, not '1'"},
    /* Bad bounds.  "    C: {log_uniform: [10, 1]}": '[' at column 22. */
    {HEAD
     "learners:\n  logistic_regression:\n    C: {log_uniform: [10, 1]}\nstore: s.db\n",
     "7:22: the range of 'C' needs lo < hi, not [10, 1]"},
    {HEAD "learners:\n  logistic_regression:\n    C: {uniform: [2, 2]}\nstore: s.db\n",
     "7:18: the range of 'C' needs lo < hi, not [2, 2]"},
    /* "    C: {log_uniform: [0, 1]}": lo at column 23. */
    {HEAD
     "learners:\n  logistic_regression:\n    C: {log_uniform: [0, 1]}\nstore: s.db\n",
     "7:23: the log_uniform range of 'C' needs lo > 0, not 0"},
    /* "    max_features: {uniform: [0, 0.5]}": lo at column 30; valid is (0, 1]. */
    {HEAD "learners:\n  decision_tree:\n    max_features: {uniform: [0, 0.5]}\n"
          "store: s.db\n",
     "7:30: decision_tree: 'max_features' must be > 0, not 0"},
    /* "    max_features: {uniform: [0.5, 2]}": hi at column 35. */
    {HEAD "learners:\n  decision_tree:\n    max_features: {uniform: [0.5, 2]}\n"
          "store: s.db\n",
     "7:35: decision_tree: 'max_features' must be <= 1, not 2"},
    /* "    k: {int: [0, 9]}": lo at column 15 fails k >= 1. */
    {HEAD "learners:\n  knn:\n    k: {int: [0, 9]}\nstore: s.db\n",
     "7:15: knn: 'k' must be >= 1, not 0"},
    /* "    k: {int: [1.5, 9]}": lo at column 15. */
    {HEAD "learners:\n  knn:\n    k: {int: [1.5, 9]}\nstore: s.db\n",
     "7:15: a bound of the integer range of 'k' must be an integer, not 1.5"},
    {HEAD "learners:\n  knn:\n    k: {int_log: [1, 9.5]}\nstore: s.db\n",
     "7:22: a bound of the integer range of 'k' must be an integer, not 9.5"},
    /* Fixed and choice values failing aml_param_check. */
    {HEAD "learners:\n  knn:\n    k: 0\nstore: s.db\n",
     "7:8: knn: 'k' must be >= 1, not 0"},
    {HEAD "learners:\n  knn:\n    k: 2.5\nstore: s.db\n",
     "7:8: knn: 'k' must be an integer, not 2.5"},
    {HEAD "learners:\n  knn:\n    k: 1e300\nstore: s.db\n",
     "7:8: knn: 'k' is too large for an integer: 1e300"},
    /* "    weights: [uniform, closest]": 'closest' at column 24. */
    {HEAD "learners:\n  knn:\n    weights: [uniform, closest]\nstore: s.db\n",
     "7:24: knn: 'weights' must be one of uniform, distance, not 'closest'"},
    /* yes stays a word: not a boolean. */
    {HEAD "learners:\n  knn:\n    weights: yes\nstore: s.db\n",
     "7:14: knn: 'weights' must be one of uniform, distance, not 'yes'"},
    {HEAD "learners:\n  knn:\n    weights: []\nstore: s.db\n",
     "7:14: knn: empty choice list for 'weights'"},
    {HEAD "learners:\n  knn:\n    weights: {choice: []}\nstore: s.db\n",
     "7:23: knn: empty choice list for 'weights'"},
    {HEAD "learners:\n  knn:\n    weights: [uniform, uniform]\nstore: s.db\n",
     "7:24: knn: 'weights' lists 'uniform' twice"},
    {HEAD "learners:\n  knn:\n    k:\nstore: s.db\n",
     "7:5: knn: 'k' has no value; give a value, a list of choices or a range"},
    /* Domain mappings: two domains, none, grid on a choice. */
    {HEAD
     "learners:\n  logistic_regression:\n    C: {uniform: [1, 2], log_uniform: [1, 2]}"
     "\nstore: s.db\n",
     "7:26: 'C' has two domains, 'uniform' and 'log_uniform'; give one"},
    {HEAD "learners:\n  logistic_regression:\n    C: {grid: 3}\nstore: s.db\n",
     "7:8: the domain of 'C' needs one of choice, uniform, log_uniform, int, int_log"},
    {HEAD "learners:\n  knn:\n    weights: {choice: [uniform], grid: 3}\nstore: s.db\n",
     "7:34: 'grid' applies to ranges, not to a choice"},
    {HEAD "learners:\n  logistic_regression:\n    C: {uniform: [1, 2], grid: 1}\n"
          "store: s.db\n",
     "7:32: 'grid' must be at least 2, not 1"},
    /* Duplicate keys: top level, in a learner, learners themselves. */
    {HEAD TAIL "store: b.db\n", "8:1: duplicate key 'store' (first given at line 7)"},
    {HEAD "learners:\n  knn:\n    k: 3\n    k: 4\nstore: s.db\n",
     "8:5: duplicate key 'k' (first given at line 7)"},
    {HEAD "learners:\n  knn:\n  knn: {}\nstore: s.db\n",
     "7:3: duplicate key 'knn' (first given at line 6)"},
    /* ... even in a mapping the schema never reads (inside a choice list). */
    {HEAD "learners:\n  knn:\n    weights: [{a: 1, a: 2}]\nstore: s.db\n",
     "7:22: duplicate key 'a' (first given at line 7)"},
    {"study: s\n[a]: b\n", "2:1: a key must be a name, not a list"},
    /* Numbers out of range: "cv: {folds: 1}": value at column 13. */
    {HEAD "cv: {folds: 1}\n" TAIL, "5:13: 'folds' must be at least 2, not 1"},
    {HEAD "cv: {folds: five}\n" TAIL, "5:13: 'folds' must be an integer, not 'five'"},
    /* "search: {trials: -1}": value at column 18. */
    {HEAD "search: {trials: -1}\n" TAIL, "5:18: 'trials' must be at least 1, not -1"},
    /* 0 once meant "not given" and ran the default 50 trials. */
    {HEAD "search: {trials: 0}\n" TAIL, "5:18: 'trials' must be at least 1, not 0"},
    /* impute_value is read by impute: constant only (default impute: mean). */
    {HEAD "preprocess: {impute_value: 3}\n" TAIL,
     "5:14: 'impute_value' applies to impute: constant only (add constant to "
     "preprocess.impute)"},
    {HEAD "preprocess: {impute: median, impute_value: 3}\n" TAIL,
     "5:30: 'impute_value' applies to impute: constant only (add constant to "
     "preprocess.impute)"},
    {HEAD "search:\n  parallel: -2\n" TAIL,
     "6:13: 'parallel' must be at least 0, not -2"},
    {HEAD "search: {grid: 1}\n" TAIL, "5:16: 'grid' must be at least 2, not 1"},
    /* Budgets: "search: {patience: 0}": value at column 20. */
    {HEAD "search: {patience: 0}\n" TAIL, "5:20: 'patience' must be at least 1, not 0"},
    {HEAD "search: {patience: 2.5}\n" TAIL,
     "5:20: 'patience' must be an integer, not '2.5'"},
    {HEAD "search: {time_budget: ten}\n" TAIL,
     "5:23: 'time_budget' must be a duration (seconds, or a number with s, m or h as in "
     "90s, 10m, 2h), not 'ten'"},
    {HEAD "search: {time_budget: 10d}\n" TAIL,
     "5:23: 'time_budget' must be a duration (seconds, or a number with s, m or h as in "
     "90s, 10m, 2h), not '10d'"},
    {HEAD "search: {time_budget: 0x10}\n" TAIL,
     "5:23: 'time_budget' must be a duration (seconds, or a number with s, m or h as in "
     "90s, 10m, 2h), not '0x10'"},
    {HEAD "search: {time_budget: 0m}\n" TAIL,
     "5:23: 'time_budget' must be more than 0 seconds, not 0m"},
    {HEAD "search:\n  trial_timeout: -5\n" TAIL,
     "6:18: 'trial_timeout' must be more than 0 seconds, not -5"},
    {HEAD "search: {trial_timeout: [1]}\n" TAIL,
     "5:25: 'trial_timeout' must be a duration (seconds, or a number with s, m or h as "
     "in 90s, 10m, 2h), not a list"},
    {HEAD "cv: {seed: -1}\n" TAIL, "5:12: 'seed' must be a whole number from 0 to "
                                   "18446744073709551615, not '-1'"},
    {HEAD "cv: {stratified: maybe}\n" TAIL,
     "5:18: 'stratified' must be true or false, not 'maybe'"},
    /* OpenMP fails (or crashes in libgomp) on teams of tens of thousands. */
    {HEAD "search: {parallel: 100000}\n" TAIL,
     "5:20: 'parallel' must be at most 1024, not 100000"},
    /* Vocabulary names. */
    {HEAD "metric: auc\n" TAIL, "5:9: unknown metric 'auc'; known metrics: accuracy, f1, "
                                "rmse"},
    {HEAD "search: {strategy: bayes}\n" TAIL,
     "5:20: unknown strategy 'bayes'; known strategies: grid, random, halving, bohb"},
    {HEAD "  task: clustering\n" TAIL,
     "5:9: unknown task 'clustering'; known tasks: classification, regression"},
    /* A learner that cannot do the task the spec states. */
    {HEAD "  task: regression\nlearners:\n  logistic_regression:\nstore: s.db\n",
     "7:3: learner 'logistic_regression' does not support regression"},
    /* Missing required keys point at the mapping that lacks them. */
    {HEAD "learners:\n  knn:\n", "1:1: missing required key 'store'"},
    {"data:\n  train: data/penguins.csv\n  target: y\n" TAIL,
     "1:1: missing required key 'study'"},
    {HEAD "store: s.db\n", "1:1: missing required key 'learners'"},
    {"study: s\ndata:\n  train: data/penguins.csv\n" TAIL,
     "3:3: missing required key 'target' in 'data'"},
    {"study: s\ndata: {target: y}\n" TAIL, "2:7: missing required key 'train' in 'data'"},
    {HEAD "learners: {}\nstore: s.db\n",
     "5:11: 'learners' must name at least one learner"},
    /* "learners:" with nothing: libyaml marks the empty value right after the colon. */
    {HEAD "learners:\nstore: s.db\n", "5:10: 'learners' must name at least one learner"},
    /* The data file, resolved against the spec's directory. */
    {"study: s\ndata:\n  train: data/nope.csv\n  target: y\n" TAIL,
     "3:10: data file 'data/nope.csv' not found (looked for '@/data/nope.csv')"},
    {"study: s\ndata:\n  train: data\n  target: y\n" TAIL,
     "3:10: data file 'data' is a directory"},
    {HEAD "search: {strategy: grid, defaults_first: true}\n" TAIL,
     "5:26: 'defaults_first' does not apply to strategy grid, which visits its points in "
     "order"},
    {HEAD "search: {defaults_first: maybe}\n" TAIL,
     "5:26: 'defaults_first' must be true or false, not 'maybe'"},
    /* Successive halving's keys: halving and bohb only, each checked. */
    {HEAD "search: {eta: 3}\n" TAIL,
     "5:10: 'eta' applies to strategy halving or bohb, not random"},
    {HEAD "search: {strategy: halving, eta: 1}\n" TAIL,
     "5:34: 'eta' must be at least 2, not 1"},
    {HEAD "search: {strategy: halving, min_resource: 0}\n" TAIL,
     "5:43: 'min_resource' must be a number more than 0 and at most 1, not '0'"},
    {HEAD "search: {strategy: halving, min_resource: 1e-9}\n" TAIL,
     "5:43: 'min_resource' 1e-09 with eta 3 makes 19 rungs; at most 16"},
    {HEAD "search: {strategy: bohb, sampler: random}\n" TAIL,
     "5:35: strategy bohb samples with bayes; use strategy halving for sampler random"},
    {HEAD "search: {strategy: halving, sampler: tpe}\n" TAIL,
     "5:38: unknown sampler 'tpe'; known samplers: random, bayes"},
    /* Seed configurations: the list, each entry, each parameter against the space. */
    {HEAD "search: {seed_configs: knn}\n" TAIL,
     "5:24: 'seed_configs' must be a list of mappings like {learner: knn, k: 5}, not "
     "'knn'"},
    {HEAD "search: {seed_configs: [knn]}\n" TAIL,
     "5:25: each item of 'seed_configs' must be a mapping like {learner: knn, k: 5}, "
     "not 'knn'"},
    {HEAD "search: {seed_configs: [{k: 5}]}\n" TAIL,
     "5:25: missing required key 'learner' in a seed configuration"},
    {HEAD "search: {seed_configs: [{learner: svm}]}\n" TAIL,
     "5:35: unknown learner 'svm'; known learners: logistic_regression, knn, "
     "decision_tree, ridge"},
    {HEAD "search: {seed_configs: [{learner: ridge}]}\n" TAIL,
     "5:25: seed configuration names learner 'ridge', which 'learners' does not list"},
    {HEAD "search: {seed_configs: [{learner: knn, n: 5}]}\n" TAIL,
     "5:40: seed configuration: unknown parameter 'n' for knn; its parameters: k, "
     "weights"},
    {HEAD "search: {seed_configs: [{learner: knn, k: 0}]}\n" TAIL,
     "5:43: knn: 'k' must be >= 1, not 0"},
    {HEAD "search: {seed_configs: [{learner: knn, k: 20}]}\n"
          "learners:\n  knn: {k: {int: [1, 10]}}\nstore: s.db\n",
     "5:40: seed configuration: knn 'k' = 20 is outside the search space (its domain "
     "is at line 7)"},
    {HEAD "search: {seed_configs: [{learner: knn, weights: distance}]}\n"
          "learners:\n  knn: {k: 5}\nstore: s.db\n",
     "5:40: seed configuration: 'weights' is not searched for knn in this spec (list "
     "it under the learner to name it)"},
    {HEAD "search: {seed_configs: [{learner: knn, preprocess.scale: robust}]}\n" TAIL,
     "5:40: seed configuration: 'preprocess.scale' is not searched for knn in this "
     "spec (list it under the learner to name it)"},
};

/* Bad ensemble sections come after TAIL, on line 8. */
static const bad_case bad_ensemble_cases[] = {
    /* "ensemble: {method: best}": value at column 20. */
    {HEAD TAIL "ensemble: {method: best}\n",
     "8:20: unknown method 'best'; known methods: selection, stacking, voting, none"},
    {HEAD TAIL "ensemble: {size: 0}\n", "8:18: 'size' must be at least 1, not 0"},
    {HEAD TAIL "ensemble: {method: stacking, layers: 3}\n",
     "8:38: 'layers' must be at most 2, not 3"},
    /* Stacking-only keys under another method: the key's column. */
    {HEAD TAIL "ensemble: {method: voting, meta: ridge}\n",
     "8:28: 'meta' applies to method stacking only"},
    {HEAD TAIL "ensemble: {meta: ridge}\n",
     "8:12: 'meta' applies to method stacking only"},
    /* The keys of a combination under none (the best trial alone), like those. */
    {HEAD TAIL "ensemble: {method: none, size: 5}\n",
     "8:26: 'size' does not apply to method none (the best trial alone)"},
    {HEAD TAIL "ensemble: {method: none, fallback: false}\n",
     "8:26: 'fallback' does not apply to method none (the best trial alone)"},
    {HEAD TAIL "ensemble: {method: stacking, meta: svm}\n",
     "8:36: 'meta' names unknown learner 'svm'"},
    {HEAD TAIL "ensemble: {method: stacking, meta: [ridge, nope]}\n",
     "8:44: 'meta' names unknown learner 'nope'"},
    /* "ensemble: {method: stacking, meta: [knn, ridge, knn]}": the second knn at 49. */
    {HEAD TAIL "ensemble: {method: stacking, meta: [knn, ridge, knn]}\n",
     "8:49: 'meta' lists 'knn' twice"},
    {HEAD TAIL "ensemble: {method: stacking, meta: []}\n",
     "8:36: 'meta' must name at least one learner"},
    {HEAD TAIL "ensemble: {method: stacking, final: ridge}\n",
     "8:30: 'final' needs 'layers: 2'"},
    /* passthrough with a plan that leaves rows unvalidated. */
    {HEAD "cv: {kind: holdout}\n" TAIL
          "ensemble: {method: stacking, passthrough: true}\n",
     "9:43: 'passthrough' needs a CV plan that validates every row, not holdout"},
    /* bags: selection only, 1..1000. */
    {HEAD TAIL "ensemble: {method: voting, bags: 5}\n",
     "8:28: 'bags' applies to method selection only"},
    {HEAD TAIL "ensemble: {bags: 0}\n", "8:18: 'bags' must be at least 1, not 0"},
    {HEAD TAIL "ensemble: {bags: 1001}\n", "8:18: 'bags' must be at most 1000, not 1001"},
    {HEAD TAIL "ensemble: {refit: sometimes}\n",
     "8:19: 'refit' must be true or false, not 'sometimes'"},
    {HEAD TAIL "ensemble: {colour: red}\n",
     "8:12: unknown key 'colour' in 'ensemble'; allowed keys: method, size, candidates, "
     "layers, meta, final, passthrough, refit, fallback, bags"},
    {HEAD TAIL "ensemble: selection\n",
     "8:11: 'ensemble' must be a mapping, not 'selection'"},
};

static void check_bad_cases(const bad_case *cases, size_t n, const char *stem)
{
    size_t i;
    char name[32], expect[2048], got[1024];

    for (i = 0; i < n; i++) {
        const char *path;
        aml_spec *s = (aml_spec *)1;
        int rc;

        snprintf(name, sizeof(name), "%s%zu.yaml", stem, i);
        path = write_spec(name, cases[i].yaml);
        aml_error_clear();
        rc = aml_spec_load(&s, path, &t_vocab);
        expand(got, sizeof(got), cases[i].expect);
        snprintf(expect, sizeof(expect), "%s:%s", path, got);
        if (rc != AML_EINVAL || strcmp(aml_error_message(), expect) != 0)
            fail_msg("%s case %zu: rc %d\n  got:    %s\n  wanted: %s", stem, i, rc,
                     aml_error_message(), expect);
        assert_null(s);
    }
}

/*
 * Seed configurations and halving's keys read back: named values as
 * written, unnamed ones the learner's default when the domain holds it
 * (weights uniform), else the domain's middle (k int [10, 20] does not hold
 * the default 5: aml_dim_at(0.5) = 10 + floor(0.5 x 11) = 15).  Defaults
 * first (halving's default) adds knn's defaults last: k 15, uniform.
 */
static void test_spec_seed_configs(void **state)
{
    aml_spec *s = load_ok("study: s\ndata: {train: data/penguins.csv, target: species}\n"
                          "search:\n  strategy: halving\n  eta: 4\n"
                          "  min_resource: 0.0625\n  sampler: bayes\n"
                          "  seed_configs:\n    - {learner: knn, weights: distance}\n"
                          "    - {learner: knn, k: 12}\n"
                          "learners:\n  knn: {k: {int: [10, 20]}, weights: [uniform, "
                          "distance]}\nstore: s.db\n");
    aml_config *c = NULL;
    size_t n = 0;

    (void)state;
    assert_true(s->eta == 4.0);
    assert_true(s->min_resource == 0.0625);
    assert_int_equal(s->sampler, 2);
    assert_int_equal(s->n_seeds, 3);
    assert_int_equal(aml_spec_seed_configs(s, s->space, &c, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(c[0].params[0].value.i, 15);
    assert_string_equal(c[0].params[1].value.str, "distance");
    assert_int_equal(c[1].params[0].value.i, 12);
    assert_string_equal(c[1].params[1].value.str, "uniform");
    assert_int_equal(c[2].params[0].value.i, 15);
    assert_string_equal(c[2].params[1].value.str, "uniform");
    aml_spec_seed_configs_free(c, n);
    aml_spec_free(s);
}

/*
 * Defaults first: one default seed per learner in spec order, after the
 * user's; a seed equal to an earlier one is dropped (the user's second seed
 * repeats the first; knn's default k 5 uniform repeats the third); off
 * when asked, and off for grid.
 */
static void test_spec_defaults_first(void **state)
{
    aml_spec *s = load_ok("study: s\ndata: {train: data/penguins.csv, target: species}\n"
                          "search:\n  seed_configs:\n    - {learner: knn, k: 7}\n"
                          "    - {learner: knn, k: 7, weights: uniform}\n"
                          "    - {learner: knn, k: 5}\n"
                          "learners:\n  knn: {k: {int: [1, 20]}, weights: [uniform, "
                          "distance]}\n  decision_tree: {max_depth: {int: [1, 4]}}\n"
                          "store: s.db\n");
    aml_config *c = NULL;
    size_t n = 0;

    (void)state;
    assert_true(aml_spec_defaults_first(s));
    assert_int_equal(s->n_seeds, 5);
    assert_true(s->seeds[3].is_default && s->seeds[4].is_default);
    assert_string_equal(s->seeds[4].learner, "decision_tree");
    assert_int_equal(aml_spec_seed_configs(s, s->space, &c, &n), 0);
    assert_int_equal(n, 3); /* knn 7, knn 5, decision_tree */
    assert_int_equal(c[0].params[0].value.i, 7);
    assert_int_equal(c[1].params[0].value.i, 5);
    assert_int_equal(c[2].learner, 1);
    /* decision_tree's default max_depth 0 is outside [1, 4]: the middle, 1 + 2 */
    assert_int_equal(c[2].params[0].value.i, 3);
    aml_spec_seed_configs_free(c, n);
    aml_spec_free(s);

    s = load_ok("study: s\ndata: {train: data/penguins.csv, target: species}\n"
                "search: {defaults_first: false}\nlearners: {knn: {}}\nstore: s.db\n");
    assert_false(aml_spec_defaults_first(s));
    assert_int_equal(s->n_seeds, 0);
    aml_spec_free(s);
    s = load_ok("study: s\ndata: {train: data/penguins.csv, target: species}\n"
                "search: {strategy: grid}\nlearners: {knn: {k: [1, 2]}}\nstore: s.db\n");
    assert_false(aml_spec_defaults_first(s));
    assert_int_equal(s->n_seeds, 0);
    aml_spec_free(s);
}

static void test_spec_bad_ensemble(void **state)
{
    (void)state;
    check_bad_cases(bad_ensemble_cases,
                    sizeof(bad_ensemble_cases) / sizeof(bad_ensemble_cases[0]),
                    "bad_ens");
}

static void test_spec_ensemble(void **state)
{
    aml_spec *s;

    (void)state;
    s = load_ok(HEAD TAIL "ensemble:\n  method: stacking\n  size: 4\n  candidates: 12\n"
                          "  layers: 2\n  meta: [ridge, knn]\n  final: ridge\n"
                          "  passthrough: yes\n  refit: false\n  fallback: false\n");
    assert_int_equal(s->ensemble.method, AML_ENSEMBLE_STACKING);
    assert_int_equal(s->ensemble.size, 4);
    assert_int_equal(s->ensemble.candidates, 12);
    assert_int_equal(s->ensemble.layers, 2);
    assert_int_equal(s->ensemble.n_meta, 2);
    assert_string_equal(s->ensemble.meta[0], "ridge");
    assert_string_equal(s->ensemble.meta[1], "knn");
    assert_string_equal(s->ensemble.final, "ridge");
    assert_int_equal(s->ensemble.passthrough, 1);
    assert_int_equal(s->ensemble.refit, 0);
    assert_int_equal(s->ensemble.fallback, 0);
    assert_int_equal(s->ensemble.pos.line, 8);
    aml_spec_free(s);

    s = load_ok(HEAD TAIL "ensemble: {method: selection, bags: 1}\n");
    assert_int_equal(s->ensemble.bags, 1);
    aml_spec_free(s);

    s = load_ok(HEAD TAIL "ensemble: {method: stacking, meta: ridge}\n");
    assert_int_equal(s->ensemble.n_meta, 1);
    assert_string_equal(s->ensemble.meta[0], "ridge");
    assert_null(s->ensemble.final);
    aml_spec_free(s);

    s = load_ok(HEAD TAIL "ensemble: {method: none}\n");
    assert_int_equal(s->ensemble.method, AML_ENSEMBLE_NONE);
    aml_spec_free(s);
}

static void test_spec_bad(void **state)
{
    (void)state;
    check_bad_cases(bad_cases, sizeof(bad_cases) / sizeof(bad_cases[0]), "bad");
}

static void test_spec_unreadable(void **state)
{
    aml_spec *s = NULL;
    char path[512], expect[600];

    snprintf(path, sizeof(path), "%s/no_such_spec.yaml", aml_test_tmpdir());
    assert_int_equal(aml_spec_load(&s, path, &t_vocab), AML_EIO);
    snprintf(expect, sizeof(expect), "%s: No such file or directory", path);
    assert_string_equal(aml_error_message(), expect);
    assert_null(s);

    /* A directory opens but cannot be read. */
    assert_int_equal(aml_spec_load(&s, aml_test_tmpdir(), &t_vocab), AML_EIO);
    snprintf(expect, sizeof(expect), "%s: Is a directory", aml_test_tmpdir());
    assert_string_equal(aml_error_message(), expect);
}

/* ---- good specs ----------------------------------------------------------- */

/* The contract's example, verbatim. */
static const char full_example[] =
    "study: penguins            # study name inside the store\n"
    "data:\n"
    "  train: data/penguins.csv # relative to the spec file\n"
    "  target: species\n"
    "  task: classification     # classification | regression; inferred when absent\n"
    "  drop: [year]             # optional columns to ignore\n"
    "  missing: [\"\", \"NA\", \"?\"] # optional; tokens read as missing\n"
    "cv: {folds: 5, stratified: true, seed: 1}\n"
    "metric: accuracy\n"
    "search:\n"
    "  strategy: random         # grid | random (names from vocab->strategies)\n"
    "  trials: 50               # budget; grid runs the whole grid unless capped\n"
    "  parallel: 2              # worker threads; 0 = all cores\n"
    "  seed: 1\n"
    "  grid: 5                  # optional: points per float range under grid search\n"
    "learners:\n"
    "  logistic_regression:\n"
    "    C: {log_uniform: [1.0e-3, 1.0e3]}\n"
    "  knn:\n"
    "    k: {int: [1, 50]}\n"
    "    weights: [uniform, distance]      # a list is a choice\n"
    "  decision_tree:\n"
    "    max_depth: {int: [1, 20]}\n"
    "    min_samples_leaf: 2               # a scalar is fixed\n"
    "store: penguins.db          # relative to the spec file\n"
    "output: penguins.model      # the exported best model\n";

static void check_dim(const aml_dim *d, const char *name, aml_domain dom, aml_vkind kind,
                      double lo, double hi, int grid, int line, int col)
{
    assert_string_equal(d->name, name);
    assert_int_equal(d->domain, dom);
    assert_int_equal(d->kind, kind);
    if (dom != AML_DOM_CHOICE && dom != AML_DOM_FIXED) {
        assert_close(d->lo, lo, 1e-15);
        assert_close(d->hi, hi, 1e-15);
        assert_int_equal(d->grid, grid);
    }
    assert_int_equal(d->line, line);
    assert_int_equal(d->col, col);
}

static void check_path(const char *got, const char *rel)
{
    char expect[512];

    snprintf(expect, sizeof(expect), "%s/%s", aml_test_tmpdir(), rel);
    assert_string_equal(got, expect);
}

static void check_full_space(const aml_space *sp)
{
    const aml_space_learner *l;

    assert_int_equal(sp->n_learners, 3);
    l = &sp->learners[0];
    assert_string_equal(l->name, "logistic_regression");
    assert_int_equal(l->line, 17);
    assert_int_equal(l->col, 3);
    assert_int_equal(l->n_dims, 1);
    check_dim(&l->dims[0], "C", AML_DOM_LOG_UNIFORM, AML_VAL_REAL, 1e-3, 1e3, 5, 18, 5);

    l = &sp->learners[1];
    assert_string_equal(l->name, "knn");
    assert_int_equal(l->n_dims, 2);
    check_dim(&l->dims[0], "k", AML_DOM_INT, AML_VAL_INT, 1, 50, 0, 20, 5);
    check_dim(&l->dims[1], "weights", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, 0, 21, 5);
    assert_int_equal(l->dims[1].n_choices, 2);
    assert_string_equal(l->dims[1].choices[0].str, "uniform");
    assert_string_equal(l->dims[1].choices[1].str, "distance");

    l = &sp->learners[2];
    assert_string_equal(l->name, "decision_tree");
    assert_int_equal(l->n_dims, 2);
    check_dim(&l->dims[0], "max_depth", AML_DOM_INT, AML_VAL_INT, 1, 20, 0, 23, 5);
    check_dim(&l->dims[1], "min_samples_leaf", AML_DOM_FIXED, AML_VAL_INT, 0, 0, 0, 24,
              5);
    assert_int_equal(l->dims[1].n_choices, 1);
    assert_int_equal(l->dims[1].choices[0].kind, AML_VAL_INT);
    assert_int_equal(l->dims[1].choices[0].i, 2);
}

static void check_full_example(const aml_spec *s, const char *path)
{
    assert_string_equal(s->path, path);
    assert_string_equal(s->text, full_example);
    assert_string_equal(s->study, "penguins");
    check_path(s->train, "data/penguins.csv");
    assert_string_equal(s->target, "species");
    assert_int_equal(s->task, AML_SPEC_TASK_CLASSIFICATION);
    assert_int_equal(s->n_drop, 1);
    assert_string_equal(s->drop[0], "year");
    assert_int_equal(s->n_missing, 3);
    assert_string_equal(s->missing[0], "");
    assert_string_equal(s->missing[1], "NA");
    assert_string_equal(s->missing[2], "?");
    assert_int_equal(s->folds, 5);
    assert_int_equal(s->stratified, 1);
    assert_int_equal(s->cv_seed, 1);
    assert_string_equal(s->metric, "accuracy");
    assert_string_equal(s->strategy, "random");
    assert_int_equal(s->trials, 50);
    assert_int_equal(s->parallel, 2);
    assert_int_equal(s->seed, 1);
    check_path(s->store, "penguins.db");
    check_path(s->output, "penguins.model");
    /* Positions of the values checked later against the data. */
    assert_int_equal(s->pos_train.line, 3);
    assert_int_equal(s->pos_train.col, 10);
    assert_int_equal(s->pos_target.line, 4);
    assert_int_equal(s->pos_target.col, 11);
    assert_int_equal(s->pos_task.line, 5);
    assert_int_equal(s->pos_task.col, 9);
    assert_int_equal(s->pos_drop.line, 6);
    assert_int_equal(s->pos_drop.col, 9);
    assert_int_equal(s->pos_metric.line, 9);
    assert_int_equal(s->pos_metric.col, 9);
    assert_int_equal(s->pos_strategy.line, 11);
    assert_int_equal(s->pos_strategy.col, 13);
    check_full_space(s->space);
}

static void test_spec_full_example(void **state)
{
    aml_spec *s = load_ok(full_example);

    check_full_example(s, s->path);
    aml_spec_free(s);
    aml_spec_free(NULL);
}

/* Only the required keys: every default. */
static void test_spec_defaults(void **state)
{
    aml_spec *s = load_ok("study: s\ndata:\n  train: data/penguins.csv\n  target: y\n"
                          "learners:\n  knn:\nstore: s.db\n");
    const aml_space_learner *l = &s->space->learners[0];

    assert_int_equal(s->task, AML_SPEC_TASK_INFER);
    assert_int_equal(s->pos_task.line, 0);
    assert_null(s->drop);
    assert_int_equal(s->n_drop, 0);
    assert_null(s->missing);
    assert_int_equal(s->n_missing, 0);
    assert_int_equal(s->folds, 5);
    assert_int_equal(s->stratified, 1);
    assert_int_equal(s->cv_seed, 0);
    assert_null(s->metric);
    assert_int_equal(s->pos_metric.line, 0);
    assert_string_equal(s->strategy, "random");
    assert_int_equal(s->trials, 0);
    assert_int_equal(s->parallel, 1);
    assert_int_equal(s->seed, 0);
    assert_true(s->time_budget == 0.0);
    assert_int_equal(s->patience, 0);
    assert_true(s->trial_timeout == 0.0);
    assert_null(s->output);
    check_path(s->store, "s.db");
    /* No ensemble section: selection (20 bags) of up to 10 members among the best 50. */
    assert_int_equal(s->ensemble.method, AML_ENSEMBLE_SELECTION);
    assert_int_equal(s->ensemble.size, 10);
    assert_int_equal(s->ensemble.candidates, 50);
    assert_int_equal(s->ensemble.bags, 20);
    assert_int_equal(s->ensemble.layers, 1);
    assert_null(s->ensemble.meta);
    assert_null(s->ensemble.final);
    assert_int_equal(s->ensemble.passthrough, 0);
    assert_int_equal(s->ensemble.refit, 1);
    assert_int_equal(s->ensemble.fallback, 1);

    /* knn with nothing: one dimension per declared parameter, default ranges. */
    assert_int_equal(s->space->n_learners, 1);
    assert_int_equal(l->n_dims, 2);
    check_dim(&l->dims[0], "k", AML_DOM_INT, AML_VAL_INT, 1, 50, 0, 6, 3);
    check_dim(&l->dims[1], "weights", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, 0, 6, 3);
    assert_int_equal(l->dims[1].n_choices, 2);
    assert_string_equal(l->dims[1].choices[1].str, "distance");
    aml_spec_free(s);
}

/* Learners given as {} or nothing search their declared default ranges. */
static void test_spec_default_ranges(void **state)
{
    aml_spec *s = load_ok("study: s\ndata:\n  train: data/penguins.csv\n  target: y\n"
                          "search: {grid: 7}\n"
                          "learners:\n  logistic_regression: {}\n  decision_tree:\n"
                          "store: /tmp/abs.db\n");
    const aml_space_learner *l;

    assert_string_equal(s->store, "/tmp/abs.db"); /* absolute paths kept */
    assert_int_equal(s->space->n_learners, 2);
    l = &s->space->learners[0];
    assert_int_equal(l->n_dims, 2);
    check_dim(&l->dims[0], "C", AML_DOM_LOG_UNIFORM, AML_VAL_REAL, 1e-3, 1e3, 7, 7, 3);
    /* search_lo == search_hi: fixed at that value. */
    check_dim(&l->dims[1], "max_iter", AML_DOM_FIXED, AML_VAL_INT, 0, 0, 0, 7, 3);
    assert_int_equal(l->dims[1].choices[0].i, 100);

    l = &s->space->learners[1];
    assert_int_equal(l->n_dims, 5);
    check_dim(&l->dims[0], "max_depth", AML_DOM_INT, AML_VAL_INT, 1, 20, 0, 8, 3);
    check_dim(&l->dims[1], "min_samples_leaf", AML_DOM_INT_LOG, AML_VAL_INT, 1, 64, 7, 8,
              3);
    check_dim(&l->dims[2], "max_features", AML_DOM_UNIFORM, AML_VAL_REAL, 0.1, 1, 7, 8,
              3);
    check_dim(&l->dims[3], "criterion", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, 0, 8, 3);
    assert_string_equal(l->dims[3].choices[0].str, "gini");
    check_dim(&l->dims[4], "bootstrap", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, 0, 8, 3);
    assert_int_equal(l->dims[4].n_choices, 2);
    aml_spec_free(s);
}

/* Every domain form and the scalar rules. */
static void test_spec_domains(void **state)
{
    aml_spec *s = load_ok(
        "study: \"2024\"\n"
        "data: {train: data/penguins.csv, target: 2024, task: regression, missing: []}\n"
        "cv: {stratified: no, seed: 18446744073709551615, folds: 10.0}\n"
        "search: {strategy: grid, seed: &s 7, trials: 3}\n"
        "learners:\n"
        "  ridge:\n"
        "    alpha: {int: [1, 10]}\n" /* real parameter, int domain */
        "  knn:\n"
        "    k: 5.0\n" /* whole real for an int parameter */
        "    weights: {choice: [distance]}\n"
        "  decision_tree:\n"
        "    max_features: {uniform: [0.25, 0.75], grid: 3}\n"
        "    max_depth: {int: [2, 12], grid: 4}\n"
        "    min_samples_leaf: {int_log: [1, 64]}\n"
        "    criterion: entropy\n"
        "    bootstrap: [yes, no]\n" /* words, not booleans */
        "store: s.db\n");
    const aml_space_learner *l;

    assert_string_equal(s->study, "2024");
    assert_string_equal(s->target, "2024");
    assert_int_equal(s->task, AML_SPEC_TASK_REGRESSION);
    assert_non_null(s->missing); /* given, but empty: no token is missing */
    assert_int_equal(s->n_missing, 0);
    assert_int_equal(s->stratified, 0);
    assert_true(s->cv_seed == 18446744073709551615ULL);
    assert_int_equal(s->folds, 10);
    assert_string_equal(s->strategy, "grid");
    assert_int_equal(s->seed, 7);
    assert_int_equal(s->trials, 3);

    l = &s->space->learners[0];
    check_dim(&l->dims[0], "alpha", AML_DOM_INT, AML_VAL_INT, 1, 10, 0, 7, 5);
    l = &s->space->learners[1];
    check_dim(&l->dims[0], "k", AML_DOM_FIXED, AML_VAL_INT, 0, 0, 0, 9, 5);
    assert_int_equal(l->dims[0].choices[0].kind, AML_VAL_INT);
    assert_int_equal(l->dims[0].choices[0].i, 5);
    check_dim(&l->dims[1], "weights", AML_DOM_CHOICE, AML_VAL_STR, 0, 0, 0, 10, 5);
    assert_int_equal(l->dims[1].n_choices, 1);
    l = &s->space->learners[2];
    check_dim(&l->dims[0], "max_features", AML_DOM_UNIFORM, AML_VAL_REAL, 0.25, 0.75, 3,
              12, 5);
    check_dim(&l->dims[1], "max_depth", AML_DOM_INT, AML_VAL_INT, 2, 12, 4, 13, 5);
    check_dim(&l->dims[2], "min_samples_leaf", AML_DOM_INT_LOG, AML_VAL_INT, 1, 64, 5, 14,
              5);
    check_dim(&l->dims[3], "criterion", AML_DOM_FIXED, AML_VAL_STR, 0, 0, 0, 15, 5);
    assert_string_equal(l->dims[3].choices[0].str, "entropy");
    assert_string_equal(l->dims[4].choices[0].str, "yes");
    assert_string_equal(l->dims[4].choices[1].str, "no");
    aml_spec_free(s);
}

/* Reals accept ints; booleans accept yes/true; an alias reads its anchor. */
static void test_spec_scalars(void **state)
{
    aml_spec *s = load_ok("study: s\ndata:\n  train: data/penguins.csv\n  target: y\n"
                          "  drop: [a, \"b c\"]\n"
                          "cv: {stratified: Yes, seed: &seed 42}\n"
                          "search: {seed: *seed, parallel: 0}\n"
                          "learners:\n  logistic_regression:\n    C: [1, 1e-3, .5]\n"
                          "store: s.db\n");
    const aml_dim *d = &s->space->learners[0].dims[0];

    assert_int_equal(s->n_drop, 2);
    assert_string_equal(s->drop[1], "b c");
    assert_int_equal(s->stratified, 1);
    assert_int_equal(s->cv_seed, 42);
    assert_int_equal(s->seed, 42);
    assert_int_equal(s->parallel, 0);
    assert_int_equal(d->domain, AML_DOM_CHOICE);
    assert_int_equal(d->n_choices, 3);
    assert_int_equal(d->choices[0].kind, AML_VAL_REAL); /* 1 converted for a real param */
    assert_close(d->choices[0].real, 1.0, 0);
    assert_close(d->choices[1].real, 1e-3, 0);
    assert_close(d->choices[2].real, 0.5, 0);
    aml_spec_free(s);
}

/* Durations in seconds: 10m = 600, 1.5h = 5400, 90s = 90, a bare 2.5 = 2.5. */
static void test_spec_budgets(void **state)
{
    static const struct {
        const char *text;
        double seconds;
    } cases[] = {{"10m", 600.0}, {"1.5h", 5400.0}, {"90s", 90.0}, {"2.5", 2.5},
                 {"7", 7.0},     {"2h", 7200.0},   {"1e-9", 1e-9}};
    char yaml[512];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        aml_spec *s;

        snprintf(yaml, sizeof(yaml),
                 "study: s\ndata:\n  train: data/penguins.csv\n  target: y\n"
                 "search: {time_budget: %s, trial_timeout: %s, patience: 4}\n"
                 "learners:\n  knn:\nstore: s.db\n",
                 cases[i].text, cases[i].text);
        s = load_ok(yaml);
        assert_true(s->time_budget == cases[i].seconds);
        assert_true(s->trial_timeout == cases[i].seconds);
        assert_int_equal(s->patience, 4);
        aml_spec_free(s);
    }
}

/* A spec named without a directory resolves paths against the working directory. */
static void test_spec_bare_path(void **state)
{
    char old[4096];
    aml_spec *s = NULL;

    write_spec("bare.yaml", "study: s\ndata: {train: data/penguins.csv, target: y}\n"
                            "learners: {knn: }\nstore: s.db\n");
    assert_non_null(getcwd(old, sizeof(old)));
    assert_int_equal(chdir(aml_test_tmpdir()), 0);
    assert_int_equal(aml_spec_load(&s, "bare.yaml", &t_vocab), 0);
    assert_int_equal(chdir(old), 0);
    assert_string_equal(s->train, "data/penguins.csv");
    assert_string_equal(s->store, "s.db");
    assert_string_equal(s->path, "bare.yaml");
    aml_spec_free(s);
}

/* The contract's example against the real learner registry. */
static void test_spec_real_registry(void **state)
{
    const aml_spec_vocab vocab = {aml_learner_types, t_metrics, t_strategies};
    aml_spec *s = NULL;
    const char *path = write_spec("real.yaml", full_example);

    if (aml_spec_load(&s, path, &vocab) != 0)
        fail_msg("%s", aml_error_message());
    check_full_example(s, path);
    aml_spec_free(s);
}

/*
 * A stored spec text is read back (export, report), not run: its store and
 * output need not be writable, nor their directories exist, where the
 * study is read.  Loaded from a file, the same text is refused.
 */
/* impute_value beside an impute choice that holds constant is read (no error). */
static void test_spec_impute_value(void **state)
{
    aml_spec *s;

    (void)state;
    s = load_ok(HEAD "preprocess: {impute: [mean, constant], impute_value: -1}\n" TAIL);
    assert_non_null(s);
    aml_spec_free(s);
    s = load_ok(HEAD "preprocess: {impute: constant, impute_value: 2.5}\n" TAIL);
    aml_spec_free(s);
}

static void test_spec_stored_text(void **state)
{
    static const char text[] = "study: s\n"
                               "data: {train: data/penguins.csv, target: species}\n"
                               "learners: {knn: }\n"
                               "store: gone/s.db\n";
    const char *path = write_spec("stored.yaml", text);
    aml_spec *s = NULL;

    (void)state;
    assert_int_equal(aml_spec_load(&s, path, &t_vocab), AML_EINVAL);
    assert_non_null(strstr(aml_error_message(), "its directory does not exist"));
    assert_int_equal(aml_spec_load_text(&s, path, text, &t_vocab), 0);
    assert_non_null(strstr(s->store, "gone/s.db"));
    aml_spec_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_check_wording),
        cmocka_unit_test(test_spec_bad),
        cmocka_unit_test(test_spec_stored_text),
        cmocka_unit_test(test_spec_impute_value),
        cmocka_unit_test(test_spec_seed_configs),
        cmocka_unit_test(test_spec_defaults_first),
        cmocka_unit_test(test_spec_bad_ensemble),
        cmocka_unit_test(test_spec_ensemble),
        cmocka_unit_test(test_spec_unreadable),
        cmocka_unit_test(test_spec_full_example),
        cmocka_unit_test(test_spec_defaults),
        cmocka_unit_test(test_spec_default_ranges),
        cmocka_unit_test(test_spec_domains),
        cmocka_unit_test(test_spec_scalars),
        cmocka_unit_test(test_spec_budgets),
        cmocka_unit_test(test_spec_bare_path),
        cmocka_unit_test(test_spec_real_registry),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
