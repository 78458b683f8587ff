/*
 * test_model.c - the model file: round trips for every learner kind,
 * clean errors for truncated, corrupted and foreign files, and prediction
 * input matched by column name.
 */
#include "testutil.h"

#include "aml.h"
#include "model.h"
#include "runner.h"
#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static aml_spec *load_spec(const char *name)
{
    const char *metrics[16], *strategies[8];
    aml_spec_vocab vocab = {aml_learner_types, metrics, strategies};
    aml_spec *spec = NULL;
    size_t i;

    for (i = 0; aml_metrics[i]; i++)
        metrics[i] = aml_metrics[i]->name;
    metrics[i] = NULL;
    for (i = 0; aml_search_types[i]; i++)
        strategies[i] = aml_search_types[i]->name;
    strategies[i] = NULL;
    if (aml_spec_load(&spec, aml_test_fixture(name), &vocab) < 0)
        fail_msg("%s", aml_error_message());
    return spec;
}

/* A path in the test's temporary directory; four live at a time. */
static const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int slot;

    slot = (slot + 1) % 4;
    snprintf(path[slot], sizeof(path[slot]), "%s/%s", aml_test_tmpdir(), name);
    return path[slot];
}

static const char *new_penguins(void)
{
    return AML_SOURCE_DIR "/examples/penguins/new_penguins.csv";
}

/* Fits, saves and reloads one configuration per learner; predictions agree bit for bit.
 */
static void round_trip(const char *spec_name, const char *predict_csv, size_t rows)
{
    aml_spec *spec = load_spec(spec_name);
    aml_dataset *d = NULL;
    aml_search *search = NULL;
    size_t l;

    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(aml_search_new(&search, &aml_search_random, spec->space, 7), 0);
    for (l = 0; l < spec->space->n_learners; l++) {
        aml_model *m = NULL, *back = NULL;
        aml_frame *f = NULL;
        aml_config c;
        double *p1, *p2;
        long t;
        size_t n;

        /* Ask until the strategy proposes learner l. */
        for (t = 0;; t++) {
            assert_int_equal(aml_search_ask(search, t, &c), 0);
            if (c.learner == l)
                break;
            aml_config_dispose(&c);
        }
        assert_int_equal(aml_model_fit(&m, d, spec->space, &c, t, "accuracy", 0.5, 1, 2),
                         0);
        assert_int_equal(aml_model_save(m, tmp_path("m.model")), 0);
        assert_int_equal(aml_model_load(&back, tmp_path("m.model")), 0);
        assert_string_equal(aml_model_learner(back), spec->space->learners[l].name);

        if (aml_model_read_csv(&f, back, predict_csv) < 0)
            fail_msg("%s", aml_error_message());
        n = aml_frame_rows(f);
        assert_int_equal(n, rows);
        p1 = calloc(n * (size_t)aml_model_outputs(m), sizeof(double));
        p2 = calloc(n * (size_t)aml_model_outputs(m), sizeof(double));
        assert_int_equal(aml_model_predict(m, f, p1), 0);
        assert_int_equal(aml_model_predict(back, f, p2), 0);
        assert_memory_equal(p1, p2, n * (size_t)aml_model_outputs(m) * sizeof(double));

        free(p1);
        free(p2);
        aml_frame_free(f);
        aml_model_free(m);
        aml_model_free(back);
        aml_config_dispose(&c);
    }
    aml_search_free(search);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

static void test_model_round_trip_classification(void **state)
{
    (void)state;
    round_trip("runner/penguins.yaml", new_penguins(), 12);
}

static void test_model_round_trip_regression(void **state)
{
    (void)state;
    /* The regression model needs species, which new_penguins.csv lacks. */
    round_trip("runner/regression.yaml", AML_SOURCE_DIR "/examples/penguins/penguins.csv",
               344);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_all(const char *path, const unsigned char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static void expect_load_error(const char *path, const char *needle)
{
    aml_model *m = NULL;

    assert_int_equal(aml_model_load(&m, path), AML_EFORMAT);
    assert_null(m);
    if (!strstr(aml_error_message(), needle))
        fail_msg("'%s' does not mention '%s'", aml_error_message(), needle);
}

static void save_one(const char *path)
{
    aml_spec *spec = load_spec("runner/penguins.yaml");
    aml_dataset *d = NULL;
    aml_model *m = NULL;
    aml_config c;

    assert_int_equal(aml_dataset_load(&d, spec), 0);
    assert_int_equal(aml_config_init(&c, spec->space, 2), 0); /* decision_tree */
    c.params[0].value.kind = AML_VAL_INT;
    c.params[0].value.i = 4;
    assert_int_equal(aml_model_fit(&m, d, spec->space, &c, 0, "accuracy", 0.9, 1, 1), 0);
    assert_int_equal(aml_model_save(m, path), 0);
    aml_model_free(m);
    aml_config_dispose(&c);
    aml_dataset_free(d);
    aml_spec_free(spec);
}

static void test_model_rejects_damaged_files(void **state)
{
    const char *good = tmp_path("good.model");
    const char *bad = tmp_path("bad.model");
    unsigned char *buf;
    size_t len, cut;

    (void)state;
    save_one(good);
    buf = read_all(good, &len);

    /* Every truncation fails cleanly, never crashes. */
    for (cut = 0; cut < len; cut += (cut < 64 ? 1 : 97)) {
        write_all(bad, buf, cut);
        {
            aml_model *m = NULL;

            assert_true(aml_model_load(&m, bad) < 0);
            assert_null(m);
        }
    }
    write_all(bad, buf, len / 2);
    expect_load_error(bad, "truncated");

    /* One flipped bit anywhere in the payload is caught by the checksum. */
    buf[len / 2] ^= 0x10;
    write_all(bad, buf, len);
    expect_load_error(bad, "checksum");
    buf[len / 2] ^= 0x10;

    /* A newer format version is refused with both versions named. */
    buf[8] = 99;
    write_all(bad, buf, len);
    expect_load_error(bad, "version 99");
    free(buf);

    expect_load_error(new_penguins(), "not an automl model file");
}

static void test_model_missing_column_named(void **state)
{
    const char *model = tmp_path("col.model");
    const char *csv = tmp_path("missing_col.csv");
    aml_model *m = NULL;
    aml_frame *f = NULL;
    FILE *out;

    (void)state;
    save_one(model);
    out = fopen(csv, "w");
    assert_non_null(out);
    fputs("island,bill_length_mm,bill_depth_mm,flipper_length_mm,sex\n", out);
    fputs("Dream,40.1,18.2,190,male\n", out);
    fclose(out);

    assert_int_equal(aml_model_load(&m, model), 0);
    if (aml_model_read_csv(&f, m, csv) < 0)
        fail_msg("%s", aml_error_message());
    {
        double p[3];

        assert_int_equal(aml_model_predict(m, f, p), AML_EINVAL);
        assert_non_null(strstr(aml_error_message(), "body_mass_g"));
    }
    aml_frame_free(f);
    aml_model_free(m);
}

/* Reads the numeric fields after the first `skip` of each data line of a CSV. */
static double *read_pred_csv(const char *path, size_t skip, size_t *count)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    double *v = NULL;
    size_t n = 0, cap = 0;

    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f)); /* header */
    while (fgets(line, sizeof(line), f)) {
        char *p = line;
        size_t field = 0;

        while (*p && *p != '\n') {
            char *end;

            if (field++ >= skip) {
                if (n == cap) {
                    cap = cap ? 2 * cap : 256;
                    v = realloc(v, cap * sizeof(double));
                    assert_non_null(v);
                }
                v[n++] = strtod(p, &end);
                assert_true(end != p);
                p = end;
            } else {
                p += strcspn(p, ",\n");
            }
            p += *p == ',';
        }
    }
    fclose(f);
    *count = n;
    return v;
}

