/*
 * test_report.c - `automl report`: the HTML file it writes, checked as text
 * and rendered by headless Chromium (Debian's chromium package, installed
 * by cmake/setup-debian.sh); the browser part is skipped with a message
 * when chromium is not installed.
 *
 * The expected chart count is worked out from the spec below: two study
 * charts (best so far, every trial) plus one per numeric parameter that
 * took two or more values: logistic_regression.C, knn.k and
 * decision_tree.max_depth (knn.weights is a word, min_samples_leaf fixed).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXPECTED_CHARTS 5

static int sh(const char *cmd_fmt, const char *arg)
{
    char cmd[4096];
    int status;

    snprintf(cmd, sizeof(cmd), cmd_fmt, aml_cli_dir(), arg);
    status = system(cmd);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int count(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static int setup(void **state)
{
    char cmd[4096];

    (void)state;
    aml_cli_dir_setup("report", "examples/penguins/*.csv", NULL);
    snprintf(cmd, sizeof(cmd),
             "sed 's/trials: 50/trials: 24/' '%s/examples/penguins/spec.yaml' > "
             "'%s/spec.yaml' && printf 'ensemble: {fallback: false}\\n' >> '%s/spec.yaml'",
             AML_SOURCE_DIR, aml_cli_dir(), aml_cli_dir());
    assert_int_equal(system(cmd), 0);
    /* fallback off: the section shows the ensemble itself whatever it scores */
    assert_int_equal(aml_cli_run("run spec.yaml --quiet"), 0);
    return 0;
}

/* The file as text: self-contained, every section, the charts, escaped names. */
static void test_report_html(void **state)
{
    char *html;

    (void)state;
    assert_int_equal(aml_cli_run("report penguins.db --out r.html"), 0);
    html = aml_cli_read(aml_cli_at("out.txt"));
    assert_non_null(
        strstr(html, "report on study penguins (24 trials) written to r.html"));
    free(html);
    html = aml_cli_read(aml_cli_at("r.html"));
    assert_int_equal(count(html, "<svg class=\"chart\""), EXPECTED_CHARTS);
    assert_int_equal(count(html, "</svg>"), EXPECTED_CHARTS);
    assert_non_null(strstr(html, "Best accuracy so far"));
    assert_non_null(strstr(html, ">logistic_regression: C</text>"));
    assert_non_null(strstr(html, ">knn: k</text>"));
    assert_non_null(strstr(html, ">decision_tree: max_depth</text>"));
    assert_non_null(strstr(html, "id=\"ensemble\""));
    /* run built the default ensemble: its method, scores and weighted members. */
    assert_non_null(strstr(html, "Method <b>selection</b>: accuracy 0."));
    assert_non_null(strstr(html, "against 0."));
    assert_true(count(html, "<span style=\"display:inline-block;height:0.8em;") >= 1);
    /* The leaderboard's JSON parameters are HTML-escaped. */
    assert_non_null(strstr(html, "<code>{&quot;"));
    /* Nothing is fetched from elsewhere. */
    assert_null(strstr(html, "http://www.w3.org/2000/svg\" src"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "src="));
    assert_int_equal(access(aml_cli_at("r.html.tmp"), F_OK), -1);
    free(html);

    assert_int_equal(aml_cli_run("report penguins.db"), 2);
    assert_int_equal(aml_cli_run("report penguins.db --study nope --out x.html"), 2);
    assert_int_equal(access(aml_cli_at("x.html"), F_OK), -1);
}

/* The page loads in a real browser, runs its script without error, and has its charts. */
static void test_report_chromium(void **state)
{
    char *dom, want[64];

    (void)state;
    if (system("command -v chromium > /dev/null 2>&1") != 0) {
        printf("chromium is not installed (apt-get install chromium, or run "
               "cmake/setup-debian.sh): skipping the browser check\n");
        skip();
    }
    assert_int_equal(aml_cli_run("report penguins.db --out r.html"), 0);
    assert_int_equal(
        sh("cd '%s' && profile=$(mktemp -d) && timeout 120 chromium --headless "
           "--no-sandbox --disable-gpu --disable-background-networking "
           "--disable-component-update --disable-sync --no-first-run "
           "--user-data-dir=\"$profile\" --dump-dom 'file://%s' > dom.html 2> "
           "chromium.err;"
           " rc=$?; rm -rf \"$profile\"; exit $rc",
           aml_cli_at("r.html")),
        0);
    dom = aml_cli_read(aml_cli_at("dom.html"));
    snprintf(want, sizeof(want), "data-charts=\"%d\"", EXPECTED_CHARTS);
    if (!strstr(dom, want))
        fail_msg("the rendered page does not say %s:\n%.400s", want, dom);
    assert_null(strstr(dom, "data-error=\"")); /* the attribute, not the script text */
    assert_int_equal(count(dom, "<svg class=\"chart\""), EXPECTED_CHARTS);
    assert_true(count(dom, "<circle") >= 24); /* a point per trial at least */
    assert_non_null(strstr(dom, "Leaderboard"));
    free(dom);
}

