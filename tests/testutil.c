/*
 * testutil.c - see testutil.h.
 */
#include "testutil.h"

#include "aml.h"
#include "learner.h"
#include "metric.h"
#include "search.h"
#include "spec.h"
#include "store.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *aml_test_fixture(const char *name)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/fixtures/%s", AML_TEST_DIR, name);
    return path;
}

const char *aml_test_shared(const char *name)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/%s", AML_SHARED_DATASETS, name);
    if (access(path, R_OK) != 0)
        return NULL;
    return path;
}

static size_t count_fields(const char *line)
{
    size_t n = 1;

    for (; *line && *line != '\n'; line++)
        if (*line == ',')
            n++;
    return n;
}

void aml_test_read_matrix(const char *path, double **out, size_t *rows, size_t *cols)
{
    FILE *f = fopen(path, "r");
    char line[1 << 16];
    size_t cap = 1024, n = 0, c;
    double *data;

    if (!f)
        fail_msg("cannot open fixture %s", path);
    if (!fgets(line, sizeof(line), f))
        fail_msg("empty fixture %s", path);
    c = count_fields(line);
    data = malloc(cap * sizeof(double));
    assert_non_null(data);
    while (fgets(line, sizeof(line), f)) {
        char *p = line, *end;
        size_t j;

        if (line[0] == '\n' || line[0] == '\0')
            continue;
        for (j = 0; j < c; j++) {
            if (n == cap) {
                cap *= 2;
                data = realloc(data, cap * sizeof(double));
                assert_non_null(data);
            }
            data[n++] = strtod(p, &end);
            if (end == p)
                fail_msg("bad number in %s near '%.20s'", path, p);
            p = end + (*end == ',');
        }
    }
    fclose(f);
    *out = data;
    *rows = n / c;
    *cols = c;
}

void aml_test_assert_close(double a, double b, double tol, const char *file, int line)
{
    double scale = fabs(b) > 1.0 ? fabs(b) : 1.0;

    if (isnan(a) && isnan(b))
        return;
    if (!(fabs(a - b) <= tol * scale)) {
        fprintf(stderr, "%s:%d: %.17g != %.17g (tol %g)\n", file, line, a, b, tol);
        _fail(file, line);
    }
}

static char tmpdir_path[256];

static void tmpdir_cleanup(void)
{
    char cmd[300];

    if (tmpdir_path[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir_path);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir_path);
    }
}

const char *aml_test_tmpdir(void)
{
    if (!tmpdir_path[0]) {
        snprintf(tmpdir_path, sizeof(tmpdir_path), "/tmp/aml_test_XXXXXX");
        if (!mkdtemp(tmpdir_path))
            fail_msg("mkdtemp failed");
        atexit(tmpdir_cleanup);
    }
    return tmpdir_path;
}

void aml_test_listing(const char *dir, char *out, size_t cap)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    size_t len = 0;

    assert_true(n >= 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            len += (size_t)snprintf(out + len, cap - len, "%s;", names[i]->d_name);
            assert_true(len < cap);
        }
        free(names[i]);
    }
    free(names);
}

double *aml_test_predict(const aml_learner *l, const aml_matrix *X)
{
    double *out = calloc(X->rows * (size_t)aml_learner_outputs(l) + 1, sizeof(double));

    assert_non_null(out);
    assert_int_equal(aml_learner_predict(l, X, out), AML_OK);
    return out;
}

void aml_test_learner_roundtrip(const aml_learner *l, const aml_matrix *X)
{
    aml_learner *back = NULL;
    aml_writer w;
    aml_reader r;
    double *p1, *p2;
    int k = aml_learner_outputs(l);

    aml_writer_init(&w);
    assert_int_equal(aml_learner_save(l, &w), AML_OK);
    aml_reader_init(&r, w.data, w.len);
    assert_int_equal(aml_learner_load(&back, &r), AML_OK);
    assert_int_equal(r.pos, r.len);
    assert_ptr_equal(back->type, l->type);
    assert_int_equal(back->n_features, l->n_features);
    assert_int_equal(aml_learner_outputs(back), k);
    p1 = aml_test_predict(l, X);
    p2 = aml_test_predict(back, X);
    assert_memory_equal(p1, p2, X->rows * (size_t)k * sizeof(double));
    aml_learner_free(back);
    back = NULL;
    aml_reader_init(&r, w.data, w.len - 3);
    assert_int_equal(aml_learner_load(&back, &r), AML_EFORMAT);
    assert_null(back);
    free(p1);
    free(p2);
    aml_writer_dispose(&w);
}

aml_learner *aml_test_knn(int task, long long k, const char *weights, const char *metric)
{
    aml_learner *l = NULL;
    aml_value vk = {.kind = AML_VAL_INT, .i = k};
    aml_value vw = {.kind = AML_VAL_STR, .str = weights};
    aml_value vm = {.kind = AML_VAL_STR, .str = metric};

    assert_int_equal(aml_learner_new(&l, aml_learner_type_find("knn"), (aml_task)task),
                     AML_OK);
    assert_int_equal(aml_learner_set_param(l, "k", &vk), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "weights", &vw), AML_OK);
    assert_int_equal(aml_learner_set_param(l, "metric", &vm), AML_OK);
    return l;
}

