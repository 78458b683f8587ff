/*
 * test_e2e.c - the shipped example end to end through the automl binary:
 * run, the database as plain SQLite sees it, the query commands, predict,
 * and the exit codes and messages of bad input.
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

/* Runs automl with `args` in the work directory; returns its exit code. */
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

static char *slurp(const char *path)
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
    return buf;
}

static void expect_in(const char *file, const char *needle)
{
    char *text = slurp(at(file));

    assert_non_null(text);
    if (!strstr(text, needle))
        fail_msg("%s does not contain '%s':\n%s", file, needle, text);
    free(text);
}

static void copy_example(void)
{
    char cmd[2048];

    snprintf(dir, sizeof(dir), "%s/e2e", aml_test_tmpdir());
    snprintf(cmd, sizeof(cmd),
             "rm -rf '%s' && mkdir -p '%s' && cp '%s/examples/penguins/'*.yaml "
             "'%s/examples/penguins/'*.csv '%s'",
             dir, dir, AML_SOURCE_DIR, AML_SOURCE_DIR, dir);
    assert_int_equal(system(cmd), 0);
}

static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void check_database(void)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open_v2(at("penguins.db"), &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(query_int(db, "SELECT count(*) FROM study WHERE name = 'penguins'"),
                     1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM trial"), 50);
    assert_int_equal(query_int(db, "SELECT count(*) FROM trial WHERE status = 'ok'"), 50);
    assert_int_equal(query_int(db, "SELECT count(*) FROM trial_fold"), 250);
    assert_int_equal(query_int(db, "SELECT count(DISTINCT number) FROM trial"), 50);
    /* Every trial is one of the three learners, with its parameters. */
    assert_int_equal(query_int(db, "SELECT count(*) FROM trial WHERE learner NOT IN "
                                   "('logistic_regression', 'knn', 'decision_tree')"),
                     0);
    assert_int_equal(query_int(db,
                               "SELECT count(*) FROM trial t WHERE NOT EXISTS "
                               "(SELECT 1 FROM trial_param p WHERE p.trial_id = t.id)"),
                     0);
    /* The mean score is the mean of the fold scores. */
    assert_int_equal(query_int(db, "SELECT count(*) FROM trial t WHERE abs(t.score - "
                                   "(SELECT avg(score) FROM trial_fold f "
                                   "WHERE f.trial_id = t.id)) > 1e-12"),
                     0);
    /* The fold assignment is stored: every row once, 5 folds of 68 or 69 rows,
     * each row with its line in the file (the header is line 1). */
    assert_int_equal(query_int(db, "SELECT count(*) FROM study_fold"), 344);
    assert_int_equal(query_int(db, "SELECT count(DISTINCT fold) FROM study_fold"), 5);
    assert_int_equal(query_int(db, "SELECT count(*) FROM (SELECT fold FROM study_fold "
                                   "GROUP BY fold HAVING count(*) NOT IN (68, 69))"),
                     0);
    assert_int_equal(query_int(db, "SELECT min(line) + 1000 * max(line) FROM study_fold"),
                     2 + 1000 * 345);
    /* Penguins are nearly separable: the best 5-fold accuracy is high. */
    assert_true(query_int(db, "SELECT max(score) > 0.97 FROM trial"));
    sqlite3_close(db);
}

/* Species of new_penguins.csv rows (see examples/penguins/ATTRIBUTION.md); row 3 is all
 * NA. */
static const char *const truth[12] = {
    "Adelie", "Adelie", NULL,        "Adelie",    "Adelie",    "Gentoo",
    "Gentoo", "Gentoo", "Chinstrap", "Chinstrap", "Chinstrap", "Chinstrap",
};

static void check_predictions(void)
{
    char *text = slurp(at("pred.csv"));
    char *line, *save = NULL;
    int row = -1, right = 0;

    assert_non_null(text);
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), row++) {
        char label[64];

        if (row < 0) {
            assert_string_equal(line,
                                "species,proba_Adelie,proba_Chinstrap,proba_Gentoo");
            continue;
        }
        assert_true(row < 12);
        assert_int_equal(sscanf(line, "%63[^,],", label), 1);
        if (truth[row] && strcmp(label, truth[row]) == 0)
            right++;
    }
    assert_int_equal(row, 12);
    assert_true(right >= 10); /* of the 11 rows with measurements */
    free(text);
}

static void test_e2e_example(void **state)
{
    (void)state;
    copy_example();
    assert_int_equal(automl("run spec.yaml"), 0);
    expect_in("out.txt", "leaderboard");
    expect_in("out.txt", "written to");
    check_database();

    assert_int_equal(automl("trials penguins.db --top 5"), 0);
    expect_in("out.txt", "learner");
    assert_int_equal(automl("best penguins.db"), 0);
    expect_in("out.txt", "params");
    assert_int_equal(automl("studies penguins.db"), 0);
    expect_in("out.txt", "penguins");

    assert_int_equal(
        automl("predict penguins.model new_penguins.csv --proba --out pred.csv"), 0);
    check_predictions();

    /* The same study again continues it: all 50 trials are stored, none runs
     * again, and the model is exported from the same best trial. */
    assert_int_equal(automl("run spec.yaml"), 0);
    expect_in("out.txt", "resuming study penguins: 50 trials stored (50 ok, 0 failed)");
    expect_in("out.txt", "50 trials (50 from the store)");
    check_database();
    /* --fresh replaces it. */
    assert_int_equal(automl("run spec.yaml --fresh --quiet"), 0);
    check_database();
}

