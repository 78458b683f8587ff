/*
 * model_io.c - the model file format (see model.h for the layout).
 *
 * Version 3 payload, every integer little-endian and fixed width (codec.h):
 *   u32 task, str target, u32 classes + that many str labels,
 *   u8 has_missing, u32 tokens + str each, the reading options (u8 decimal
 *   mark, u32 columns, each: str name, u32 tokens + str each),
 *   str metric, f64 model score, str method (NULL: none given),
 *   u32 members, each: i64 trial, str learner, str params, f64 CV score,
 *   f64 weight, u32 pipelines, each: the prep then the learner (their own
 *   codecs),
 *   u8 stack flag, then the stack when it is 1.
 * Versions 1 and 2 hold one pipeline after the header fields (metric,
 * score, trial, learner, params); they load as one member of weight 1.
 *
 * Loading trusts nothing: the frame (magic, version, length, checksum) is
 * checked first, then every count against a sanity bound and against the
 * bytes left before anything is allocated for it, every string for NULL,
 * every weight for finiteness, and the parts against each other (task,
 * outputs, widths, input schema, the stack's inputs), so a truncated,
 * corrupted or foreign file is AML_EFORMAT with a message naming the file.
 */
#include "model_internal.h"
#include "aml.h"
#include "outfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MODEL_MAGIC "AMLMODEL"
#define MODEL_MAGIC_LEN 8
#define MODEL_HEADER_LEN (MODEL_MAGIC_LEN + 4 + 8)
/* A sanity bound on files we try to load (1 TiB): larger is surely corrupt. */
#define MODEL_MAX_BYTES ((uint64_t)1 << 40)
/* The fewest bytes a member can take: trial, two strings, score, weight, pipe count. */
#define MODEL_MEMBER_MIN_BYTES (8 + 4 + 4 + 8 + 8 + 4)
/* The fewest bytes a pipeline can take: a prep and a learner header. */
#define MODEL_PIPE_MIN_BYTES 8

/* ------------------------------------------------------------- saving */

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

static void model_write_schema(const aml_model *m, aml_writer *w)
{
    uint32_t i;
    int k;

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
}

