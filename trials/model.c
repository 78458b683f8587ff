/*
 * model.c - building, saving, loading and applying the model file (see model.h).
 */
#include "model.h"
#include "aml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MODEL_MAGIC "AMLMODEL"
#define MODEL_MAGIC_LEN 8
#define MODEL_HEADER_LEN (MODEL_MAGIC_LEN + 4 + 8)
/* A sanity bound on files we try to load (1 TiB): larger is surely corrupt. */
#define MODEL_MAX_BYTES ((uint64_t)1 << 40)
#define MODEL_MAX_CLASSES (1u << 20)

struct aml_model {
    aml_task task;
    char *target;
    int n_classes;
    char **classes;
    int has_missing; /* 0: the reader's default tokens */
    uint32_t n_missing;
    char **missing;
    char decimal;               /* 0 or '.', or ',' */
    aml_csv_colmissing *colmiss; /* strings owned (cast away from const) */
    uint32_t n_colmiss;
    uint32_t version;           /* of the file it was loaded from */
    char *metric;
    double score;
    long trial;
    char *learner;
    char *params;
    aml_pipeline pipe;
};

static void model_free_colmiss(aml_model *m)
{
    uint32_t i;
    size_t t;

    for (i = 0; m->colmiss && i < m->n_colmiss; i++) {
        for (t = 0; m->colmiss[i].tokens && t < m->colmiss[i].n_tokens; t++)
            free((char *)m->colmiss[i].tokens[t]);
        free((char **)m->colmiss[i].tokens);
        free((char *)m->colmiss[i].name);
    }
    free(m->colmiss);
}

void aml_model_free(aml_model *m)
{
    int k;

    if (!m)
        return;
    for (k = 0; m->classes && k < m->n_classes; k++)
        free(m->classes[k]);
    free(m->classes);
    for (k = 0; m->missing && k < (int)m->n_missing; k++)
        free(m->missing[k]);
    free(m->missing);
    model_free_colmiss(m);
    free(m->target);
    free(m->metric);
    free(m->learner);
    free(m->params);
    aml_pipeline_dispose(&m->pipe);
    free(m);
}

static int model_copy_meta(aml_model *m, const aml_dataset *d, const aml_space *s,
                           const aml_config *c, const char *metric)
{
    char buf[1024];
    int k;

    aml_config_format(c, buf, sizeof(buf));
    m->task = d->task;
    m->n_classes = d->task == AML_TASK_CLASSIFICATION ? d->n_classes : 0;
    if (!(m->target = aml_strdup(d->target)) || !(m->metric = aml_strdup(metric)) ||
        !(m->learner = aml_strdup(s->learners[c->learner].name)) ||
        !(m->params = aml_strdup(buf)))
        return AML_ENOMEM;
    if (m->n_classes == 0)
        return AML_OK;
    if (!(m->classes = aml_calloc((size_t)m->n_classes, sizeof(char *))))
        return AML_ENOMEM;
    for (k = 0; k < m->n_classes; k++)
        if (!(m->classes[k] = aml_strdup(d->classes[k])))
            return AML_ENOMEM;
    return AML_OK;
}

int aml_model_fit(aml_model **out, const aml_dataset *d, const aml_space *s,
                  const aml_config *c, long trial, const char *metric, double score,
                  uint64_t seed, int threads)
{
    aml_model *m = aml_calloc(1, sizeof(*m));
    aml_rng trial_rng, rng;
    int rc;

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    m->score = score;
    m->trial = trial;
    if ((rc = model_copy_meta(m, d, s, c, metric)) < 0)
        goto fail;

    /* The refit draws from a stream no fold of any trial uses. */
    aml_rng_init(&trial_rng, seed, (uint64_t)trial);
    aml_rng_child(&rng, &trial_rng, UINT64_MAX);
    if ((rc = aml_pipeline_fit(&m->pipe, d, s, c, NULL, d->n, &rng, threads)) < 0)
        goto fail;
    *out = m;
    return AML_OK;

fail:
    aml_model_free(m);
    return rc;
}