/*
 * The read-only commands leave the store's directory as they found it: no
 * STORE.db-wal or STORE.db-shm after they exit (their outputs go to the
 * parent directory so the listing compares whole).
 */
static void test_reads_leave_directory_alone(void **state)
{
    static const char *const reads[] = {
        "trials penguins.db",
        "trials penguins.db --format json",
        "best penguins.db",
        "studies penguins.db",
        "report penguins.db --out ../ro.html",
        "export penguins.db --trial 0 --out ../ro.model",
        "export penguins.db --out ../ro.c --format c",
    };
    char before[1024], after[1024];

    (void)state;
    assert_int_equal(aml_cli_run("best penguins.db"), 0); /* out.txt, err.txt exist */
    aml_test_listing(aml_cli_dir(), before, sizeof(before));
    assert_null(strstr(before, "-wal"));
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        if (aml_cli_run(reads[i]) != 0)
            fail_msg("automl %s failed", reads[i]);
        aml_test_listing(aml_cli_dir(), after, sizeof(after));
        if (strcmp(after, before) != 0)
            fail_msg("automl %s changed the directory:\n%s\nto\n%s", reads[i], before,
                     after);
    }
}

/* Writes DIR/name.yaml: the penguins search with a strategy and an ensemble section. */
static void write_spec(const char *name, const char *search, const char *ensemble)
{
    char file[64];
    FILE *f;

    snprintf(file, sizeof(file), "%s.yaml", name);
    assert_non_null(f = fopen(aml_cli_at(file), "w"));
    fprintf(f,
            "study: %s\ndata: {train: penguins.csv, target: species, drop: [year]}\n"
            "cv: {folds: 3, stratified: true, seed: 1}\nmetric: accuracy\n"
            "search: %s\nlearners:\n  logistic_regression: {}\n"
            "  random_forest: {n_estimators: {int: [10, 30]}, max_depth: 4}\n"
            "store: %s.db\nensemble: %s\n",
            name, search, name, ensemble);
    fclose(f);
}

/*
 * A halving study: its leaderboard has a resource column ("full" for the
 * trials evaluated on the whole budget, "F (partial)" for the others, full
 * ones ranked first) and a note; its stack names the two layer-1
 * meta-learners and the final one.  A stack left to the defaults names
 * logistic_regression (a classification study); a study with full trials
 * only has no resource column.
 */
static void test_report_resource_and_meta(void **state)
{
    char *html, *first_partial, *last_full;

    (void)state;
    write_spec("h", "{strategy: halving, trials: 30, seed: 2, eta: 3, min_resource: 0.2}",
               "{method: stacking, meta: [logistic_regression, decision_tree], layers: 2,"
               " final: logistic_regression, fallback: false}");
    assert_int_equal(aml_cli_run("run h.yaml --quiet"), 0);
    assert_int_equal(aml_cli_run("report h.db --out h.html"), 0);
    html = aml_cli_read(aml_cli_at("h.html"));
    assert_non_null(strstr(html, "<th>accuracy</th><th>resource</th><th>seconds</th>"));
    assert_non_null(strstr(html, "<td class=\"num\">full</td>"));
    first_partial = strstr(html, " (partial)</td>");
    last_full = strstr(html, "<td class=\"num\">full</td>");
    assert_non_null(first_partial);
    while (strstr(last_full + 1, "<td class=\"num\">full</td>"))
        last_full = strstr(last_full + 1, "<td class=\"num\">full</td>");
    assert_true(last_full < first_partial); /* full trials rank first */
    assert_non_null(strstr(html, "resource: the fraction of the budget"));
    assert_non_null(strstr(html, "Method <b>stacking</b>"));
    assert_non_null(strstr(html, "<p>Meta-learners <b>logistic_regression</b>, "
                                 "<b>decision_tree</b>, then final learner "
                                 "<b>logistic_regression</b> over the members'"));
    free(html);

    write_spec("d", "{strategy: random, trials: 4, seed: 2}",
               "{method: stacking, fallback: false}");
    assert_int_equal(aml_cli_run("run d.yaml --quiet"), 0);
    assert_int_equal(aml_cli_run("report d.db --out d.html"), 0);
    html = aml_cli_read(aml_cli_at("d.html"));
    assert_null(strstr(html, "<th>resource</th>"));
    assert_non_null(strstr(html, "<p>Meta-learner <b>logistic_regression</b> over the "
                                 "members' out-of-fold outputs.</p>"));
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_html),
        cmocka_unit_test(test_report_chromium),
        cmocka_unit_test(test_reads_leave_directory_alone),
        cmocka_unit_test(test_report_resource_and_meta),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