double *aml_test_learner_importance(const aml_learner *l)
{
    size_t j, p = l->n_features;
    double *imp = calloc(p + 1, sizeof(double)), s = 0.0;

    assert_non_null(imp);
    assert_int_equal(aml_learner_importance(l, imp), AML_OK);
    for (j = 0; j < p; j++) {
        assert_true(imp[j] >= 0.0);
        s += imp[j];
    }
    assert_true(s == 0.0 || fabs(s - 1.0) < 1e-12);
    return imp;
}

void aml_test_read_xy(const char *name, aml_matrix *X, double **y)
{
    double *raw;
    size_t rows, cols, i, j;

    aml_test_read_matrix(aml_test_fixture(name), &raw, &rows, &cols);
    X->rows = rows;
    X->cols = cols - 1;
    X->data = malloc(rows * (cols - 1) * sizeof(double) + 1);
    *y = malloc(rows * sizeof(double) + 1);
    assert_non_null(X->data);
    assert_non_null(*y);
    for (i = 0; i < rows; i++) {
        for (j = 0; j + 1 < cols; j++)
            X->data[i * (cols - 1) + j] = raw[i * cols + j];
        (*y)[i] = raw[i * cols + cols - 1];
    }
    free(raw);
}

/* ---- specs -------------------------------------------------------------- */

const aml_spec_vocab *aml_test_vocab(void)
{
    static const char *metrics[64], *strategies[32];
    static aml_spec_vocab vocab = {aml_learner_types, metrics, strategies};
    size_t i;

    for (i = 0; aml_metrics[i]; i++) {
        assert_true(i + 1 < sizeof(metrics) / sizeof(metrics[0]));
        metrics[i] = aml_metrics[i]->name;
    }
    metrics[i] = NULL;
    for (i = 0; aml_search_types[i]; i++) {
        assert_true(i + 1 < sizeof(strategies) / sizeof(strategies[0]));
        strategies[i] = aml_search_types[i]->name;
    }
    strategies[i] = NULL;
    return &vocab;
}

aml_spec *aml_test_load_spec_path(const char *path)
{
    aml_spec *spec = NULL;

    if (aml_spec_load(&spec, path, aml_test_vocab()) < 0)
        fail_msg("%s", aml_error_message());
    return spec;
}

aml_spec *aml_test_load_spec(const char *fixture)
{
    return aml_test_load_spec_path(aml_test_fixture(fixture));
}

aml_store *aml_test_fresh_store(const char *name, long long *study)
{
    static char path[600];
    aml_study_info info = {"r", NULL, "classification", "accuracy", 1, 11, NULL, NULL};
    aml_store *st = NULL;

    snprintf(path, sizeof(path), "%s/%s", aml_test_tmpdir(), name);
    unlink(path);
    assert_int_equal(aml_store_open(&st, path, 0), 0);
    assert_int_equal(aml_store_study_create(st, study, &info, 1), 0);
    return st;
}

/* ---- the automl binary -------------------------------------------------- */

static char cli_dir[1024];

const char *aml_cli_dir_setup(const char *name, ...)
{
    char cmd[8192];
    const char *glob;
    size_t used;
    va_list ap;

    snprintf(cli_dir, sizeof(cli_dir), "%s/%s", aml_test_tmpdir(), name);
    used = (size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", cli_dir,
                            cli_dir);
    va_start(ap, name);
    while ((glob = va_arg(ap, const char *)) != NULL && used < sizeof(cmd))
        used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, " && cp '%s/'%s '%s'",
                                 AML_SOURCE_DIR, glob, cli_dir);
    va_end(ap);
    assert_true(used < sizeof(cmd));
    assert_int_equal(system(cmd), 0);
    return cli_dir;
}

const char *aml_cli_dir(void)
{
    return cli_dir;
}

const char *aml_cli_at(const char *name)
{
    static char path[4][2048];
    static int slot;

    slot = (slot + 1) % 4;
    snprintf(path[slot], sizeof(path[slot]), "%s/%s", cli_dir, name);
    return path[slot];
}

int aml_cli_run(const char *args)
{
    char cmd[8192];
    int status;

    snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s > out.txt 2> err.txt", cli_dir,
             AML_BINARY, args);
    status = system(cmd);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

char *aml_cli_slurp(const char *path, long *len)
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
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    if (len)
        *len = n;
    return buf;
}

char *aml_cli_read(const char *path)
{
    char *text = aml_cli_slurp(path, NULL);

    if (!text)
        fail_msg("cannot open %s", path);
    return text;
}

void aml_cli_expect_in(const char *file, const char *needle)
{
    char *text = aml_cli_read(aml_cli_at(file));

    if (!strstr(text, needle))
        fail_msg("%s does not contain '%s':\n%s", file, needle, text);
    free(text);
}