int aml_model_set_missing(aml_model *m, char *const *missing, size_t n)
{
    size_t i;

    if (!missing)
        return AML_OK;
    if (n > MODEL_MAX_CLASSES)
        return aml_error_set(AML_EINVAL, "too many missing-value tokens");
    if (!(m->missing = aml_calloc(n, sizeof(char *))))
        return AML_ENOMEM;
    m->has_missing = 1;
    for (i = 0; i < n; i++, m->n_missing++)
        if (!(m->missing[i] = aml_strdup(missing[i])))
            return AML_ENOMEM;
    return AML_OK;
}

int aml_model_set_reading(aml_model *m, char decimal, const aml_spec_colmissing *cols,
                          size_t n)
{
    size_t i, t;

    m->decimal = decimal == ',' ? ',' : '.';
    if (n > MODEL_MAX_CLASSES)
        return aml_error_set(AML_EINVAL, "too many per-column missing lists");
    if (n && !(m->colmiss = aml_calloc(n, sizeof(*m->colmiss))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++, m->n_colmiss++) {
        char **tokens = aml_calloc(cols[i].n_tokens + 1, sizeof(char *));

        m->colmiss[i].tokens = (const char *const *)tokens;
        if (!tokens || !(m->colmiss[i].name = aml_strdup(cols[i].column)))
            return AML_ENOMEM;
        for (t = 0; t < cols[i].n_tokens; t++, m->colmiss[i].n_tokens++)
            if (!(tokens[t] = aml_strdup(cols[i].tokens[t])))
                return AML_ENOMEM;
    }
    return AML_OK;
}

static void model_write_reading(const aml_model *m, aml_writer *w)
{
    uint32_t i;
    size_t t;

    aml_put_u8(w, (uint8_t)(m->decimal == ',' ? ',' : '.'));
    aml_put_u32(w, m->n_colmiss);
    for (i = 0; i < m->n_colmiss; i++) {
        aml_put_str(w, m->colmiss[i].name);
        aml_put_u32(w, (uint32_t)m->colmiss[i].n_tokens);
        for (t = 0; t < m->colmiss[i].n_tokens; t++)
            aml_put_str(w, m->colmiss[i].tokens[t]);
    }
}

static int model_read_reading(aml_model *m, aml_reader *r)
{
    uint8_t decimal;
    uint32_t n, i, k, t;
    int rc;

    if ((rc = aml_get_u8(r, &decimal)) < 0 || (rc = aml_get_u32(r, &n)) < 0)
        return rc;
    if ((decimal != '.' && decimal != ',') || (rc = aml_reader_need(r, n, 8)) < 0)
        return aml_error_set(AML_EFORMAT, "corrupt reading options in model");
    m->decimal = (char)decimal;
    if (n && !(m->colmiss = aml_calloc(n, sizeof(*m->colmiss))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++, m->n_colmiss++) {
        char *name = NULL, **tokens;

        if ((rc = aml_get_str(r, &name)) < 0 || (m->colmiss[i].name = name, !name) ||
            (rc = aml_get_u32(r, &k)) < 0 || (rc = aml_reader_need(r, k, 4)) < 0)
            return rc < 0 ? rc : aml_error_set(AML_EFORMAT, "corrupt column name in model");
        if (!(tokens = aml_calloc((size_t)k + 1, sizeof(char *))))
            return AML_ENOMEM;
        m->colmiss[i].tokens = (const char *const *)tokens;
        for (t = 0; t < k; t++, m->colmiss[i].n_tokens++)
            if ((rc = aml_get_str(r, &tokens[t])) < 0 || !tokens[t])
                return rc < 0 ? rc : aml_error_set(AML_EFORMAT, "corrupt token in model");
    }
    return AML_OK;
}

static int model_write_payload(const aml_model *m, aml_writer *w)
{
    uint32_t i;
    int k, rc;

    aml_put_u32(w, (uint32_t)m->task);
    aml_put_str(w, m->target);
    aml_put_u32(w, (uint32_t)m->n_classes);
    for (k = 0; k < m->n_classes; k++)
        aml_put_str(w, m->classes[k]);
    aml_put_u8(w, (uint8_t)m->has_missing);
    aml_put_u32(w, m->n_missing);
    for (i = 0; i < m->n_missing; i++)
        aml_put_str(w, m->missing[i]);
    model_write_reading(m, w);
    aml_put_str(w, m->metric);
    aml_put_f64(w, m->score);
    aml_put_i64(w, m->trial);
    aml_put_str(w, m->learner);
    aml_put_str(w, m->params);
    if (w->failed)
        return AML_ENOMEM;
    if ((rc = aml_prep_save(m->pipe.prep, w)) < 0 ||
        (rc = aml_learner_save(m->pipe.learner, w)) < 0)
        return rc;
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int model_encode(const aml_model *m, aml_writer *w)
{
    aml_writer payload;
    int rc;

    aml_writer_init(&payload);
    if ((rc = model_write_payload(m, &payload)) == AML_OK) {
        aml_put_bytes(w, MODEL_MAGIC, MODEL_MAGIC_LEN);
        aml_put_u32(w, AML_MODEL_VERSION);
        aml_put_u64(w, payload.len);
        aml_put_bytes(w, payload.data, payload.len);
        aml_put_u64(w, aml_fnv1a64(w->data, w->len));
        rc = w->failed ? AML_ENOMEM : AML_OK;
    }
    aml_writer_dispose(&payload);
    return rc;
}

/* Writes bytes to path through a temporary file and a rename. */
static int model_write_file(const char *path, const void *data, size_t len)
{
    size_t plen = strlen(path) + 16;
    char *tmp = aml_malloc(plen);
    FILE *f;
    int ok;

    if (!tmp)
        return AML_ENOMEM;
    snprintf(tmp, plen, "%s.tmp%ld", path, (long)getpid());
    if (!(f = fopen(tmp, "wb"))) {
        int rc = aml_error_set(AML_EIO, "%s: %s", path, strerror(errno));

        free(tmp);
        return rc;
    }
    ok = fwrite(data, 1, len, f) == len;
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fileno(f)) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int rc = aml_error_set(AML_EIO, "%s: %s", path, strerror(errno));

        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    return AML_OK;
}

int aml_model_save(const aml_model *m, const char *path)
{
    aml_writer w;
    int rc;

    aml_writer_init(&w);
    if ((rc = model_encode(m, &w)) == AML_OK)
        rc = model_write_file(path, w.data, w.len);
    aml_writer_dispose(&w);
    return rc;
}

static int model_read_file(unsigned char **out, size_t *len, const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    long size;

    if (!f)
        return aml_error_set(AML_EIO, "%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return aml_error_set(AML_EIO, "%s: cannot determine the file size", path);
    }
    if ((uint64_t)size > MODEL_MAX_BYTES || !(data = aml_malloc((size_t)size))) {
        fclose(f);
        return aml_error_set(AML_EFORMAT, "%s: not a model file (too large)", path);
    }
    if (fread(data, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(data);
        return aml_error_set(AML_EIO, "%s: read error", path);
    }
    fclose(f);
    *out = data;
    *len = (size_t)size;
    return AML_OK;
}

/* Checks magic, version, length and checksum; on success r covers the payload. */
static int model_check_frame(aml_reader *r, uint32_t *out_version,
                             const unsigned char *data, size_t len, const char *path)
{
    uint32_t version;
    uint64_t plen, sum;
    aml_reader h;

    if (len < MODEL_HEADER_LEN + 8 || memcmp(data, MODEL_MAGIC, MODEL_MAGIC_LEN) != 0)
        return aml_error_set(AML_EFORMAT, "%s: not an automl model file", path);
    aml_reader_init(&h, data + MODEL_MAGIC_LEN, len - MODEL_MAGIC_LEN);
    aml_get_u32(&h, &version);
    aml_get_u64(&h, &plen);
    if (version < 1 || version > AML_MODEL_VERSION)
        return aml_error_set(AML_EFORMAT, "%s: model format version %u, this automl reads %u",
                             path, version, AML_MODEL_VERSION);
    if (plen != len - MODEL_HEADER_LEN - 8)
        return aml_error_set(AML_EFORMAT, "%s: model file is truncated or padded", path);
    aml_reader_init(&h, data + len - 8, 8);
    aml_get_u64(&h, &sum);
    if (sum != aml_fnv1a64(data, len - 8))
        return aml_error_set(AML_EFORMAT, "%s: model file is corrupted (checksum mismatch)",
                             path);
    aml_reader_init(r, data + MODEL_HEADER_LEN, (size_t)plen);
    *out_version = version;
    return AML_OK;
}

static int model_read_missing(aml_model *m, aml_reader *r)
{
    uint8_t has;
    uint32_t n, i;
    int rc;

    if ((rc = aml_get_u8(r, &has)) < 0 || (rc = aml_get_u32(r, &n)) < 0)
        return rc;
    if (has > 1 || (rc = aml_reader_need(r, n, 4)) < 0)
        return aml_error_set(AML_EFORMAT, "corrupt missing-value tokens in model");
    m->has_missing = has;
    if (n && !(m->missing = aml_calloc(n, sizeof(char *))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++, m->n_missing++)
        if ((rc = aml_get_str(r, &m->missing[i])) < 0)
            return rc;
    for (i = 0; i < n; i++)
        if (!m->missing[i])
            return aml_error_set(AML_EFORMAT, "corrupt missing-value token in model");
    return AML_OK;
}

static int model_read_meta(aml_model *m, aml_reader *r)
{
    uint32_t task, n_classes;
    int64_t trial;
    uint32_t k;
    int rc;

    if ((rc = aml_get_u32(r, &task)) < 0 || (rc = aml_get_str(r, &m->target)) < 0 ||
        (rc = aml_get_u32(r, &n_classes)) < 0)
        return rc;
    if (task > AML_TASK_REGRESSION || !m->target || n_classes > MODEL_MAX_CLASSES ||
        (task == AML_TASK_CLASSIFICATION && n_classes < 2))
        return aml_error_set(AML_EFORMAT, "corrupt model header");
    m->task = (aml_task)task;
    if (n_classes && !(m->classes = aml_calloc(n_classes, sizeof(char *))))
        return AML_ENOMEM;
    m->n_classes = (int)n_classes;
    for (k = 0; k < n_classes; k++)
        if ((rc = aml_get_str(r, &m->classes[k])) < 0)
            return rc;
    if ((rc = model_read_missing(m, r)) < 0 ||
        (m->version >= 2 && (rc = model_read_reading(m, r)) < 0))
        return rc;
    if ((rc = aml_get_str(r, &m->metric)) < 0 || (rc = aml_get_f64(r, &m->score)) < 0 ||
        (rc = aml_get_i64(r, &trial)) < 0 || (rc = aml_get_str(r, &m->learner)) < 0 ||
        (rc = aml_get_str(r, &m->params)) < 0)
        return rc;
    m->trial = (long)trial;
    for (k = 0; k < n_classes; k++)
        if (!m->classes[k])
            return aml_error_set(AML_EFORMAT, "corrupt class label in model");
    return AML_OK;
}

static int model_decode(aml_model *m, aml_reader *r)
{
    int rc;

    if ((rc = model_read_meta(m, r)) < 0 || (rc = aml_prep_load(&m->pipe.prep, r)) < 0 ||
        (rc = aml_learner_load(&m->pipe.learner, r)) < 0)
        return rc;
    if (r->pos != r->len)
        return aml_error_set(AML_EFORMAT, "%zu unexpected bytes after the model",
                             r->len - r->pos);
    if (m->pipe.learner->task != m->task ||
        aml_learner_outputs(m->pipe.learner) != (m->task ? 1 : m->n_classes) ||
        m->pipe.learner->n_features != aml_prep_width(m->pipe.prep))
        return aml_error_set(AML_EFORMAT, "model parts do not agree with each other");
    return AML_OK;
}

int aml_model_load(aml_model **out, const char *path)
{
    unsigned char *data = NULL;
    aml_model *m = NULL;
    aml_reader r;
    size_t len = 0;
    uint32_t version = 0;
    int rc;

    *out = NULL;
    if ((rc = model_read_file(&data, &len, path)) < 0)
        return rc;
    if ((rc = model_check_frame(&r, &version, data, len, path)) < 0)
        goto out;
    if (!(m = aml_calloc(1, sizeof(*m)))) {
        rc = AML_ENOMEM;
        goto out;
    }
    m->version = version;
    if ((rc = model_decode(m, &r)) < 0) {
        char msg[512];

        snprintf(msg, sizeof(msg), "%s", aml_error_message());
        rc = aml_error_set(rc, "%s: %s", path, msg);
        aml_model_free(m);
        goto out;
    }
    *out = m;
out:
    free(data);
    return rc;
}

int aml_model_read_csv(aml_frame **out, const aml_model *m, const char *path)
{
    size_t n = aml_prep_n_inputs(m->pipe.prep), i, nc = 0, nn = 0;
    const char **cat = aml_calloc(n + 1, sizeof(char *));
    const char **num = aml_calloc(n + 2, sizeof(char *));
    const char **all = aml_calloc(n + 1, sizeof(char *));
    aml_csv_options opt = {0};
    int rc = AML_ENOMEM;

    if (cat && num && all) {
        for (i = 0; i < n; i++) {
            all[i] = aml_prep_input_name(m->pipe.prep, i); /* others are skipped */
            if (aml_prep_input_type(m->pipe.prep, i) == AML_COL_CATEGORICAL)
                cat[nc++] = aml_prep_input_name(m->pipe.prep, i);
            else
                num[nn++] = aml_prep_input_name(m->pipe.prep, i);
        }
        opt.categorical = cat;
        opt.n_categorical = nc;
        opt.numeric = num;
        opt.n_numeric = nn;
        opt.only = all;
        opt.n_only = n;
        opt.decimal = m->decimal == ',' ? ',' : '.';
        opt.col_missing = m->colmiss;
        opt.n_col_missing = m->n_colmiss;
        if (m->has_missing) {
            static const char *const no_tokens[1] = {NULL};

            opt.missing = m->n_missing ? (const char *const *)m->missing : no_tokens;
            opt.n_missing = m->n_missing;
        }
        rc = aml_frame_read_csv(out, path, &opt);
    }
    free(cat);
    free(num);
    free(all);
    return rc;
}

int aml_model_predict(const aml_model *m, const aml_frame *f, double *out)
{
    return aml_pipeline_predict(&m->pipe, f, NULL, aml_frame_rows(f), out);
}

int aml_model_outputs(const aml_model *m)
{
    return aml_pipeline_outputs(&m->pipe);
}

aml_task aml_model_task(const aml_model *m)
{
    return m->task;
}

const char *aml_model_target(const aml_model *m)
{
    return m->target;
}

int aml_model_n_classes(const aml_model *m)
{
    return m->n_classes;
}

const char *aml_model_class(const aml_model *m, int k)
{
    return m->classes[k];
}

const char *aml_model_learner(const aml_model *m)
{
    return m->learner;
}

const char *aml_model_params(const aml_model *m)
{
    return m->params;
}

const char *aml_model_metric(const aml_model *m)
{
    return m->metric;
}

double aml_model_score(const aml_model *m)
{
    return m->score;
}