static void test_e2e_bad_input(void **state)
{
    FILE *f;

    (void)state;
    copy_example();

    f = fopen(at("bad.yaml"), "w");
    assert_non_null(f);
    fputs("study: x\ndata:\n  train: penguins.csv\n  target: species\n"
          "  targte: oops\nlearners:\n  knn: {}\nstore: x.db\n",
          f);
    fclose(f);
    assert_int_equal(automl("run bad.yaml"), 2);
    expect_in("err.txt", "bad.yaml:5:3:");
    assert_int_equal(access(at("x.db"), F_OK), -1); /* nothing written */

    /* A prediction file without a training column: exit 2, the column named, no output.
     */
    assert_int_equal(automl("run spec.yaml --quiet"), 0);
    f = fopen(at("short.csv"), "w");
    assert_non_null(f);
    fputs("island,bill_length_mm,bill_depth_mm,sex,body_mass_g\nDream,40,18,male,3900\n",
          f);
    fclose(f);
    assert_int_equal(automl("predict penguins.model short.csv --out p.csv"), 2);
    expect_in("err.txt", "flipper_length_mm");
    assert_int_equal(access(at("p.csv"), F_OK), -1);

    /* A classification-only parameter: left out of a regression's default
     * search, refused when the spec names it. */
    f = fopen(at("mass.yaml"), "w");
    assert_non_null(f);
    fputs("study: mass\ndata: {train: penguins.csv, target: body_mass_g}\n"
          "search: {trials: 4}\nlearners:\n  decision_tree: {}\nstore: mass.db\n"
          "output: mass.model\n",
          f);
    fclose(f);
    assert_int_equal(automl("run mass.yaml --quiet"), 0);
    /* Probabilities of a regression model: refused, not silently dropped. */
    assert_int_equal(automl("predict mass.model penguins.csv --proba"), 2);
    expect_in("err.txt", "--proba needs a classification model");
    assert_int_equal(automl("trials mass.db --format csv"), 0);
    {
        char *text = slurp(at("out.txt"));

        assert_non_null(text);
        assert_non_null(strstr(text, "max_depth"));
        assert_null(strstr(text, "criterion"));
        free(text);
    }
    f = fopen(at("mass2.yaml"), "w");
    assert_non_null(f);
    fputs("study: mass2\ndata: {train: penguins.csv, target: body_mass_g}\n"
          "learners:\n  decision_tree:\n    criterion: [gini, entropy]\nstore: mass.db\n",
          f);
    fclose(f);
    assert_int_equal(automl("run mass2.yaml"), 2);
    expect_in("err.txt", "mass2.yaml:5:5: decision_tree: 'criterion' applies to "
                         "classification only, and this is a regression task");
    /* A wrapper's base learner must do the task: said before any trial runs. */
    f = fopen(at("mass3.yaml"), "w");
    assert_non_null(f);
    fputs("study: mass3\ndata: {train: penguins.csv, target: species}\n"
          "learners:\n  bagging:\n    base: [knn, ridge]\nstore: mass3.db\n",
          f);
    fclose(f);
    assert_int_equal(automl("run mass3.yaml"), 2);
    expect_in("err.txt", "mass3.yaml:5:5: bagging: base learner 'ridge' does not do "
                         "classification");
    assert_int_equal(access(at("mass3.db"), F_OK), -1);

    /* A model remembers how its training file was read: decimal commas and
     * per-column missing tokens apply to the file it predicts on too. */
    f = fopen(at("comma.csv"), "w");
    assert_non_null(f);
    fputs("x;note;y\n", f);
    for (int i = 0; i < 12; i++)
        fprintf(f, "%d,%d;%s;%s\n", i, 5 * (i % 2), i == 3 ? "NA" : (i % 3 ? "NA" : "-"),
                i < 6 ? "low" : "high");
    fclose(f);
    f = fopen(at("comma.yaml"), "w");
    assert_non_null(f);
    fputs("study: comma\ndata:\n  train: comma.csv\n  target: y\n  decimal: \",\"\n"
          "  missing: {note: [\"-\"]}\ncv: {folds: 2}\nsearch: {trials: 2}\n"
          "learners:\n  decision_tree: {max_depth: 2}\nstore: comma.db\n"
          "output: comma.model\n",
          f);
    fclose(f);
    assert_int_equal(automl("run comma.yaml --quiet"), 0);
    assert_int_equal(automl("predict comma.model comma.csv --out comma_pred.csv"), 0);
    {
        char *text = slurp(at("comma_pred.csv"));
        int lines = 0, low = 0;
        char *p;

        assert_non_null(text);
        for (p = text; *p; p++)
            lines += *p == '\n';
        low = (int)(strstr(text, "low") != NULL);
        assert_int_equal(lines, 13);
        assert_true(low);
        free(text);
    }

    /* --out naming the input is refused before anything is written. */
    assert_int_equal(automl("predict penguins.model new_penguins.csv --out new_penguins.csv"),
                     2);
    expect_in("err.txt", "would overwrite the data");
    expect_in("new_penguins.csv", "sex,body_mass_g");

    assert_int_equal(automl("predict nothere.model short.csv"), 2);
    assert_int_equal(automl("frobnicate"), 2);
    assert_int_equal(automl("--version"), 0);
    expect_in("out.txt", "automl ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2e_example),
        cmocka_unit_test(test_e2e_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
