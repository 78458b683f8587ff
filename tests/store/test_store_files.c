/*
 * test_store_files.c - what the store leaves on disk next to its file.
 *
 * A read-only user of a store (automl trials, best, report, export) must
 * leave the directory as it found it: no STORE.db-wal / STORE.db-shm after
 * it exits, and no disturbance of a writer running beside it.  A store
 * being created by `automl run` must never be seen half-made by a reader
 * racing it: the reader finds no file, or a complete schema.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aml.h"
#include "store.h"

static const char *path_in(const char *dir, const char *name)
{
    static char path[4][512];
    static int turn;
    char *p = path[turn++ % 4];

    if (snprintf(p, sizeof(path[0]), "%s/%s", dir, name) >= (int)sizeof(path[0]))
        fail_msg("path too long: %s/%s", dir, name);
    return p;
}

/* A fresh empty directory under the test's tmpdir. */
static const char *fresh_dir(const char *name)
{
    static char dir[512];
    char cmd[1100];

    snprintf(dir, sizeof(dir), "%s/%s", aml_test_tmpdir(), name);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    assert_int_equal(system(cmd), 0);
    return dir;
}

static long long make_study(aml_store *s, const char *name)
{
    aml_study_info info = {
        name, "metric: accuracy\n", "classification", "accuracy", 1, 42, NULL, NULL};
    long long id = 0;

    assert_int_equal(aml_store_study_create(s, &id, &info, 0), 0);
    return id;
}

static void add_trial(aml_store *s, long long study, long number)
{
    long long id = 0;

    assert_int_equal(aml_store_trial_begin(s, &id, study, number, "ridge", NULL, 0, 1.0),
                     0);
    assert_int_equal(aml_store_trial_finish(s, id, AML_TRIAL_OK, 0.5, NULL, 0, NULL, 2.0),
                     0);
}

static int count_cb(const aml_trial_row *row, void *payload)
{
    (void)row;
    ++*(int *)payload;
    return 0;
}

/* Opens `path` read-only, counts study s's trials, closes; returns the count. */
static int read_count(const char *path)
{
    aml_trial_query q = {"s", 0, 0, NULL, NULL};
    aml_store *r = NULL;
    int n = 0;

    assert_int_equal(aml_store_open(&r, path, 1), 0);
    assert_int_equal(aml_store_trials(r, &q, count_cb, &n), 0);
    aml_store_free(r);
    return n;
}

/* A reader alone leaves exactly the files it found (here: the store only). */
static void test_reader_leaves_no_sidecar_files(void **state)
{
    const char *dir = fresh_dir("alone");
    const char *path = path_in(dir, "x.db");
    aml_store *w = NULL;
    char before[256], after[256];
    char *bytes0, *bytes1;
    long len0 = 0, len1 = 0;

    (void)state;
    assert_int_equal(aml_store_open(&w, path, 0), 0);
    add_trial(w, make_study(w, "s"), 0);
    aml_store_free(w);
    aml_test_listing(dir, before, sizeof(before));
    assert_string_equal(before, "x.db;"); /* the writer cleaned up after itself */
    bytes0 = aml_cli_slurp(path, &len0);

    assert_int_equal(read_count(path), 1);
    aml_test_listing(dir, after, sizeof(after));
    assert_string_equal(after, before);
    /* and the store's bytes are untouched */
    bytes1 = aml_cli_slurp(path, &len1);
    assert_int_equal(len1, len0);
    assert_memory_equal(bytes1, bytes0, (size_t)len0);
    free(bytes0);
    free(bytes1);
}

/*
 * Beside a live writer: readers come and go, the writer keeps writing, and
 * whoever closes last removes the WAL and shared-memory files.
 */
static void test_reader_beside_writer(void **state)
{
    const char *dir = fresh_dir("beside");
    const char *path = path_in(dir, "x.db");
    aml_store *w = NULL, *r = NULL;
    aml_trial_query q = {"s", 0, 0, NULL, NULL};
    long long st;
    char names[256];
    int n = 0;

    (void)state;
    assert_int_equal(aml_store_open(&w, path, 0), 0);
    st = make_study(w, "s");
    add_trial(w, st, 0);
    assert_int_equal(read_count(path), 1); /* a reader opens and closes mid-run */
    add_trial(w, st, 1);                   /* the writer is not disturbed */
    assert_int_equal(read_count(path), 2);

    /* A reader that outlives the writer cleans up at its close. */
    assert_int_equal(aml_store_open(&r, path, 1), 0);
    add_trial(w, st, 2);
    aml_store_free(w);
    assert_int_equal(aml_store_trials(r, &q, count_cb, &n), 0);
    assert_int_equal(n, 3);
    /* Still read-only: a write is refused. */
    {
        aml_study_info other = {"t", "", "regression", "rmse", 0, 1, NULL, NULL};

        assert_int_equal(aml_store_study_create(r, &st, &other, 0), AML_ESTORE);
    }
    assert_non_null(strstr(aml_store_errmsg(r), "readonly"));
    aml_store_free(r);
    aml_test_listing(dir, names, sizeof(names));
    assert_string_equal(names, "x.db;");
}

/*
 * A child creates stores race_0 .. race_{N-1} one after the other while
 * this process polls each path with read-only opens: every attempt must
 * find no file or a whole schema, never an empty or half-made one.
 */
#define RACE_STORES 40

static void race_creator(const char *dir)
{
    for (int i = 0; i < RACE_STORES; i++) {
        char name[32];
        aml_store *w = NULL;

        snprintf(name, sizeof(name), "race_%d.db", i);
        if (aml_store_open(&w, path_in(dir, name), 0) < 0)
            _exit(1);
        make_study(w, "s");
        aml_store_free(w);
    }
    _exit(0);
}

static void test_reader_races_creation(void **state)
{
    const char *dir = fresh_dir("race");
    char dir_copy[512];
    pid_t child;
    int status = -1, missing = 0;

    (void)state;
    snprintf(dir_copy, sizeof(dir_copy), "%s", dir);
    if ((child = fork()) == 0)
        race_creator(dir_copy);
    assert_true(child > 0);
    for (int i = 0; i < RACE_STORES; i++) {
        char name[32];
        const char *path;
        aml_store *r = NULL;
        int rc;

        snprintf(name, sizeof(name), "race_%d.db", i);
        path = path_in(dir_copy, name);
        while ((rc = aml_store_open(&r, path, 1)) == AML_EIO)
            missing++; /* "no such database": not created yet */
        if (rc != 0)
            fail_msg("attempt on %s: %s", name, aml_error_message());
        aml_store_free(r);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(missing > 0); /* the reader did start before the files */
    /* No private file of the creation is left behind.  (A WAL file may be:
     * when the writer and a reader close at the same instant, neither gets
     * the lock that SQLite's clean-up at the last close needs.) */
    {
        char names[2048];

        aml_test_listing(dir_copy, names, sizeof(names));
        assert_null(strstr(names, ".new-"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_leaves_no_sidecar_files),
        cmocka_unit_test(test_reader_beside_writer),
        cmocka_unit_test(test_reader_races_creation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
