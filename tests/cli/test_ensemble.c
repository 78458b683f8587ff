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

static int contains(const char *file, const char *needle)
{
    char *text = aml_cli_slurp(aml_cli_at(file), NULL);
    int found = text && strstr(text, needle) != NULL;

    free(text);
    return found;
}

static void same_bytes(const char *a, const char *b)
{
    long na, nb;
    char *x = aml_cli_slurp(aml_cli_at(a), &na), *y = aml_cli_slurp(aml_cli_at(b), &nb);

    assert_non_null(x);
    assert_non_null(y);
    if (na != nb || memcmp(x, y, (size_t)na) != 0)
        fail_msg("%s and %s differ (%ld and %ld bytes)", a, b, na, nb);
    free(x);
    free(y);
}

/* A 16-trial study over three learners with the given ensemble section. */
static void write_spec(const char *task, const char *ensemble)
{
    FILE *f = fopen(aml_cli_at("spec.yaml"), "w");
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

    assert_int_equal(sqlite3_open_v2(aml_cli_at("s.db"), &db, SQLITE_OPEN_READONLY, NULL),
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
    int kept;

    snprintf(name, sizeof(name), "ens_%s_%s", task, method);
    aml_cli_dir_setup(name, "examples/penguins/*.csv", NULL);
    snprintf(ens, sizeof(ens), "ensemble: {method: %s%s}\n", method, section);
    write_spec(task, ens);
    if (aml_cli_run("run spec.yaml --quiet") != 0)
        fail_msg("run failed: %s", aml_cli_slurp(aml_cli_at("err.txt"), NULL));
    kept =
        !contains("out.txt", "no better than the best single trial chosen the same way");
    if (strcmp(method, "none") != 0 && kept) {
        snprintf(name, sizeof(name), "ensemble: %s of ", method);
        aml_cli_expect_in("out.txt", name);
        /* Kept: the rival printed is the single trial chosen the same honest
         * way (the score the decision compared), beside the best trial's own. */
        aml_cli_expect_in("out.txt",
                          "for the best single trial chosen the same way (both "
                          "cross-validated, no selection on the scored rows), "
                          "so the ensemble is kept; the best trial ");
    } else {
        /* none, or an ensemble whose honest score lost to the best trial's */
        aml_cli_expect_in("out.txt", "alone");
    }
    /* The store keeps the method, both scores and at least one member. */
    snprintf(name, sizeof(name), "SELECT count(*) FROM ensemble WHERE method = '%s'",
             kept ? method : "none");
    assert_int_equal(query_int(name), 1);
    assert_int_equal(
        query_int("SELECT count(*) FROM ensemble WHERE score IS NOT NULL AND "
                  "(best_trial_score = (SELECT max(score) FROM trial) OR "
                  "best_trial_score = (SELECT min(score) FROM trial))"),
        1);
    assert_true(query_int("SELECT json_array_length(members) FROM ensemble") >= 1);
    /* The honest single-trial estimate is stored whenever it was computed:
     * for kept ensembles too, not only when falling back. */
    assert_int_equal(query_int("SELECT count(*) FROM ensemble WHERE single_score IS NOT "
                               "NULL"),
                     strcmp(method, "none") != 0);

    /* best shows the stored ensemble under the best trial. */
    assert_int_equal(aml_cli_run("best s.db"), 0);
    if (kept && strcmp(method, "none") != 0)
        snprintf(name, sizeof(name), "ensemble %s, ", method);
    else
        snprintf(name, sizeof(name), "ensemble none: ");
    aml_cli_expect_in("out.txt", name);
    aml_cli_expect_in("out.txt", "members: ");
    if (kept && strcmp(method, "none") != 0)
        aml_cli_expect_in("out.txt", "for the best single trial chosen the same way");
    /* and so does the report */
    assert_int_equal(aml_cli_run("report s.db --out r.html"), 0);
    if (kept && strcmp(method, "none") != 0)
        aml_cli_expect_in("r.html", "for the best single trial chosen the same way; "
                                    "the ensemble is kept");

    /* export rebuilds exactly the model run wrote. */
    assert_int_equal(aml_cli_run("export s.db --out again.model"), 0);
    same_bytes("s.model", "again.model");
    /* new_penguins.csv has no species column, an input of the regression studies. */
    assert_int_equal(aml_cli_run(strcmp(task, "classification") == 0
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
    aml_cli_dir_setup("ens_trial", "examples/penguins/*.csv", NULL);
    write_spec("classification", "ensemble: {method: none}\n");
    assert_int_equal(aml_cli_run("run spec.yaml --quiet"), 0);
    best = query_int("SELECT number FROM trial WHERE status = 'ok' ORDER BY score DESC, "
                     "number LIMIT 1");
    snprintf(args, sizeof(args), "export s.db --trial %lld --out t.model", best);
    assert_int_equal(aml_cli_run(args), 0);
    same_bytes("s.model", "t.model");
    /* Another trial gives another model. */
    snprintf(args, sizeof(args), "export s.db --trial %d --out u.model", best ? 0 : 1);
    assert_int_equal(aml_cli_run(args), 0);
}

/*
 * export --method / --size re-ensemble the stored trials without the spec's
 * ensemble section: the spec's own method and size rebuild run's model byte
 * for byte, method none is the best trial alone (export --trial's model),
 * and another size changes the member count.
 */
static void test_export_method(void **state)
{
    char args[128];
    long long best;

    (void)state;
    aml_cli_dir_setup("ens_method", "examples/penguins/*.csv", NULL);
    write_spec("classification",
               "ensemble: {method: voting, size: 2, fallback: false}\n");
    assert_int_equal(aml_cli_run("run spec.yaml --quiet"), 0);
    /* fallback: false still estimates the single-trial rival, prints and stores it */
    aml_cli_expect_in("out.txt", "for the best single trial chosen the same way");
    assert_int_equal(
        query_int("SELECT count(*) FROM ensemble WHERE single_score IS NULL"), 0);
    assert_int_equal(aml_cli_run("export s.db --ensemble --method voting --size 2 --out "
                                 "v2.model"),
                     0);
    same_bytes("s.model", "v2.model");
    assert_int_equal(aml_cli_run("export s.db --method voting --size 3 --out v3.model"),
                     0);
    aml_cli_expect_in("out.txt", "ensemble: voting of 3 trials");
    best = query_int("SELECT number FROM trial WHERE status = 'ok' ORDER BY score DESC, "
                     "number LIMIT 1");
    snprintf(args, sizeof(args), "export s.db --trial %lld --out t.model", best);
    assert_int_equal(aml_cli_run(args), 0);
    assert_int_equal(aml_cli_run("export s.db --method none --out n.model"), 0);
    same_bytes("t.model", "n.model");

    /* A model read from a pipe serves as the file does; a directory is named so. */
    assert_int_equal(aml_cli_run("predict s.model penguins.csv --out p1.csv"), 0);
    assert_int_equal(
        aml_cli_run("predict /dev/stdin penguins.csv --out p2.csv < s.model"), 0);
    same_bytes("p1.csv", "p2.csv");
    assert_int_equal(aml_cli_run("predict . penguins.csv"), 2);
    aml_cli_expect_in("err.txt", ".: is a directory, not a model file");
}

/*
 * export --format c: the program compiled with cc alone prints what
 * `automl predict` prints (labels; a selection ensemble of trees and kNN,
 * whose C is bit-exact).
 */
static void test_export_c(void **state)
{
    char cmd[2048];

    (void)state;
    if (system("command -v cc > /dev/null 2>&1") != 0)
        skip();
    aml_cli_dir_setup("ens_c", "examples/penguins/*.csv", NULL);
    write_spec("classification", "ensemble: {method: voting, size: 2}\n");
    assert_int_equal(aml_cli_run("run spec.yaml --quiet"), 0);
    assert_int_equal(aml_cli_run("export s.db --format c --out model.c"), 0);
    aml_cli_expect_in("out.txt", "written to model.c");
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && cc -std=c99 -O2 -DAUTOML_MAIN -o model model.c -lm && "
             "./model < new_penguins.csv > c.csv && ./model --proba < new_penguins.csv "
             "> cp.csv",
             aml_cli_dir());
    assert_int_equal(system(cmd), 0);
    assert_int_equal(aml_cli_run("predict s.model new_penguins.csv --out a.csv"), 0);
    same_bytes("c.csv", "a.csv");
    assert_int_equal(aml_cli_run("predict s.model new_penguins.csv --proba --out ap.csv"),
                     0);
    same_bytes("cp.csv", "ap.csv");

    /* A NUL byte in a field: predict refuses it, and so does the program. */
    {
        static const char nul[] =
            "sex,body_mass_g,flipper_length_mm,bill_depth_mm,"
            "bill_length_mm,island\nmale,3750,181,18.7,39.1,Torgersen\n"
            "male,37\0"
            "50,181,18.7,39.1,Torgersen\n";
        FILE *f = fopen(aml_cli_at("nul.csv"), "wb");
        int rc;

        assert_non_null(f);
        assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, f), sizeof(nul) - 1);
        fclose(f);
        assert_int_equal(aml_cli_run("predict s.model nul.csv --out n.csv"), 2);
        aml_cli_expect_in("err.txt", "nul.csv:3:2: NUL byte in a field");
        snprintf(cmd, sizeof(cmd), "cd '%s' && ./model < nul.csv > cn.csv 2> cn.txt",
                 aml_cli_dir());
        rc = system(cmd);
        assert_true(WIFEXITED(rc));
        assert_int_equal(WEXITSTATUS(rc), 2);
        aml_cli_expect_in("cn.txt",
                          "automl_predict: stdin:3: NUL byte in a field (column 2)\n");
    }
}

