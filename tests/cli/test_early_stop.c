/*
 * test_early_stop.c - a stop signal (SIGTERM, SIGHUP) that reaches
 * `automl run` before its search loop: while the data are read, and while
 * the store is opened.  The run must end as a search stopped by that
 * signal does (exit 128 + signal, a one-line note), with nothing
 * half-written: no store before it was opened, no model file ever, and a
 * study it opened released as `interrupted` with no trial.
 *
 * Both cases are made deterministic without hooks in the product.  The data
 * file is a named pipe this test writes: the run cannot finish reading
 * until the test closes it, so a signal sent before that lands during the
 * read.  The store is a file the test holds an exclusive SQLite lock on:
 * once the run has it open (seen in /proc/PID/fd) it cannot get past
 * opening the store until the lock goes, so the signal lands there.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Polls for up to this many 10 ms steps before a test gives up. */
#define EARLY_POLLS 3000

static void nap(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};

    nanosleep(&ts, NULL);
}

/* Spec early.yaml: data from `train`, store early.db, model early.model. */
static void write_early_spec(const char *train)
{
    FILE *f = fopen(aml_cli_at("early.yaml"), "w");

    assert_non_null(f);
    fprintf(f,
            "study: e\n"
            "data: {train: %s, target: species, drop: [year]}\n"
            "cv: {folds: 3, seed: 1}\n"
            "search: {strategy: random, trials: 4, seed: 1, parallel: 1}\n"
            "learners: {knn: {}}\n"
            "store: early.db\noutput: early.model\n",
            train);
    fclose(f);
}

/* `automl run early.yaml` in the work directory: stdout to out.txt, stderr to err.txt. */
static pid_t spawn_run(void)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(aml_cli_dir()) != 0 || !freopen("out.txt", "w", stdout) ||
            !freopen("err.txt", "w", stderr))
            _exit(127);
        execl(AML_BINARY, AML_BINARY, "run", "early.yaml", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* The run's end: it must exit (not die by the signal) with 128 + sig. */
static void expect_stopped(pid_t pid, int sig)
{
    int status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status))
        fail_msg("the run died by signal %d instead of stopping cleanly",
                 WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    assert_int_equal(WEXITSTATUS(status), 128 + sig);
}

/* stderr is the one line the signal handler writes. */
static void expect_one_line_note(void)
{
    char *err = aml_cli_read(aml_cli_at("err.txt"));

    assert_string_equal(err, "automl: stopping before the search starts (signal again "
                             "to quit at once)\n");
    free(err);
}

/* Writes it all; 0 when the reader went away (SIGPIPE is ignored). */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w <= 0)
            return 0;
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

/*
 * Opens the named pipe for writing once the run opened it to read (its
 * signal handlers are set by then); fails the test when the run ends first.
 */
static int open_writer(const char *fifo, pid_t pid)
{
    for (int i = 0; i < EARLY_POLLS; i++) {
        int fd = open(aml_cli_at(fifo), O_WRONLY | O_NONBLOCK), status;

        if (fd >= 0) {
            assert_int_equal(fcntl(fd, F_SETFL, 0), 0); /* blocking writes */
            return fd;
        }
        assert_int_equal(errno, ENXIO); /* no reader yet */
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("the run ended before reading the data (see err.txt)");
        nap();
    }
    fail_msg("the run never read the data");
    return -1;
}

/*
 * The signal while the data are read (from a named pipe the test feeds):
 * half the rows, the signal, the rest.  The read goes on (it does not fail
 * with EINTR), then the run stops before opening the store.
 */
