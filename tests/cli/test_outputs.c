/*
 * test_outputs.c - where the commands' output goes: an --out (or a spec's
 * output:) replaces only a regular file (a symbolic link is written through,
 * a FIFO or a directory is refused before any work), and a failed write to
 * standard output is an error while a reader that went away is not.
 */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(aml_cli_at(name), "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A small study and its model: o.db, o.model (penguins, 2 trials). */
static void setup(void)
{
    aml_cli_dir_setup("outputs", "examples/penguins/penguins.csv", NULL);
    write_file("o.yaml", "study: o\ndata: {train: penguins.csv, target: species}\n"
                         "store: o.db\ncv: {folds: 2, seed: 1}\nsearch: {trials: 2}\n"
                         "learners: {decision_tree: {}}\noutput: o.model\n");
    assert_int_equal(aml_cli_run("run o.yaml --quiet"), 0);
}

static mode_t kind(const char *name)
{
    struct stat st;

    assert_int_equal(lstat(aml_cli_at(name), &st), 0);
    return st.st_mode & S_IFMT;
}

/* A symbolic link stays a link; the file it names receives the output. */
static void test_symlink_written_through(void **state)
{
    char *text;

    (void)state;
    setup();
    write_file("real.csv", "old\n");
    assert_int_equal(symlink("real.csv", aml_cli_at("link.csv")), 0);
    assert_int_equal(aml_cli_run("predict o.model penguins.csv --out link.csv"), 0);
    assert_int_equal(kind("link.csv"), S_IFLNK);
    text = aml_cli_read(aml_cli_at("real.csv"));
    assert_non_null(strstr(text, "species\nAdelie\n"));
    free(text);

    write_file("real.model", "old\n");
    assert_int_equal(symlink("real.model", aml_cli_at("link.model")), 0);
    assert_int_equal(aml_cli_run("export o.db --out link.model"), 0);
    assert_int_equal(kind("link.model"), S_IFLNK);
    assert_int_equal(aml_cli_run("predict real.model penguins.csv"), 0);
    aml_cli_expect_in("out.txt", "species\nAdelie\n");

    assert_int_equal(symlink("real.html", aml_cli_at("link.html")), 0);
    assert_int_equal(aml_cli_run("report o.db --out link.html"), 2); /* dangling */
    aml_cli_expect_in("err.txt", "automl: report: --out link.html is a symbolic link "
                                 "that does not resolve");
}

/* A FIFO or a directory is refused (exit 2, one line naming it), left as it was. */
static void test_special_files_refused(void **state)
{
    static const char *const cmds[] = {
        "predict o.model penguins.csv --out %s", "export o.db --out %s",
        "export o.db --format c --out %s", "report o.db --out %s"};
    char cmd[256], want[128];

    (void)state;
    setup();
    assert_int_equal(mkfifo(aml_cli_at("fifo"), 0644), 0);
    assert_int_equal(mkdir(aml_cli_at("dir"), 0755), 0);
    assert_int_equal(symlink("fifo", aml_cli_at("tofifo")), 0);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        snprintf(cmd, sizeof(cmd), cmds[i], "fifo");
        assert_int_equal(aml_cli_run(cmd), 2);
        snprintf(want, sizeof(want),
                 ": --out fifo is a FIFO (named pipe): only a "
                 "regular file can be replaced by an output\n");
        aml_cli_expect_in("err.txt", want);
        assert_int_equal(kind("fifo"), S_IFIFO);
        snprintf(cmd, sizeof(cmd), cmds[i], "tofifo");
        assert_int_equal(aml_cli_run(cmd), 2);
        aml_cli_expect_in("err.txt", "--out tofifo is a symbolic link to ");
        assert_int_equal(kind("tofifo"), S_IFLNK);
    }
    assert_int_equal(aml_cli_run("predict o.model penguins.csv --out dir"), 2);
    aml_cli_expect_in("err.txt", "automl: predict: --out dir is a directory");
    assert_int_equal(kind("dir"), S_IFDIR);

    /* run: a spec error at the output's place, before any trial */
    write_file("f.yaml", "study: f\ndata: {train: penguins.csv, target: species}\n"
                         "store: f.db\nsearch: {trials: 2}\n"
                         "learners: {decision_tree: {}}\noutput: fifo\n");
    assert_int_equal(aml_cli_run("run f.yaml"), 2);
    aml_cli_expect_in("err.txt", "f.yaml:6:9: output: fifo is a FIFO");
    assert_int_equal(kind("fifo"), S_IFIFO);
    assert_int_equal(access(aml_cli_at("f.db"), F_OK), -1);
}

/* Runs automl args in DIR with stdout a pipe whose reader is already closed. */
static int run_into_closed_pipe(const char *args, int ignore_sigpipe)
{
    char cmd[1024];
    int fd[2], status;
    pid_t pid;

    snprintf(cmd, sizeof(cmd), "cd '%s' && exec '%s' %s 2> err.txt", aml_cli_dir(),
             AML_BINARY, args);
    assert_int_equal(pipe(fd), 0);
    close(fd[0]);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        signal(SIGPIPE, ignore_sigpipe ? SIG_IGN : SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

/*
 * A reader that went away ends every read command as SIGPIPE does, silently,
 * whether SIGPIPE was ignored (then EPIPE) or not; a write that fails for
 * another reason (a full disk) is an error, exit 1.
 */
static void test_stdout_errors(void **state)
{
    static const char *const cmds[] = {"predict o.model penguins.csv", "trials o.db",
                                       "learners"};
    char *err;
    int status;

    (void)state;
    setup();
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        for (int ignore = 0; ignore < 2; ignore++) {
            status = run_into_closed_pipe(cmds[i], ignore);
            assert_true(WIFSIGNALED(status));
            assert_int_equal(WTERMSIG(status), SIGPIPE);
            err = aml_cli_read(aml_cli_at("err.txt"));
            assert_null(strstr(err, "automl:"));
            free(err);
        }
    if (access("/dev/full", W_OK) != 0)
        skip();
    /* The shell opens /dev/full for the redirection; nothing replaces it. */
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        char cmd[1024];

        snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s > /dev/full 2> err.txt",
                 aml_cli_dir(), AML_BINARY, cmds[i]);
        status = system(cmd);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 1);
        aml_cli_expect_in("err.txt", "automl: error writing standard output: No space "
                                     "left on device\n");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symlink_written_through),
        cmocka_unit_test(test_special_files_refused),
        cmocka_unit_test(test_stdout_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