/*
 * Runs `automl export ARGS`, which must exit with code and say on stderr one
 * line "automl: export: ..." holding needle, and nothing else.
 */
static void export_refused(const char *args, int code, const char *needle)
{
    char cmd[512];
    char *err;
    size_t n;

    snprintf(cmd, sizeof(cmd), "export %s", args);
    assert_int_equal(aml_cli_run(cmd), code);
    err = aml_cli_read(aml_cli_at("err.txt"));
    n = strlen(err);
    if (strncmp(err, "automl: export: ", 16) != 0 || !strstr(err, needle) || n == 0 ||
        err[n - 1] != '\n' || strchr(err, '\n') != err + n - 1)
        fail_msg("export %s: want one line \"automl: export: ...%s...\", got \"%s\"",
                 args, needle, err);
    free(err);
}

static void exec_sql(const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(aml_cli_at("s.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Every mistake is refused with one line naming export, and nothing is written. */
static void test_export_bad(void **state)
{
    /* export's arguments, and what the refusal must say */
    static const char *const bad[][2] = {
        {"s.db", "--out is required"},
        {"--out x.model", "which store?"},
        {"s.db --out", "option --out needs a value"},
        {"s.db --out x.model --study", "option --study needs a value"},
        {"s.db --out x.model --format", "option --format needs a value"},
        {"s.db --out x.model --method", "option --method needs a value"},
        {"s.db --trial x --out x.model",
         "option --trial takes a non-negative integer, not 'x'"},
        {"s.db --trial 3 --ensemble --out x.model", "exclude each other"},
        {"s.db --format rust --out x.model", "unknown --format 'rust'"},
        {"s.db --method bagging --out x.model", "unknown --method 'bagging'"},
        {"s.db --size 0 --out x.model",
         "option --size takes a positive integer up to 1000, not '0'"},
        {"s.db --size -1 --out x.model",
         "option --size takes a positive integer up to 1000, not '-1'"},
        {"s.db --size 1001 --out x.model",
         "option --size takes a positive integer up to 1000, not '1001'"},
        {"s.db --size 3 --size 4 --out x.model", "--size given twice"},
        {"s.db --trial 1 --method voting --out x.model",
         "apply to the ensemble, not to --trial"},
        {"s.db --trial 999 --out x.model", "trial 999 is not a successful trial"},
        {"s.db --study nope --out x.model", "no study 'nope'"},
        {"none.db --out x.model", "none.db: no such database"},
        {"s.db --out penguins.csv", "would overwrite the training data"},
        {"s.db --out s.db", "would overwrite the store"},
        {"s.db --out nodir/x.model", "directory nodir does not exist"},
        {"s.db --out .", "--out . is a directory"},
    };

    (void)state;
    aml_cli_dir_setup("ens_bad", "examples/penguins/*.csv", NULL);
    write_spec("classification", "");
    assert_int_equal(aml_cli_run("run spec.yaml --quiet"), 0);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        export_refused(bad[i][0], 2, bad[i][1]);
    assert_false(access(aml_cli_at("x.model"), F_OK) == 0);

    /* A spec the data no longer suits (checked by run's checks, which used to
     * print bare "file:line:col:" lines): one line still. */
    exec_sql(
        "UPDATE study SET spec_text = replace(spec_text, 'cv:', 'metric: rmse\ncv:')");
    export_refused("s.db --out y.model", 2, "metric 'rmse' does not apply");
    exec_sql("UPDATE study SET spec_text = replace(spec_text, 'metric: rmse\n', '')");

    /* No successful trial: that one error, not first a warning that promises
     * the best trial alone. */
    exec_sql("UPDATE trial SET status = 'failed'");
    export_refused("s.db --out y.model", 2, "the study has no successful trial");
    exec_sql("UPDATE trial SET status = 'ok'");

    /* The data changed since the search: export refuses to build from it. */
    {
        FILE *f = fopen(aml_cli_at("penguins.csv"), "a");

        assert_non_null(f);
        fputs("\"Adelie\",\"Dream\",40.1,18.1,190,3800,\"male\",2009\n", f);
        fclose(f);
    }
    export_refused("s.db --out y.model", 2, "changed since the study ran");
    assert_false(access(aml_cli_at("y.model"), F_OK) == 0);
}

/* A spec without `output:` builds the ensemble and says no file was written. */
static void test_run_without_output(void **state)
{
    char cmd[1024];

    (void)state;
    aml_cli_dir_setup("ens_noout", "examples/penguins/*.csv", NULL);
    write_spec("classification", "");
    snprintf(cmd, sizeof(cmd), "sed -i '/^output:/d' '%s'", aml_cli_at("spec.yaml"));
    assert_int_equal(system(cmd), 0);
    assert_int_equal(aml_cli_run("run spec.yaml --quiet"), 0);
    aml_cli_expect_in("out.txt", "model: not written (the spec names no output file)");
    assert_false(access(aml_cli_at("s.model"), F_OK) == 0);
}

/*
 * refit: false says what the members are: k fold models averaged, each
 * fitted on its fold's training rows, or under holdout the one model of the
 * split (no average, and never all rows); one member or several.
 */
static void test_no_refit_wording(void **state)
{
    char cmd[1024];

    (void)state;
    aml_cli_dir_setup("ens_norefit", "examples/penguins/*.csv", NULL);
    write_spec("classification", "ensemble: {method: none, refit: false}\n");
    assert_int_equal(aml_cli_run("run spec.yaml --quiet"), 0);
    aml_cli_expect_in("out.txt",
                      "model: 1 member, the average of its trial's 4 "
                      "cross-validation fold models (each fitted on its "
                      "fold's training rows, not all 344), written to s.model");

    /* holdout: one model per member, and with several members "each" */
    snprintf(
        cmd, sizeof(cmd),
        "sed -i -e 's/^cv:.*/cv: {kind: holdout, seed: 3}/' -e 's/^study: s/study: h/' "
        "-e 's/^ensemble:.*/ensemble: {method: voting, size: 2, fallback: false, "
        "refit: false}/' '%s'",
        aml_cli_at("spec.yaml"));
    assert_int_equal(system(cmd), 0);
    assert_int_equal(aml_cli_run("run spec.yaml --quiet"), 0);
    aml_cli_expect_in("out.txt",
                      "model: 2 members, each its trial's model fitted on the "
                      "holdout split's training rows (not all 344), written to "
                      "s.model");
    assert_int_equal(aml_cli_run("export s.db --study h --method none --out n.model"), 0);
    aml_cli_expect_in("out.txt",
                      "model: 1 member, its trial's model fitted on the holdout "
                      "split's training rows (not all 344), written to n.model");
}

/* A prediction that is not a number is an error naming the line, never "nan". */
static void test_predict_not_a_number(void **state)
{
    FILE *f;

    (void)state;
    aml_cli_dir_setup("ens_nan", "examples/penguins/*.csv", NULL);
    f = fopen(aml_cli_at("nb.yaml"), "w");
    assert_non_null(f);
    fputs("study: nb\ndata: {train: penguins.csv, target: species, drop: [year]}\n"
          "search: {trials: 2}\nlearners:\n  naive_bayes:\nstore: nb.db\n"
          "output: nb.model\n",
          f);
    fclose(f);
    assert_int_equal(aml_cli_run("run nb.yaml --quiet"), 0);
    f = fopen(aml_cli_at("huge.csv"), "w");
    assert_non_null(f);
    /* 1e300 squared overflows naive Bayes' Gaussian log-likelihoods. */
    fputs("sex,body_mass_g,flipper_length_mm,bill_depth_mm,bill_length_mm,island\n"
          "male,3750,181,18.7,39.1,Torgersen\nmale,1e300,181,18.7,39.1,Torgersen\n",
          f);
    fclose(f);
    assert_int_equal(aml_cli_run("predict nb.model huge.csv --out p.csv"), 2);
    aml_cli_expect_in("err.txt",
                      "huge.csv:3: the model's prediction for this row is not a "
                      "number");
    assert_int_equal(access(aml_cli_at("p.csv"), F_OK), -1);

    /* A linear model's sum overflows to infinity on 1e308. */
    f = fopen(aml_cli_at("r.yaml"), "w");
    assert_non_null(f);
    fputs("study: r\ndata: {train: penguins.csv, target: body_mass_g, drop: [year]}\n"
          "search: {trials: 1}\nlearners:\n  ridge: {alpha: 1.0}\nstore: r.db\n"
          "output: r.model\n",
          f);
    fclose(f);
    assert_int_equal(aml_cli_run("run r.yaml --quiet"), 0);
    f = fopen(aml_cli_at("huge2.csv"), "w");
    assert_non_null(f);
    fputs("species,sex,flipper_length_mm,bill_depth_mm,bill_length_mm,island\n"
          "Adelie,male,1e308,18.7,39.1,Torgersen\n",
          f);
    fclose(f);
    assert_int_equal(aml_cli_run("predict r.model huge2.csv --out q.csv"), 2);
    aml_cli_expect_in("err.txt", "huge2.csv:2: the model's prediction for this row is "
                                 "infinite");
    assert_int_equal(access(aml_cli_at("q.csv"), F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_methods_classification),
        cmocka_unit_test(test_methods_regression),
        cmocka_unit_test(test_export_trial),
        cmocka_unit_test(test_export_method),
        cmocka_unit_test(test_run_without_output),
        cmocka_unit_test(test_export_c),
        cmocka_unit_test(test_no_refit_wording),
        cmocka_unit_test(test_predict_not_a_number),
        cmocka_unit_test(test_export_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
