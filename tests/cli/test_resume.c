/*
 * test_resume.c - the store under stress through the automl binary: runs
 * killed with SIGKILL at random points and resumed, SIGINT, a changed
 * search refused, readers during a write-heavy run, two runs writing one
 * file, and the query commands' CSV and JSON.
 *
 * The reference for every "same result" check is an uninterrupted run of
 * the same spec into another file; trials are compared as the plain
 * sqlite3 user sees them (number, learner, status, score, parameters).
 * Kill delays come from a seed printed at the start (AML_TEST_SEED
 * overrides it), so a failure can be replayed.
 */
#include "testutil.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KILL_ROUNDS 8
#define KILL_TRIALS 320

/* Writes the penguins spec for study `study`, store `db`, `trials` trials. */
static void write_spec(const char *file, const char *study, const char *db, int trials,
                       const char *knn_k)
{
    FILE *f = fopen(aml_cli_at(file), "w");

    assert_non_null(f);
    fprintf(f,
            "study: %s\n"
            "data:\n  train: penguins.csv\n  target: species\n  drop: [year]\n"
            "cv: {folds: 5, stratified: true, seed: 1}\n"
            "metric: accuracy\n"
            "search: {strategy: random, trials: %d, parallel: 2, seed: 5}\n"
            "learners:\n"
            "  logistic_regression:\n    C: {log_uniform: [1.0e-3, 1.0e3]}\n"
            "  knn:\n    k: {int: %s}\n    weights: [uniform, distance]\n"
            "  decision_tree:\n    max_depth: {int: [1, 20]}\n"
            "store: %s\n",
            study, trials, knn_k, db);
    fclose(f);
}

