/*
 * fuzz_model.c - libFuzzer target for the model file loader
 * (trials/model_io.c, and through it every learner's and the
 * preprocessing's load, and the stack's).
 *
 * The first input byte picks the mode.  Even: the rest is a whole file
 * for aml_model_load_buffer (magic, header and checksum are the fuzzer's
 * to get right).  Odd: the rest is a payload that the harness frames with
 * a valid header (version (byte >> 1) % 3 + 1) and checksum, so mutations
 * reach the decoder instead of dying at the checksum.  Any return code is
 * fine; the loader must never crash, leak, read out of bounds or allocate
 * without bound (AddressSanitizer and -rss_limit_mb watch).
 *
 * Seeds: when AML_FUZZ_MODEL_SEEDS names a directory, the harness first
 * writes a small corpus there (run.sh passes the corpus directory): a
 * model of every learner kind on a tiny classification and regression set,
 * a weighted model of three members, a member of fold pipelines and a
 * stacked model with passthrough, each as a raw file and as a framed
 * payload.  Built by tests/fuzz/CMakeLists.txt when AML_FUZZ is on.
 */
#define _GNU_SOURCE /* fmemopen */
#include "aml.h"
#include "model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_LEN 20 /* magic, u32 version, u64 payload length */

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    int i;

    for (i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The payload wrapped in a valid header and checksum (malloc'd, *len set). */
static unsigned char *frame(const uint8_t *payload, size_t n, uint32_t version,
                            size_t *len)
{
    unsigned char *buf = malloc(HEADER_LEN + n + 8);

    if (!buf)
        return NULL;
    memcpy(buf, "AMLMODEL", 8);
    put_le(buf + 8, version, 4);
    put_le(buf + 12, n, 8);
    if (n)
        memcpy(buf + HEADER_LEN, payload, n);
    put_le(buf + HEADER_LEN + n, aml_fnv1a64(buf, HEADER_LEN + n), 8);
    *len = HEADER_LEN + n + 8;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aml_model *m = NULL;

    if (size == 0)
        return 0;
    if (data[0] & 1) {
        size_t len;
        unsigned char *buf =
            frame(data + 1, size - 1, (uint32_t)((data[0] >> 1) % 3 + 1), &len);

        if (buf && aml_model_load_buffer(&m, buf, len) == 0)
            aml_model_free(m);
        free(buf);
    } else if (aml_model_load_buffer(&m, data + 1, size - 1) == 0) {
        aml_model_free(m);
    }
    return 0;
}

/* ------------------------------------------------------------- seeds */

/* 24 rows: a numeric, a categorical and a gappy column; y3 three classes, yr numbers. */
static const char seed_csv[] = "a,colour,b\n"
                               "1.0,red,3\n2.5,blue,\n0.3,red,1\n4.1,green,2\n"
                               "1.7,blue,5\n3.3,red,4\n0.9,green,2\n2.2,blue,\n"
                               "3.8,red,1\n0.1,green,3\n2.9,blue,2\n1.4,red,5\n"
                               "1.1,red,3\n2.6,blue,4\n0.5,red,1\n4.0,green,2\n"
                               "1.8,blue,5\n3.2,red,4\n0.8,green,\n2.1,blue,3\n"
                               "3.9,red,1\n0.2,green,3\n2.8,blue,2\n1.5,red,5\n";
static const char *const class_names[] = {"c0", "c1", "c2"};

static int seed_data(aml_dataset *d, aml_task task)
{
    FILE *fp = fmemopen((void *)seed_csv, sizeof(seed_csv) - 1, "r");
    size_t i;

    memset(d, 0, sizeof(*d));
    if (!fp || aml_frame_read_stream(&d->features, fp, "seed.csv", NULL) < 0) {
        if (fp)
            fclose(fp);
        return -1;
    }
    fclose(fp);
    d->n = aml_frame_rows(d->features);
    d->y = calloc(d->n, sizeof(double));
    d->task = task;
    d->n_classes = task == AML_TASK_CLASSIFICATION ? 3 : 0;
    d->classes = (char **)class_names;
    d->target = "y";
    for (i = 0; d->y && i < d->n; i++)
        d->y[i] = task == AML_TASK_CLASSIFICATION ? (double)(i % 3) : 0.5 * (double)i;
    return d->y ? 0 : -1;
}

static void seed_data_dispose(aml_dataset *d)
{
    aml_frame_free(d->features);
    free(d->y);
}

static int seed_count;

/* Writes m's file twice into dir: raw (mode 0) and its payload framed (mode 5: v3). */
static void seed_write(const char *dir, const aml_model *m)
{
    char path[1024];
    unsigned char *buf;
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/tmp.model", dir);
    if (aml_model_save(m, path) < 0 || !(f = fopen(path, "rb")))
        return;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf + 1, 1, (size_t)n, f) == (size_t)n && n > HEADER_LEN + 8) {
        FILE *out;

        snprintf(path, sizeof(path), "%s/seed_raw_%d", dir, seed_count);
        if ((out = fopen(path, "wb"))) {
            buf[0] = 0;
            fwrite(buf, 1, (size_t)n + 1, out);
            fclose(out);
        }
        snprintf(path, sizeof(path), "%s/seed_framed_%d", dir, seed_count++);
        if ((out = fopen(path, "wb"))) {
            buf[HEADER_LEN] = 5; /* odd: framed; (5 >> 1) % 3 + 1 = 3 */
            fwrite(buf + HEADER_LEN, 1, (size_t)n - HEADER_LEN - 8 + 1, out);
            fclose(out);
        }
    }
    free(buf);
    fclose(f);
    snprintf(path, sizeof(path), "%s/tmp.model", dir);
    remove(path);
}