/* Loads an old model file and predicts what the version that wrote it predicted. */
static void check_old(const char *model, const char *csv, const char *pred, size_t skip,
                      const char *learner)
{
    aml_model *m = NULL;
    aml_frame *f = NULL;
    double *want, *got;
    size_t n, i;

    if (aml_model_load(&m, aml_test_fixture(model)) < 0)
        fail_msg("%s", aml_error_message());
    assert_int_equal(aml_model_n_members(m), 1);
    assert_int_equal(aml_model_member_n_pipes(m, 0), 1);
    assert_true(aml_model_member_weight(m, 0) == 1.0);
    assert_int_equal(aml_model_member_trial(m, 0), 0);
    assert_string_equal(aml_model_learner(m), learner);
    assert_string_equal(aml_model_member_learner(m, 0), learner);
    assert_string_equal(aml_model_method(m), "none");
    assert_null(aml_model_stack(m));
    if (aml_model_read_csv(&f, m, csv) < 0)
        fail_msg("%s", aml_error_message());
    want = read_pred_csv(aml_test_fixture(pred), skip, &n);
    assert_int_equal(n, aml_frame_rows(f) * (size_t)aml_model_outputs(m));
    got = calloc(n, sizeof(double));
    assert_int_equal(aml_model_predict(m, f, got), 0);
    for (i = 0; i < n; i++)
        assert_close(got[i], want[i], 1e-9); /* the CLI printed 10 digits */
    free(want);
    free(got);
    aml_frame_free(f);
    aml_model_free(m);
}

static void test_model_loads_old_versions(void **state)
{
    (void)state;
    check_old("model/v2_clf.model", new_penguins(), "model/v2_clf_pred.csv", 1,
              "decision_tree");
    check_old("model/v1_clf.model", new_penguins(), "model/v2_clf_pred.csv", 1,
              "decision_tree");
    check_old("model/v2_reg.model", AML_SOURCE_DIR "/examples/penguins/penguins.csv",
              "model/v2_reg_pred.csv", 0, "ridge");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_round_trip_classification),
        cmocka_unit_test(test_model_round_trip_regression),
        cmocka_unit_test(test_model_rejects_damaged_files),
        cmocka_unit_test(test_model_missing_column_named),
        cmocka_unit_test(test_model_loads_old_versions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
