/*
 * test_ensemble.c - the ensemble stage through the automl binary: every
 * method on a classification and a regression study, the ensemble row in
 * the store, `automl export` reproducing run's model file byte for byte,
 * one trial's export, and export's bad input.
 */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[512];

static const char *at(const char *name)
{
    static char path[4][1024];
    static int slot;

    slot = (slot + 1) % 4;
    snprintf(path[slot], sizeof(path[slot]), "%s/%s", dir, name);
    return path[slot];
}

static int automl(const char *args)
{
    char cmd[4096];
    int status;

    snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s > out.txt 2> err.txt", dir, AML_BINARY,
             args);
    status = system(cmd);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static char *slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    if (len)
        *len = n;
    return buf;
}

static void expect_in(const char *file, const char *needle)
{
    char *text = slurp(at(file), NULL);

    assert_non_null(text);
    if (!strstr(text, needle))
        fail_msg("%s does not contain '%s':\n%s", file, needle, text);
    free(text);
}

static void same_bytes(const char *a, const char *b)
{
    long na, nb;
    char *x = slurp(at(a), &na), *y = slurp(at(b), &nb);

    assert_non_null(x);
    assert_non_null(y);
    if (na != nb || memcmp(x, y, (size_t)na) != 0)
        fail_msg("%s and %s differ (%ld and %ld bytes)", a, b, na, nb);
    free(x);
    free(y);
}

static void setup_dir(const char *name)
{
    char cmd[2048];

    snprintf(dir, sizeof(dir), "%s/%s", aml_test_tmpdir(), name);
    snprintf(cmd, sizeof(cmd),
             "rm -rf '%s' && mkdir -p '%s' && cp '%s/examples/penguins/'*.csv '%s'", dir,
             dir, AML_SOURCE_DIR, dir);
    assert_int_equal(system(cmd), 0);
}

/* A 16-trial study over three learners with the given ensemble section. */
static void write_spec(const char *task, const char *ensemble)
{
    FILE *f = fopen(at("spec.yaml"), "w");
    int cls = strcmp(task, "classification") == 0;

    assert_non_null(f);
    fprintf(f,
            "study: s\n"
            "data:\n  train: penguins.csv\n  target: %s\n  drop: [year]\n"
            "cv: {folds: 4, seed: 3}\n"
            "search: {strategy: random, trials: 16, seed: 5, parallel: 2}\n"
            "learners:\n  %s:\n  knn:\n  decision_tree:\n    max_depth: {int: [1, 8]}\n"
            "store: s.db\noutput: s.model\n%s",
            cls ? "species" : "body_mass_g", cls ? "logistic_regression" : "ridge",
            ensemble);
    fclose(f);
}