static void test_signal_while_reading(void **state)
{
    static const int sigs[] = {SIGTERM, SIGHUP};
    long len;
    char *csv;

    (void)state;
    signal(SIGPIPE, SIG_IGN); /* a run that died must fail the test, not end it */
    aml_cli_dir_setup("early_read", "examples/penguins/penguins.csv", NULL);
    csv = aml_cli_slurp(aml_cli_at("penguins.csv"), &len);
    assert_non_null(csv);
    assert_int_equal(mkfifo(aml_cli_at("pipe.csv"), 0600), 0);
    write_early_spec("pipe.csv");
    for (int i = 0; i < 2; i++) {
        char listing[256];
        pid_t pid = spawn_run();
        int fd = open_writer("pipe.csv", pid);

        assert_true(write_all(fd, csv, (size_t)len / 2));
        assert_int_equal(kill(pid, sigs[i]), 0);
        /* Fails only when the signal killed the run: expect_stopped says so. */
        (void)write_all(fd, csv + len / 2, (size_t)len - (size_t)len / 2);
        close(fd);
        expect_stopped(pid, sigs[i]);
        expect_one_line_note();
        aml_cli_expect_in("out.txt", "search stopped before its first trial: "
                                     "interrupted; nothing was written\n");
        aml_test_listing(aml_cli_dir(), listing, sizeof(listing));
        assert_string_equal(listing, "early.yaml;err.txt;out.txt;penguins.csv;pipe.csv;");
    }
    free(csv);
}

/*
 * True once process pid runs automl and holds the file at path open.  Before
 * its exec the child holds this test's descriptors (SQLite opens them
 * close-on-exec), so the program is checked first.
 */
static int holds_open(pid_t pid, const char *path)
{
    char link[96], target[4096], *exe = realpath(AML_BINARY, NULL);
    ssize_t n;
    int found = 0;

    assert_non_null(exe);
    snprintf(link, sizeof(link), "/proc/%ld/exe", (long)pid);
    n = readlink(link, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = '\0';
    if (strcmp(target, exe) != 0) {
        free(exe);
        return 0;
    }
    free(exe);

    for (int fd = 0; fd < 64 && !found; fd++) {
        snprintf(link, sizeof(link), "/proc/%ld/fd/%d", (long)pid, fd);
        n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        found = strcmp(target, path) == 0;
    }
    return found;
}

static char *query_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    char *out;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

/*
 * The signal while the store is opened: the test holds an exclusive lock on
 * early.db, waits until the run has the file open (it is then past reading
 * and checking the data, and blocked on the lock), signals, and lets go.
 * The run creates its study, then releases it as `interrupted` with no
 * trial; no model is written.
 */
static void test_signal_while_opening_store(void **state)
{
    char *path, *got;
    sqlite3 *db;
    pid_t pid;
    int i;

    (void)state;
    if (access("/proc/self/fd", F_OK) != 0)
        skip(); /* no way to see that the run opened the store */
    aml_cli_dir_setup("early_store", "examples/penguins/penguins.csv", NULL);
    write_early_spec("penguins.csv");
    assert_int_equal(sqlite3_open(aml_cli_at("early.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    path = realpath(aml_cli_at("early.db"), NULL);
    assert_non_null(path);
    pid = spawn_run();
    for (i = 0; i < EARLY_POLLS && !holds_open(pid, path); i++) {
        int status;

        if (waitpid(pid, &status, WNOHANG) == pid)
            fail_msg("the run ended before opening the store");
        nap();
    }
    if (i == EARLY_POLLS)
        fail_msg("the run never opened the store");
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_stopped(pid, SIGTERM);
    expect_one_line_note();
    aml_cli_expect_in("out.txt", "search stopped before its first trial: interrupted; "
                                 "the study is kept with no new trial\n");
    assert_int_equal(access(aml_cli_at("early.model"), F_OK), -1);

    assert_int_equal(sqlite3_open(aml_cli_at("early.db"), &db), SQLITE_OK);
    got = query_text(db, "PRAGMA integrity_check");
    assert_string_equal(got, "ok");
    free(got);
    got = query_text(db, "SELECT stop_reason || '|' || ifnull(run_pid, 'NULL') || '|' || "
                         "(SELECT count(*) FROM trial) FROM study");
    assert_string_equal(got, "interrupted|NULL|0");
    free(got);
    sqlite3_close(db);
    free(path);

    /* The next run goes on from there. */
    assert_int_equal(aml_cli_run("run early.yaml --quiet"), 0);
    aml_cli_expect_in("out.txt", "written to early.model");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signal_while_reading),
        cmocka_unit_test(test_signal_while_opening_store),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