/* Starts `automl args...` in the work directory, output to files; returns its pid. */
static pid_t start(const char *const *args, const char *out)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        const char *argv[16] = {AML_BINARY};
        int i;

        for (i = 0; args[i] && i < 14; i++)
            argv[i + 1] = args[i];
        argv[i + 1] = NULL;
        /* stderr joins stdout, so a failure's message is in the file. */
        if (chdir(aml_cli_dir()) != 0 || !freopen(out, "w", stdout) || dup2(1, 2) < 0)
            _exit(127);
        execv(AML_BINARY, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int finish(pid_t pid)
{
    int status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* Appends every row of `sql` on `db` as "a|b;" to a malloc'd string. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static int text_cb(void *payload, int n, char **v, char **names)
{
    text *t = payload;

    (void)names;
    for (int i = 0; i < n; i++) {
        const char *x = v[i] ? v[i] : "NULL";
        size_t need = t->len + strlen(x) + 3;

        if (need > t->cap) {
            t->cap = need * 2;
            t->s = realloc(t->s, t->cap);
            assert_non_null(t->s);
        }
        t->len += (size_t)sprintf(t->s + t->len, "%s%s", x, i + 1 < n ? "|" : ";");
    }
    return 0;
}

/* Runs `sql`; NULL on an SQL error when `tolerant`, else the test fails. */
static char *query_as(const char *db, const char *sql, int tolerant)
{
    sqlite3 *h = NULL;
    text t = {calloc(1, 1), 0, 1};
    char *err = NULL;

    assert_int_equal(sqlite3_open_v2(aml_cli_at(db), &h, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    if (sqlite3_exec(h, sql, text_cb, &t, &err) != SQLITE_OK) {
        if (!tolerant)
            fail_msg("%s: %s", sql, err);
        sqlite3_free(err);
        free(t.s);
        t.s = NULL;
    }
    sqlite3_close(h);
    return t.s;
}

static char *query(const char *db, const char *sql)
{
    return query_as(db, sql, 0);
}

/* What a finished trial is, as the user sees it; times excluded. */
#define FINISHED_SQL                                                                     \
    "SELECT number, learner, status, quote(score), params FROM trial_params"             \
    " WHERE study = 'p' AND status IN ('ok', 'failed') ORDER BY number"

static void assert_integrity(const char *db)
{
    char *ok = query(db, "PRAGMA integrity_check; PRAGMA foreign_key_check");

    assert_string_equal(ok, "ok;");
    free(ok);
}

/* Every line of `before` (finished trials) is still in `after`, unchanged. */
static void assert_kept(const char *before, const char *after)
{
    char *copy = strdup(before), *save = NULL;

    for (char *row = strtok_r(copy, ";", &save); row; row = strtok_r(NULL, ";", &save)) {
        char needle[2048];

        snprintf(needle, sizeof(needle), "%s;", row);
        if (!strstr(after, needle))
            fail_msg("finished trial lost or changed after resume: %s", row);
    }
    free(copy);
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

    nanosleep(&ts, NULL);
}

/*
 * Kill -9 at random points, resume each time, then finish: no finished
 * trial is ever lost or changed, the file is always intact, and the end
 * state equals the uninterrupted run's, best included.
 */
static void test_resume_after_sigkill(void **state)
{
    const char *args[] = {"run", "kill.yaml", "--quiet", NULL};
    const char *ref_args[] = {"run", "ref.yaml", "--quiet", NULL};
    unsigned seed = (unsigned)time(NULL);
    char *ref, *before = strdup(""), *after, *best_ref, *best;
    int killed = 0;

    (void)state;
    if (getenv("AML_TEST_SEED"))
        seed = (unsigned)strtoul(getenv("AML_TEST_SEED"), NULL, 10);
    printf("kill delays from seed %u (set AML_TEST_SEED to replay)\n", seed);
    fflush(stdout); /* the children must not inherit a full buffer */
    srand(seed);
    aml_cli_dir_setup("resume", "examples/penguins/penguins.csv", NULL);
    write_spec("ref.yaml", "p", "ref.db", KILL_TRIALS, "[1, 50]");
    write_spec("kill.yaml", "p", "kill.db", KILL_TRIALS, "[1, 50]");
    assert_int_equal(finish(start(ref_args, "ref.txt")), 0);
    ref = query("ref.db", FINISHED_SQL);

    for (int round = 0; round < KILL_ROUNDS; round++) {
        pid_t pid = start(args, "kill.txt");
        /* Short delays, so most rounds die part-way: at start-up, while
         * trials run, or while a batch commits. */
        double delay = 0.02 + 0.3 * rand() / (double)RAND_MAX;
        char *n;
        int code;

        sleep_s(delay);
        kill(pid, SIGKILL);
        code = finish(pid);
        killed += code == 128 + SIGKILL;
        assert_true(code == 128 + SIGKILL || code == 0);
        if (access(aml_cli_at("kill.db"), F_OK) != 0)
            continue; /* killed before the store was created */
        assert_integrity("kill.db");
        n = query_as("kill.db", "SELECT count(*) FROM trial WHERE status = 'ok'", 1);
        if (!n) { /* killed between creating the file and committing the schema */
            n = query("kill.db", "SELECT count(*) FROM sqlite_schema");
            assert_string_equal(n, "0;");
            free(n);
            continue;
        }
        n[strcspn(n, ";")] = '\0';
        printf("round %d: SIGKILL after %.3f s (exit %d), %s trials ok\n", round, delay,
               code, n);
        fflush(stdout);
        free(n);
        after = query("kill.db", FINISHED_SQL);
        assert_kept(before, after);
        assert_kept(after, ref); /* what is finished matches the reference */
        free(before);
        before = after;
    }
    assert_true(killed > 0);
    assert_int_equal(finish(start(args, "kill.txt")), 0);
    assert_integrity("kill.db");
    after = query("kill.db", FINISHED_SQL);
    assert_string_equal(after, ref);
    free(after);
    after = query("kill.db",
                  "SELECT count(*) FROM trial WHERE status NOT IN ('ok', 'failed');"
                  "SELECT stop_reason, run_pid FROM study");
    assert_string_equal(after, "0;budget|NULL;");

    best_ref =
        query("ref.db", "SELECT number, learner, quote(score), params FROM leaderboard"
                        " WHERE rank = 1");
    best =
        query("kill.db", "SELECT number, learner, quote(score), params FROM leaderboard"
                         " WHERE rank = 1");
    assert_string_equal(best, best_ref);
    free(best);
    free(best_ref);
    free(after);
    free(before);
    free(ref);
}

/* Polls until the study has `n` finished trials (or the process ended). */
static void wait_for_trials(const char *db, int n, pid_t pid)
{
    for (int i = 0; i < 2000; i++) {
        char sql[128], *c;
        int status;

        sleep_s(0.01);
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("the run ended before %d trials", n);
        if (access(aml_cli_at(db), F_OK) != 0)
            continue;
        snprintf(sql, sizeof(sql), "SELECT count(*) >= %d FROM trial WHERE status = 'ok'",
                 n);
        if (!(c = query_as(db, sql, 1))) /* the schema is not there yet */
            continue;
        if (strcmp(c, "1;") == 0) {
            free(c);
            return;
        }
        free(c);
    }
    fail_msg("no progress in the run");
}

/* SIGINT: exit 130, nothing left running, the stop reason stored; a resume finishes. */
static void test_resume_after_sigint(void **state)
{
    const char *args[] = {"run", "int.yaml", NULL};
    const char *ref_args[] = {"run", "ref.yaml", "--quiet", NULL};
    char *ref, *got;
    pid_t pid;

    (void)state;
    aml_cli_dir_setup("resume", "examples/penguins/penguins.csv", NULL);
    write_spec("ref.yaml", "p", "ref.db", 240, "[1, 50]");
    write_spec("int.yaml", "p", "int.db", 240, "[1, 50]");
    assert_int_equal(finish(start(ref_args, "ref.txt")), 0);
    ref = query("ref.db", FINISHED_SQL);

    pid = start(args, "int.txt");
    wait_for_trials("int.db", 16, pid);
    kill(pid, SIGINT);
    assert_int_equal(finish(pid), 130);
    assert_integrity("int.db");
    got = query("int.db", "SELECT count(*) FROM trial WHERE status = 'running';"
                          "SELECT stop_reason, run_pid FROM study");
    assert_string_equal(got, "0;interrupted|NULL;");
    free(got);
    aml_cli_expect_in("int.txt", "search stopped: interrupted");
    assert_int_equal(access(aml_cli_at("penguins.model"), F_OK), -1); /* no export */

    assert_int_equal(aml_cli_run("run int.yaml"), 0);
    aml_cli_expect_in("out.txt", "resuming study p:");
    got = query("int.db", FINISHED_SQL);
    assert_string_equal(got, ref);
    free(got);
    free(ref);
}

/* A changed space is refused with what changed; --fresh replaces the study. */
static void test_resume_refuses_changed_search(void **state)
{
    (void)state;
    aml_cli_dir_setup("resume", "examples/penguins/penguins.csv", NULL);
    write_spec("a.yaml", "p", "c.db", 16, "[1, 50]");
    write_spec("b.yaml", "p", "c.db", 16, "[1, 30]");
    assert_int_equal(aml_cli_run("run a.yaml --quiet"), 0);
    assert_int_equal(aml_cli_run("run b.yaml --quiet"), 2);
    aml_cli_expect_in("err.txt", "study 'p' in c.db ran a different search");
    aml_cli_expect_in("err.txt", "learner knn: k int[1, 50]");
    aml_cli_expect_in("err.txt", "-> k int[1, 30]");
    aml_cli_expect_in("err.txt", "--fresh");
    assert_int_equal(aml_cli_run("run b.yaml --quiet --fresh"), 0);
    /* A larger budget is not a different search: it continues. */
    write_spec("b.yaml", "p", "c.db", 24, "[1, 30]");
    assert_int_equal(aml_cli_run("run b.yaml"), 0);
    aml_cli_expect_in("out.txt", "resuming study p: 16 trials stored");
    aml_cli_expect_in("out.txt", "24 trials (16 from the store)");
}

/*
 * Readers during a write-heavy run: `automl trials` and a plain sqlite3
 * connection read over and over while the run commits; none fails (no
 * "database is locked"), and a second run on another study in the same
 * file completes beside the first.
 */
static void test_resume_concurrent(void **state)
{
    const char *a_args[] = {"run", "a.yaml", "--quiet", NULL};
    const char *b_args[] = {"run", "b.yaml", "--quiet", NULL};
    pid_t a, b;
    int reads = 0, status;
    char *got;

    (void)state;
    aml_cli_dir_setup("resume", "examples/penguins/penguins.csv", NULL);
    write_spec("a.yaml", "a", "shared.db", 240, "[1, 50]");
    write_spec("b.yaml", "b", "shared.db", 160, "[1, 50]");
    a = start(a_args, "a.txt");
    b = start(b_args, "b.txt");
    while (waitpid(a, &status, WNOHANG) == 0) {
        if (access(aml_cli_at("shared.db"), F_OK) == 0) {
            int code = aml_cli_run("trials shared.db --study a --top 5");
            char *err = aml_cli_read(aml_cli_at("err.txt")), *n;

            /* Only the first instants, before the run commits its study, may
             * miss it; the store appears with its whole schema (never "no
             * schema") and nothing may be "locked". */
            if (code != 0 && !strstr(err, "no study 'a'"))
                fail_msg("automl trials failed during a run:\n%s", err);
            reads += code == 0;
            free(err);
            if ((n = query_as("shared.db", "SELECT count(*) FROM trial_params", 1)))
                free(n);
            else
                assert_true(reads == 0);
        }
        sleep_s(0.02);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *out = aml_cli_read(aml_cli_at("a.txt"));

        fail_msg("run a failed (status %d):\n%s", status, out ? out : "");
    }
    if (finish(b) != 0) {
        char *out = aml_cli_read(aml_cli_at("b.txt"));

        fail_msg("run b failed:\n%s", out ? out : "");
    }
    assert_true(reads > 3);
    got =
        query("shared.db", "SELECT study, count(*), sum(status = 'ok') FROM trial_params"
                           " GROUP BY study ORDER BY study; PRAGMA integrity_check");
    assert_string_equal(got, "a|240|240;b|160|160;ok;");
    free(got);
}

/* Checks a JSON export with SQLite's own parser; returns "valid|length|first is best". */
static const char *json_check(const char *json)
{
    static char out[64];
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;

    assert_int_equal(sqlite3_open_v2(aml_cli_at("q.db"), &h, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(h,
                           "SELECT json_valid(?1), json_array_length(?1),"
                           " json_extract(?1, '$[0].number') = (SELECT number"
                           " FROM leaderboard WHERE rank = 1)",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, sizeof(out), "%d|%d|%d", sqlite3_column_int(st, 0),
             sqlite3_column_int(st, 1), sqlite3_column_int(st, 2));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

/* CSV and JSON of the query commands, parsed back by SQLite itself. */
static void test_query_formats(void **state)
{
    char *json;

    (void)state;
    aml_cli_dir_setup("resume", "examples/penguins/penguins.csv", NULL);
    write_spec("a.yaml", "p", "q.db", 16, "[1, 50]");
    assert_int_equal(aml_cli_run("run a.yaml --quiet"), 0);

    assert_int_equal(aml_cli_run("trials q.db --top 3 --format json"), 0);
    json = aml_cli_read(aml_cli_at("out.txt"));
    /* Valid JSON, three trials, best first (as the leaderboard view ranks). */
    assert_string_equal(json_check(json), "1|3|1");
    free(json);

    assert_int_equal(aml_cli_run("trials q.db --format csv --status ok --learner knn"),
                     0);
    aml_cli_expect_in("out.txt",
                      "number,learner,status,score,seconds,params,fold_scores,message,"
                      "t_start,t_end,resource\n");
    aml_cli_expect_in("out.txt", ",knn,ok,");
    aml_cli_expect_in("out.txt", "\"{\"\"k\"\":");
    assert_int_equal(aml_cli_run("best q.db --format json"), 0);
    aml_cli_expect_in("out.txt", "{\"number\":");
    assert_int_equal(aml_cli_run("studies q.db --format csv"), 0);
    aml_cli_expect_in("out.txt", "\np,classification,accuracy,1,16,16,0,0,0,");
    assert_int_equal(aml_cli_run("trials q.db --status done"), 2);
    aml_cli_expect_in("err.txt", "status 'done' is none of");
    assert_int_equal(aml_cli_run("trials q.db --format xml"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_after_sigkill),
        cmocka_unit_test(test_resume_after_sigint),
        cmocka_unit_test(test_resume_refuses_changed_search),
        cmocka_unit_test(test_resume_concurrent),
        cmocka_unit_test(test_query_formats),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