static long long query_int(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v;

    assert_int_equal(sqlite3_open_v2(at("s.db"), &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/*
 * One method end to end: run prints the ensemble beside the best trial and
 * stores it; export rebuilds the same model file; predict serves it.
 */
static void check_method(const char *task, const char *method, const char *section)
{
    char name[64], ens[256];

    snprintf(name, sizeof(name), "ens_%s_%s", task, method);
    setup_dir(name);
    snprintf(ens, sizeof(ens), "ensemble: {method: %s%s}\n", method, section);
    write_spec(task, ens);
    if (automl("run spec.yaml --quiet") != 0)
        fail_msg("run failed: %s", slurp(at("err.txt"), NULL));
    if (strcmp(method, "none") != 0) {
        snprintf(name, sizeof(name), "ensemble: %s of ", method);
        expect_in("out.txt", name);
        expect_in("out.txt", "vs the best single trial");
    } else {
        expect_in("out.txt", "alone");
    }
    /* The store keeps the method, both scores and at least one member. */
    snprintf(name, sizeof(name), "SELECT count(*) FROM ensemble WHERE method = '%s'",
             method);
    assert_int_equal(query_int(name), 1);
    assert_int_equal(
        query_int("SELECT count(*) FROM ensemble WHERE score IS NOT NULL AND "
                  "(best_trial_score = (SELECT max(score) FROM trial) OR "
                  "best_trial_score = (SELECT min(score) FROM trial))"),
        1);
    assert_true(query_int("SELECT json_array_length(members) FROM ensemble") >= 1);

    /* export rebuilds exactly the model run wrote. */
    assert_int_equal(automl("export s.db --out again.model"), 0);
    same_bytes("s.model", "again.model");
    /* new_penguins.csv has no species column, an input of the regression studies. */
    assert_int_equal(automl(strcmp(task, "classification") == 0
                                ? "predict s.model new_penguins.csv --out p.csv"
                                : "predict s.model penguins.csv --out p.csv"),
                     0);
}

static void test_methods_classification(void **state)
{
    (void)state;
    check_method("classification", "selection", ", size: 5");
    check_method("classification", "voting", ", size: 3");
    check_method("classification", "stacking", ", size: 4");
    check_method("classification", "none", "");
}

static void test_methods_regression(void **state)
{
    (void)state;
    check_method("regression", "selection", "");
    check_method("regression", "stacking",
                 ", layers: 2, meta: [ridge, knn], final: ridge");
    check_method("regression", "voting", ", refit: false");
}

/* export --trial N is the model of that trial alone, as run writes with method none. */
static void test_export_trial(void **state)
{
    char args[128];
    long long best;

    (void)state;
    setup_dir("ens_trial");
    write_spec("classification", "ensemble: {method: none}\n");
    assert_int_equal(automl("run spec.yaml --quiet"), 0);
    best = query_int("SELECT number FROM trial WHERE status = 'ok' ORDER BY score DESC, "
                     "number LIMIT 1");
    snprintf(args, sizeof(args), "export s.db --trial %lld --out t.model", best);
    assert_int_equal(automl(args), 0);
    same_bytes("s.model", "t.model");
    /* Another trial gives another model. */
    snprintf(args, sizeof(args), "export s.db --trial %d --out u.model", best ? 0 : 1);
    assert_int_equal(automl(args), 0);
}

static void test_export_bad(void **state)
{
    (void)state;
    setup_dir("ens_bad");
    write_spec("classification", "");
    assert_int_equal(automl("run spec.yaml --quiet"), 0);

    assert_int_equal(automl("export s.db"), 2);
    expect_in("err.txt", "--out is required");
    assert_int_equal(automl("export s.db --trial 3 --ensemble --out x.model"), 2);
    expect_in("err.txt", "exclude each other");
    assert_int_equal(automl("export s.db --format rust --out x.model"), 2);
    expect_in("err.txt", "unknown --format 'rust'");
    assert_int_equal(automl("export s.db --trial 999 --out x.model"), 2);
    expect_in("err.txt", "trial 999 is not a successful trial");
    assert_false(access(at("x.model"), F_OK) == 0);
    assert_int_equal(automl("export s.db --study nope --out x.model"), 2);
    expect_in("err.txt", "no study 'nope'");
    assert_int_equal(automl("export s.db --out penguins.csv"), 2);
    expect_in("err.txt", "would overwrite the training data");
    assert_int_equal(automl("export s.db --out s.db"), 2);
    expect_in("err.txt", "would overwrite the store");

    /* The data changed since the search: export refuses to build from it. */
    {
        FILE *f = fopen(at("penguins.csv"), "a");

        assert_non_null(f);
        fputs("\"Adelie\",\"Dream\",40.1,18.1,190,3800,\"male\",2009\n", f);
        fclose(f);
    }
    assert_int_equal(automl("export s.db --out y.model"), 2);
    expect_in("err.txt", "changed since the study ran");
    assert_false(access(at("y.model"), F_OK) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_methods_classification),
        cmocka_unit_test(test_methods_regression),
        cmocka_unit_test(test_export_trial),
        cmocka_unit_test(test_export_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