static int model_write_member(const model_member *mb, aml_writer *w)
{
    int j, rc;

    aml_put_i64(w, mb->trial);
    aml_put_str(w, mb->learner);
    aml_put_str(w, mb->params);
    aml_put_f64(w, mb->score);
    aml_put_f64(w, mb->weight);
    aml_put_u32(w, (uint32_t)mb->n_pipes);
    for (j = 0; j < mb->n_pipes; j++)
        if ((rc = aml_prep_save(mb->pipes[j].prep, w)) < 0 ||
            (rc = aml_learner_save(mb->pipes[j].learner, w)) < 0)
            return rc;
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int model_write_payload(const aml_model *m, aml_writer *w)
{
    int i, rc;

    if (m->n_members == 0)
        return aml_error_set(AML_EINVAL, "model: no members to save");
    model_write_schema(m, w);
    aml_put_str(w, m->metric);
    aml_put_f64(w, m->score);
    aml_put_str(w, m->method);
    aml_put_u32(w, (uint32_t)m->n_members);
    for (i = 0; i < m->n_members; i++)
        if ((rc = model_write_member(&m->members[i], w)) < 0)
            return rc;
    aml_put_u8(w, m->stack ? 1 : 0);
    if (m->stack && (rc = aml_stack_save(m->stack, w)) < 0)
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

int aml_model_save(const aml_model *m, const char *path)
{
    aml_writer w;
    int rc;

    aml_writer_init(&w);
    if ((rc = model_encode(m, &w)) == AML_OK)
        rc = aml_outfile_write(path, w.data, w.len, 1);
    aml_writer_dispose(&w);
    return rc;
}

/* ------------------------------------------------------------- loading */

/*
 * Reads the whole file in growing chunks rather than by its size, so that a
 * pipe or FIFO (`automl predict /dev/stdin`) serves as well as a regular
 * file; more than MODEL_MAX_BYTES is refused as not a model.
 */
static int model_read_stream(FILE *f, unsigned char **out, size_t *len, const char *path)
{
    size_t cap = 1 << 16, n = 0, got;
    unsigned char *data = aml_malloc(cap), *grown;

    if (!data)
        return AML_ENOMEM;
    while ((got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n > MODEL_MAX_BYTES) {
            free(data);
            return aml_error_set(AML_EFORMAT, "%s: not a model file (too large)", path);
        }
        if (n == cap) {
            if (!(grown = realloc(data, cap * 2))) {
                free(data);
                return AML_ENOMEM;
            }
            data = grown;
            cap *= 2;
        }
    }
    if (ferror(f)) {
        free(data);
        return aml_error_set(AML_EIO, "%s: read error", path);
    }
    *out = data;
    *len = n;
    return AML_OK;
}

static int model_read_file(unsigned char **out, size_t *len, const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    int rc;

    if (!f)
        return aml_error_set(AML_EIO, "%s: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return aml_error_set(AML_EIO, "%s: is a directory, not a model file", path);
    }
    rc = model_read_stream(f, out, len, path);
    fclose(f);
    return rc;
}

/* Checks magic, version, length and checksum; on success r covers the payload. */
static int model_check_frame(aml_reader *r, uint32_t *out_version,
                             const unsigned char *data, size_t len, const char *name)
{
    uint32_t version;
    uint64_t plen, sum;
    aml_reader h;

    if (len < MODEL_MAGIC_LEN || memcmp(data, MODEL_MAGIC, MODEL_MAGIC_LEN) != 0)
        return aml_error_set(AML_EFORMAT, "%s: not an automl model file", name);
    if (len < MODEL_HEADER_LEN + 8)
        return aml_error_set(AML_EFORMAT, "%s: model file is truncated", name);
    aml_reader_init(&h, data + MODEL_MAGIC_LEN, len - MODEL_MAGIC_LEN);
    aml_get_u32(&h, &version);
    aml_get_u64(&h, &plen);
    if (version < 1 || version > AML_MODEL_VERSION)
        return aml_error_set(AML_EFORMAT,
                             "%s: model format version %u, this automl reads %u", name,
                             version, AML_MODEL_VERSION);
    if (plen != len - MODEL_HEADER_LEN - 8)
        return aml_error_set(AML_EFORMAT, "%s: model file is truncated or padded", name);
    aml_reader_init(&h, data + len - 8, 8);
    aml_get_u64(&h, &sum);
    if (sum != aml_fnv1a64(data, len - 8))
        return aml_error_set(AML_EFORMAT,
                             "%s: model file is corrupted (checksum mismatch)", name);
    aml_reader_init(r, data + MODEL_HEADER_LEN, (size_t)plen);
    *out_version = version;
    return AML_OK;
}

/* A string that must be present (a NULL string is a corrupt file). */
static int get_text(aml_reader *r, char **out, const char *what)
{
    int rc;

    if ((rc = aml_get_str(r, out)) < 0)
        return rc;
    if (!*out)
        return aml_error_set(AML_EFORMAT, "corrupt %s in model", what);
    return AML_OK;
}

static int model_read_reading(aml_model *m, aml_reader *r)
{
    uint8_t decimal;
    uint32_t n, i, k, t;
    int rc;

    if ((rc = aml_get_u8(r, &decimal)) < 0 || (rc = aml_get_u32(r, &n)) < 0)
        return rc;
    if ((decimal != '.' && decimal != ',') || n > MODEL_MAX_CLASSES ||
        (rc = aml_reader_need(r, n, 8)) < 0)
        return aml_error_set(AML_EFORMAT, "corrupt reading options in model");
    m->decimal = (char)decimal;
    if (n && !(m->colmiss = aml_calloc(n, sizeof(*m->colmiss))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++) {
        char *name = NULL, **tokens;

        m->n_colmiss++; /* counted first: the free path sees a half-read entry */
        if ((rc = get_text(r, &name, "column name")) < 0)
            return rc;
        m->colmiss[i].name = name;
        if ((rc = aml_get_u32(r, &k)) < 0 || (rc = aml_reader_need(r, k, 4)) < 0)
            return rc;
        if (!(tokens = aml_calloc((size_t)k + 1, sizeof(char *))))
            return AML_ENOMEM;
        m->colmiss[i].tokens = (const char *const *)tokens;
        for (t = 0; t < k; t++, m->colmiss[i].n_tokens++)
            if ((rc = get_text(r, &tokens[t], "missing-value token")) < 0)
                return rc;
    }
    return AML_OK;
}

static int model_read_missing(aml_model *m, aml_reader *r)
{
    uint8_t has;
    uint32_t n, i;
    int rc;

    if ((rc = aml_get_u8(r, &has)) < 0 || (rc = aml_get_u32(r, &n)) < 0)
        return rc;
    if (has > 1 || n > MODEL_MAX_CLASSES || (rc = aml_reader_need(r, n, 4)) < 0)
        return aml_error_set(AML_EFORMAT, "corrupt missing-value tokens in model");
    m->has_missing = has;
    if (n && !(m->missing = aml_calloc(n, sizeof(char *))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++, m->n_missing++)
        if ((rc = get_text(r, &m->missing[i], "missing-value token")) < 0)
            return rc;
    return AML_OK;
}

/* Task, target, classes and how the training file was read. */
static int model_read_schema(aml_model *m, aml_reader *r)
{
    uint32_t task, n_classes, k;
    int rc;

    if ((rc = aml_get_u32(r, &task)) < 0 ||
        (rc = get_text(r, &m->target, "target")) < 0 ||
        (rc = aml_get_u32(r, &n_classes)) < 0)
        return rc;
    if (task > AML_TASK_REGRESSION || n_classes > MODEL_MAX_CLASSES ||
        (task == AML_TASK_CLASSIFICATION && n_classes < 2) ||
        (task == AML_TASK_REGRESSION && n_classes != 0) ||
        aml_reader_need(r, n_classes, 4) < 0)
        return aml_error_set(AML_EFORMAT, "corrupt model header");
    m->task = (aml_task)task;
    if (n_classes && !(m->classes = aml_calloc(n_classes, sizeof(char *))))
        return AML_ENOMEM;
    for (k = 0; k < n_classes; k++, m->n_classes++)
        if ((rc = get_text(r, &m->classes[k], "class label")) < 0)
            return rc;
    if ((rc = model_read_missing(m, r)) < 0 ||
        (m->version >= 2 && (rc = model_read_reading(m, r)) < 0))
        return rc;
    return AML_OK;
}

/* Loads one pipeline into the member's next slot and checks it against the model. */
static int model_read_pipe(aml_model *m, model_member *mb, aml_reader *r)
{
    aml_pipeline *p = &mb->pipes[mb->n_pipes];
    int rc;

    if ((rc = aml_prep_load(&p->prep, r)) < 0 ||
        (rc = aml_learner_load(&p->learner, r)) < 0) {
        aml_pipeline_dispose(p);
        return rc;
    }
    mb->n_pipes++;
    if (model_check_pipe(m, p) < 0 || strcmp(p->learner->type->name, mb->learner) != 0)
        return aml_error_set(AML_EFORMAT, "model parts do not agree with each other");
    return AML_OK;
}

/* Versions 1 and 2: the one trial's fields and its pipeline, as one member. */
static int model_read_old(aml_model *m, aml_reader *r)
{
    model_member *mb;
    int64_t trial;
    int rc;

    if ((rc = get_text(r, &m->metric, "metric")) < 0 ||
        (rc = aml_get_f64(r, &m->score)) < 0 || (rc = aml_get_i64(r, &trial)) < 0)
        return rc;
    if (!(mb = model_push_member(m)) || !(mb->pipes = aml_calloc(1, sizeof(*mb->pipes))))
        return AML_ENOMEM;
    mb->trial = (long)trial;
    mb->score = m->score;
    mb->weight = 1.0;
    if ((rc = get_text(r, &mb->learner, "learner name")) < 0 ||
        (rc = get_text(r, &mb->params, "parameters")) < 0)
        return rc;
    return model_read_pipe(m, mb, r);
}

static int model_read_member(aml_model *m, aml_reader *r)
{
    model_member *mb = model_push_member(m);
    uint32_t n_pipes, j;
    int64_t trial;
    int rc;

    if (!mb)
        return AML_ENOMEM;
    if ((rc = aml_get_i64(r, &trial)) < 0 ||
        (rc = get_text(r, &mb->learner, "learner name")) < 0 ||
        (rc = get_text(r, &mb->params, "parameters")) < 0 ||
        (rc = aml_get_f64(r, &mb->score)) < 0 || (rc = aml_get_f64(r, &mb->weight)) < 0 ||
        (rc = aml_get_u32(r, &n_pipes)) < 0)
        return rc;
    mb->trial = (long)trial;
    if (!isfinite(mb->weight) || mb->weight < 0 || n_pipes < 1 ||
        n_pipes > MODEL_MAX_PIPES ||
        aml_reader_need(r, n_pipes, MODEL_PIPE_MIN_BYTES) < 0)
        return aml_error_set(AML_EFORMAT, "corrupt member %d in model", m->n_members - 1);
    if (!(mb->pipes = aml_calloc(n_pipes, sizeof(*mb->pipes))))
        return AML_ENOMEM;
    for (j = 0; j < n_pipes; j++)
        if ((rc = model_read_pipe(m, mb, r)) < 0)
            return rc;
    return AML_OK;
}

static int model_read_stack(aml_model *m, aml_reader *r)
{
    uint8_t flag;
    int rc;

    if ((rc = aml_get_u8(r, &flag)) < 0)
        return rc;
    if (flag > 1)
        return aml_error_set(AML_EFORMAT, "corrupt stack flag in model");
    if (flag && ((rc = aml_stack_load(&m->stack, r)) < 0 ||
                 (rc = model_check_stack(m, m->stack)) < 0))
        return rc;
    return AML_OK;
}

static int model_read_v3(aml_model *m, aml_reader *r)
{
    uint32_t n, i;
    double sum = 0;
    int rc;

    if ((rc = get_text(r, &m->metric, "metric")) < 0 ||
        (rc = aml_get_f64(r, &m->score)) < 0 || (rc = aml_get_str(r, &m->method)) < 0 ||
        (rc = aml_get_u32(r, &n)) < 0)
        return rc;
    if (n < 1 || n > MODEL_MAX_MEMBERS ||
        aml_reader_need(r, n, MODEL_MEMBER_MIN_BYTES) < 0)
        return aml_error_set(AML_EFORMAT, "corrupt member count %u in model", n);
    for (i = 0; i < n; i++)
        if ((rc = model_read_member(m, r)) < 0)
            return rc;
    if ((rc = model_read_stack(m, r)) < 0)
        return rc;
    for (i = 0; i < n; i++)
        sum += m->members[i].weight;
    if (!m->stack && n > 1 && !(sum > 0 && isfinite(sum)))
        return aml_error_set(AML_EFORMAT, "model member weights sum to %g", sum);
    return AML_OK;
}

static int model_decode(aml_model *m, aml_reader *r)
{
    int rc;

    if ((rc = model_read_schema(m, r)) < 0)
        return rc;
    if ((rc = m->version >= 3 ? model_read_v3(m, r) : model_read_old(m, r)) < 0)
        return rc;
    if (r->pos != r->len)
        return aml_error_set(AML_EFORMAT, "%zu unexpected bytes after the model",
                             r->len - r->pos);
    return AML_OK;
}

/* Decodes a whole file's bytes; `name` stands for it in messages. */
static int model_load_bytes(aml_model **out, const unsigned char *data, size_t len,
                            const char *name)
{
    aml_model *m = NULL;
    aml_reader r;
    uint32_t version = 0;
    int rc;

    *out = NULL;
    if ((rc = model_check_frame(&r, &version, data, len, name)) < 0)
        return rc;
    if (!(m = model_alloc()))
        return AML_ENOMEM;
    m->version = version;
    if ((rc = model_decode(m, &r)) < 0) {
        char msg[512];

        /* Every failure past the frame is the file's fault, allocation aside. */
        if (rc != AML_ENOMEM)
            rc = AML_EFORMAT;
        snprintf(msg, sizeof(msg), "%s", aml_error_message());
        rc = aml_error_set(rc, "%s: %s", name, msg);
        aml_model_free(m);
        return rc;
    }
    *out = m;
    return AML_OK;
}

int aml_model_load(aml_model **out, const char *path)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if ((rc = model_read_file(&data, &len, path)) < 0)
        return rc;
    rc = model_load_bytes(out, data, len, path);
    free(data);
    return rc;
}

int aml_model_load_buffer(aml_model **out, const void *data, size_t len)
{
    *out = NULL;
    if (!data && len)
        return aml_error_set(AML_EINVAL, "model: no bytes");
    return model_load_bytes(out, data ? data : "", len, "model");
}