static int fit_pipe(aml_pipeline *p, const aml_dataset *d, const aml_space *s, size_t l,
                    const size_t *rows, size_t n)
{
    aml_config c;
    aml_rng rng;
    int rc;

    if (aml_config_init(&c, s, l) < 0)
        return -1;
    aml_rng_init(&rng, 1, l);
    rc = aml_pipeline_fit(p, d, s, &c, rows, n, &rng, 1);
    aml_config_dispose(&c);
    return rc;
}

static void seed_member(aml_model *m, const aml_space *s, size_t l, double w,
                        aml_pipeline *p, int n)
{
    aml_config c;

    if (aml_config_init(&c, s, l) == 0) {
        aml_model_add_member(m, s, &c, (long)l, 0.5, w, p, n);
        aml_config_dispose(&c);
    }
}

/* Three weighted members, then the same three under a passthrough stack. */
static void seed_ensembles(const char *dir, const aml_dataset *d, const aml_space *s)
{
    static const char *const meta[] = {"logistic_regression"};
    aml_stack_options o = {1, meta, 1, NULL, 1};
    size_t rows[16], i, n = 0, q = 3 * 3;
    aml_pipeline p[3];
    aml_model *m = NULL;
    double *Z = calloc(d->n * q, sizeof(double));
    int *fold_of = calloc(d->n, sizeof(int));
    aml_stack *st = NULL;
    aml_rng rng;

    for (i = 0; i < d->n && n < 16; i++)
        if (i % 3)
            rows[n++] = i;
    for (i = 0; i < d->n && fold_of; i++)
        fold_of[i] = (int)(i % 2);
    if (!Z || !fold_of || aml_model_new(&m, d, "accuracy") < 0)
        goto out;
    for (i = 0; i < 3; i++)
        if (fit_pipe(&p[i], d, s, i, i == 2 ? rows : NULL, i == 2 ? n : d->n) == 0)
            seed_member(m, s, i, (double)(i + 1), &p[i], 1);
    if (aml_model_n_members(m) != 3)
        goto out;
    seed_write(dir, m);
    for (i = 0; i < 3; i++) {
        double one[24 * 3];
        size_t r;

        aml_model_member_predict(m, (int)i, d->features, one);
        for (r = 0; r < d->n; r++)
            memcpy(Z + r * q + i * 3, one + r * 3, 3 * sizeof(double));
    }
    aml_rng_init(&rng, 2, 0);
    if (aml_stack_fit(&st, &o, AML_TASK_CLASSIFICATION, 3, Z, d->n, q, d->features, d->y,
                      fold_of, 2, &rng, 1, NULL) == 0 &&
        aml_model_set_stack(m, st) == 0 && aml_model_set_summary(m, "stacking", 0.9) == 0)
        seed_write(dir, m);
out:
    aml_model_free(m);
    free(Z);
    free(fold_of);
}

/* One model per learner kind and task, plus the ensembles. */
static void write_seeds(const char *dir)
{
    aml_task task;

    for (task = AML_TASK_CLASSIFICATION; task <= AML_TASK_REGRESSION; task++) {
        aml_space *s = aml_space_new();
        aml_dataset d;
        size_t t;

        if (!s || seed_data(&d, task) < 0) {
            aml_space_free(s);
            continue;
        }
        for (t = 0; aml_learner_types[t]; t++)
            if (aml_learner_types[t]->tasks & AML_TASK_BIT(task))
                aml_space_add_learner(s, aml_learner_types[t]->name);
        for (t = 0; t < s->n_learners; t++) {
            aml_config c;
            aml_model *m = NULL;

            if (aml_config_init(&c, s, t) < 0)
                continue;
            if (aml_model_fit(&m, &d, s, &c, (long)t, "x", 0.5, 1, 1) == 0)
                seed_write(dir, m);
            aml_model_free(m);
            aml_config_dispose(&c);
        }
        if (task == AML_TASK_CLASSIFICATION)
            seed_ensembles(dir, &d, s);
        seed_data_dispose(&d);
        aml_space_free(s);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("AML_FUZZ_MODEL_SEEDS");

    (void)argc;
    (void)argv;
    if (dir && *dir)
        write_seeds(dir);
    return 0;
}
