/*
 * model.c - building and applying the model (see model.h); the file format
 * is in model_io.c.
 *
 * A model is the training schema (task, target, classes, how the file was
 * read) plus members, each one trial's configuration fitted as one
 * pipeline on every row or as its k fold pipelines.  A member's output is
 * the plain mean of its pipelines' outputs; the model's output is the
 * weighted average of its members' (aml_ensemble_average, the very
 * function ensemble selection scores with, so a model predicts what its
 * selection measured) or a stack over the members' outputs side by side.
 * A single member predicts through its pipeline directly, so a one-trial
 * model gives exactly what that pipeline gives.
 *
 * Every pipeline of a model was fitted on the same training frame, so all
 * share one input schema (the first pipeline's, checked when a member is
 * added or loaded): aml_model_read_csv reads new data with it.
 */
#include "model_internal.h"
#include "aml.h"
#include "ensemble.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void member_dispose(model_member *mb)
{
    int j;

    for (j = 0; mb->pipes && j < mb->n_pipes; j++)
        aml_pipeline_dispose(&mb->pipes[j]);
    free(mb->pipes);
    free(mb->learner);
    free(mb->params);
    memset(mb, 0, sizeof(*mb));
}

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
    for (k = 0; m->members && k < m->n_members; k++)
        member_dispose(&m->members[k]);
    free(m->members);
    aml_stack_free(m->stack);
    free(m->target);
    free(m->metric);
    free(m->method);
    free(m);
}

aml_model *model_alloc(void)
{
    aml_model *m = aml_calloc(1, sizeof(*m));

    if (m) {
        m->score = NAN;
        m->version = AML_MODEL_VERSION;
    }
    return m;
}

model_member *model_push_member(aml_model *m)
{
    if (m->n_members == m->cap_members) {
        int cap = m->cap_members ? 2 * m->cap_members : 4;
        model_member *grown;

        if (m->n_members >= (int)MODEL_MAX_MEMBERS) {
            aml_error_set(AML_EINVAL, "model: more than %u members", MODEL_MAX_MEMBERS);
            return NULL;
        }
        if (!(grown = aml_mallocarray((size_t)cap, sizeof(*grown))))
            return NULL;
        if (m->n_members)
            memcpy(grown, m->members, (size_t)m->n_members * sizeof(*grown));
        free(m->members);
        m->members = grown;
        m->cap_members = cap;
    }
    memset(&m->members[m->n_members], 0, sizeof(model_member));
    return &m->members[m->n_members++];
}

/* The input schema every pipeline must share: the first pipeline's prep, or NULL. */
static const aml_prep *model_schema(const aml_model *m)
{
    if (m->n_members == 0 || m->members[0].n_pipes == 0)
        return NULL;
    return m->members[0].pipes[0].prep;
}

static int same_schema(const aml_prep *a, const aml_prep *b)
{
    size_t i;

    if (aml_prep_n_inputs(a) != aml_prep_n_inputs(b))
        return 0;
    for (i = 0; i < aml_prep_n_inputs(a); i++)
        if (aml_prep_input_type(a, i) != aml_prep_input_type(b, i) ||
            strcmp(aml_prep_input_name(a, i), aml_prep_input_name(b, i)) != 0)
            return 0;
    return 1;
}

int model_check_pipe(const aml_model *m, const aml_pipeline *p)
{
    const aml_prep *schema = model_schema(m);

    if (!p->prep || !p->learner)
        return aml_error_set(AML_EINVAL, "model: a member's pipeline is not fitted");
    if (p->learner->task != m->task ||
        aml_learner_outputs(p->learner) != aml_model_outputs(m) ||
        p->learner->n_features != aml_prep_width(p->prep))
        return aml_error_set(AML_EINVAL,
                             "model: a %s pipeline does not fit the model's "
                             "task, classes or its own preprocessing",
                             p->learner->type->name);
    if (schema && !same_schema(schema, p->prep))
        return aml_error_set(AML_EINVAL, "model: members read different input columns");
    return AML_OK;
}

int model_check_stack(const aml_model *m, const aml_stack *st)
{
    const aml_prep *schema = model_schema(m), *sp = aml_stack_prep(st);

    if (aml_stack_inputs(st) != (size_t)m->n_members * (size_t)aml_model_outputs(m) ||
        aml_stack_outputs(st) != aml_model_outputs(m))
        return aml_error_set(AML_EINVAL,
                             "model: the stack reads %zu member outputs and gives %d; "
                             "the %d members give %d each",
                             aml_stack_inputs(st), aml_stack_outputs(st), m->n_members,
                             aml_model_outputs(m));
    if (aml_stack_passthrough(st) && (!sp || (schema && !same_schema(schema, sp))))
        return aml_error_set(AML_EINVAL,
                             "model: the stack's passthrough reads other input columns");
    return AML_OK;
}

/* ------------------------------------------------------------- building */

int aml_model_new(aml_model **out, const aml_dataset *d, const char *metric)
{
    aml_model *m = model_alloc();
    int k;

    *out = NULL;
    if (!m)
        return AML_ENOMEM;
    m->task = d->task;
    m->n_classes = d->task == AML_TASK_CLASSIFICATION ? d->n_classes : 0;
    if (!(m->target = aml_strdup(d->target)) || !(m->metric = aml_strdup(metric)))
        goto nomem;
    if (m->n_classes && !(m->classes = aml_calloc((size_t)m->n_classes, sizeof(char *))))
        goto nomem;
    for (k = 0; k < m->n_classes; k++)
        if (!(m->classes[k] = aml_strdup(d->classes[k])))
            goto nomem;
    *out = m;
    return AML_OK;
nomem:
    aml_model_free(m);
    return AML_ENOMEM;
}

static void dispose_pipes(aml_pipeline *pipes, int n)
{
    int j;

    for (j = 0; pipes && j < n; j++)
        aml_pipeline_dispose(&pipes[j]);
}

/* Moves pipes[0..n) into a new array of mb (zeroing the caller's). */
static int member_take_pipes(model_member *mb, aml_pipeline *pipes, int n)
{
    if (!(mb->pipes = aml_mallocarray((size_t)n, sizeof(*mb->pipes))))
        return AML_ENOMEM;
    memcpy(mb->pipes, pipes, (size_t)n * sizeof(*pipes));
    memset(pipes, 0, (size_t)n * sizeof(*pipes));
    mb->n_pipes = n;
    return AML_OK;
}

int aml_model_add_member(aml_model *m, const aml_space *s, const aml_config *c,
                         long trial, double cv_score, double weight, aml_pipeline *pipes,
                         int n_pipes)
{
    model_member *mb;
    char buf[1024];
    int j, rc;

    if (n_pipes < 1 || n_pipes > (int)MODEL_MAX_PIPES || !pipes)
        rc = aml_error_set(AML_EINVAL, "model: a member needs 1 to %u pipelines, not %d",
                           MODEL_MAX_PIPES, n_pipes);
    else if (!isfinite(weight) || weight < 0)
        rc = aml_error_set(AML_EINVAL, "model: member weight %g is not finite and >= 0",
                           weight);
    else
        rc = AML_OK;
    for (j = 0; rc == AML_OK && j < n_pipes; j++)
        if ((rc = model_check_pipe(m, &pipes[j])) == AML_OK && j > 0 &&
            !same_schema(pipes[0].prep, pipes[j].prep))
            rc = aml_error_set(AML_EINVAL, "model: members read different input columns");
    if (rc < 0)
        goto fail;
    if (!(mb = model_push_member(m))) {
        rc = AML_ENOMEM;
        goto fail;
    }
    aml_config_format(c, buf, sizeof(buf));
    mb->trial = trial;
    mb->score = cv_score;
    mb->weight = weight;
    if (!(mb->learner = aml_strdup(s->learners[c->learner].name)) ||
        !(mb->params = aml_strdup(buf)) || member_take_pipes(mb, pipes, n_pipes) < 0) {
        member_dispose(mb);
        m->n_members--;
        rc = AML_ENOMEM;
        goto fail;
    }
    if (m->n_members == 1 && !m->method)
        m->score = cv_score; /* a one-trial model scores as its trial did */
    return AML_OK;
fail:
    dispose_pipes(pipes, n_pipes);
    return rc;
}

int aml_model_set_stack(aml_model *m, aml_stack *st)
{
    int rc;

    if (!st)
        return aml_error_set(AML_EINVAL, "model: no stack");
    if ((rc = model_check_stack(m, st)) < 0) {
        aml_stack_free(st);
        return rc;
    }
    aml_stack_free(m->stack);
    m->stack = st;
    return AML_OK;
}

int aml_model_set_summary(aml_model *m, const char *method, double score)
{
    char *copy = aml_strdup(method);

    if (!copy)
        return AML_ENOMEM;
    free(m->method);
    m->method = copy;
    m->score = score;
    return AML_OK;
}

int aml_model_fit(aml_model **out, const aml_dataset *d, const aml_space *s,
                  const aml_config *c, long trial, const char *metric, double score,
                  uint64_t seed, int threads)
{
    aml_pipeline pipe = {0};
    aml_model *m = NULL;
    aml_rng trial_rng, rng;
    int rc;

    *out = NULL;
    if ((rc = aml_model_new(&m, d, metric)) < 0)
        return rc;
    /* The refit draws from a stream no fold of any trial uses. */
    aml_rng_init(&trial_rng, seed, (uint64_t)trial);
    aml_rng_child(&rng, &trial_rng, UINT64_MAX);
    if ((rc = aml_pipeline_fit(&pipe, d, s, c, NULL, d->n, &rng, threads)) < 0 ||
        (rc = aml_model_add_member(m, s, c, trial, score, 1.0, &pipe, 1)) < 0) {
        aml_model_free(m);
        return rc;
    }
    *out = m;
    return AML_OK;
}

int aml_model_set_missing(aml_model *m, char *const *missing, size_t n)
{
    size_t i;

    if (!missing)
        return AML_OK;
    if (n > MODEL_MAX_CLASSES)
        return aml_error_set(AML_EINVAL, "too many missing-value tokens");
    if (!(m->missing = aml_calloc(n ? n : 1, sizeof(char *))))
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
    for (i = 0; i < n; i++) {
        char **tokens = aml_calloc(cols[i].n_tokens + 1, sizeof(char *));

        m->n_colmiss++; /* counted first: the free path sees a half-built entry */
        m->colmiss[i].tokens = (const char *const *)tokens;
        if (!tokens || !(m->colmiss[i].name = aml_strdup(cols[i].column)))
            return AML_ENOMEM;
        for (t = 0; t < cols[i].n_tokens; t++, m->colmiss[i].n_tokens++)
            if (!(tokens[t] = aml_strdup(cols[i].tokens[t])))
                return AML_ENOMEM;
    }
    return AML_OK;
}

/* ------------------------------------------------------------- prediction */

int aml_model_read_csv(aml_frame **out, const aml_model *m, const char *path)
{
    const aml_prep *schema = model_schema(m);
    size_t n, i, nc = 0, nn = 0;
    const char **cat = NULL, **num = NULL, **all = NULL;
    aml_csv_options opt = {0};
    int rc = AML_ENOMEM;

    *out = NULL;
    if (!schema)
        return aml_error_set(AML_EINVAL, "model: no members");
    n = aml_prep_n_inputs(schema);
    cat = aml_calloc(n + 1, sizeof(char *));
    num = aml_calloc(n + 2, sizeof(char *));
    all = aml_calloc(n + 1, sizeof(char *));
    if (cat && num && all) {
        for (i = 0; i < n; i++) {
            all[i] = aml_prep_input_name(schema, i); /* others are skipped */
            if (aml_prep_input_type(schema, i) == AML_COL_CATEGORICAL)
                cat[nc++] = aml_prep_input_name(schema, i);
            else
                num[nn++] = aml_prep_input_name(schema, i);
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

int aml_model_member_predict(const aml_model *m, int i, const aml_frame *f, double *out)
{
    const model_member *mb;
    size_t n = aml_frame_rows(f), len, t;
    double *tmp;
    int j, rc = AML_OK;

    if (i < 0 || i >= m->n_members)
        return aml_error_set(AML_EINVAL, "model: no member %d", i);
    mb = &m->members[i];
    if (mb->n_pipes == 1)
        return aml_pipeline_predict(&mb->pipes[0], f, NULL, n, out);
    /* Fold pipelines: the plain mean of their outputs, summed in pipeline order. */
    len = n * (size_t)aml_model_outputs(m);
    if (!(tmp = aml_mallocarray(len ? len : 1, sizeof(double))))
        return AML_ENOMEM;
    for (j = 0; j < mb->n_pipes && rc == AML_OK; j++) {
        rc = aml_pipeline_predict(&mb->pipes[j], f, NULL, n, j ? tmp : out);
        for (t = 0; j && rc == AML_OK && t < len; t++)
            out[t] += tmp[t];
    }
    for (t = 0; rc == AML_OK && t < len; t++)
        out[t] /= (double)mb->n_pipes;
    free(tmp);
    return rc;
}

/* Every member's outputs, member after member: n_members x (n x outputs). */
static int predict_members(const aml_model *m, const aml_frame *f, double **out)
{
    size_t one = aml_frame_rows(f) * (size_t)aml_model_outputs(m);
    double *all = aml_mallocarray(one * (size_t)m->n_members + 1, sizeof(double));
    int i, rc = AML_OK;

    if (!all)
        return AML_ENOMEM;
    for (i = 0; i < m->n_members && rc == AML_OK; i++)
        rc = aml_model_member_predict(m, i, f, all + (size_t)i * one);
    if (rc < 0) {
        free(all);
        return rc;
    }
    *out = all;
    return AML_OK;
}

/* The stack's input Z (n x members*outputs): member i's outputs in columns i*K.. */
static int predict_stack(const aml_model *m, const aml_frame *f, const double *all,
                         double *out)
{
    size_t n = aml_frame_rows(f), K = (size_t)aml_model_outputs(m);
    size_t q = K * (size_t)m->n_members, r, i;
    double *Z = aml_mallocarray(n * q + 1, sizeof(double));
    int rc;

    if (!Z)
        return AML_ENOMEM;
    for (i = 0; i < (size_t)m->n_members; i++)
        for (r = 0; r < n; r++)
            memcpy(Z + r * q + i * K, all + i * n * K + r * K, K * sizeof(double));
    rc = aml_stack_predict(m->stack, Z, f, NULL, n, out);
    free(Z);
    return rc;
}

static int predict_average(const aml_model *m, const aml_frame *f, const double *all,
                           double *out)
{
    size_t one = aml_frame_rows(f) * (size_t)aml_model_outputs(m);
    aml_ensemble_candidate *cand = aml_calloc((size_t)m->n_members, sizeof(*cand));
    double *w = aml_calloc((size_t)m->n_members, sizeof(double));
    int i, rc = AML_ENOMEM;

    if (cand && w) {
        for (i = 0; i < m->n_members; i++) {
            cand[i].oof = all + (size_t)i * one;
            cand[i].outputs = aml_model_outputs(m);
            w[i] = m->members[i].weight;
        }
        rc = aml_ensemble_average(cand, (size_t)m->n_members, aml_frame_rows(f), w, out);
    }
    free(cand);
    free(w);
    return rc;
}

int aml_model_predict(const aml_model *m, const aml_frame *f, double *out)
{
    double *all = NULL;
    int rc;

    if (m->n_members == 0)
        return aml_error_set(AML_EINVAL, "model: no members");
    if (m->n_members == 1 && !m->stack)
        return aml_model_member_predict(m, 0, f, out);
    if ((rc = predict_members(m, f, &all)) < 0)
        return rc;
    rc = m->stack ? predict_stack(m, f, all, out) : predict_average(m, f, all, out);
    free(all);
    return rc;
}

/* ------------------------------------------------------------- accessors */

int aml_model_outputs(const aml_model *m)
{
    return m->task == AML_TASK_CLASSIFICATION ? m->n_classes : 1;
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
    return m->n_members ? m->members[0].learner : "";
}

const char *aml_model_params(const aml_model *m)
{
    return m->n_members ? m->members[0].params : "";
}

const char *aml_model_metric(const aml_model *m)
{
    return m->metric;
}

double aml_model_score(const aml_model *m)
{
    return m->score;
}

char aml_model_decimal(const aml_model *m)
{
    return m->decimal == ',' ? ',' : '.';
}

int aml_model_n_members(const aml_model *m)
{
    return m->n_members;
}

/* Member i, or NULL (with a message) when there is none. */
static const model_member *member_at(const aml_model *m, int i)
{
    if (i < 0 || i >= m->n_members) {
        aml_error_set(AML_EINVAL, "model: no member %d", i);
        return NULL;
    }
    return &m->members[i];
}

long aml_model_member_trial(const aml_model *m, int i)
{
    const model_member *mb = member_at(m, i);

    return mb ? mb->trial : -1;
}

double aml_model_member_weight(const aml_model *m, int i)
{
    const model_member *mb = member_at(m, i);

    return mb ? mb->weight : NAN;
}

double aml_model_member_score(const aml_model *m, int i)
{
    const model_member *mb = member_at(m, i);

    return mb ? mb->score : NAN;
}

const char *aml_model_member_learner(const aml_model *m, int i)
{
    const model_member *mb = member_at(m, i);

    return mb ? mb->learner : NULL;
}

const char *aml_model_member_params(const aml_model *m, int i)
{
    const model_member *mb = member_at(m, i);

    return mb ? mb->params : NULL;
}

int aml_model_member_n_pipes(const aml_model *m, int i)
{
    const model_member *mb = member_at(m, i);

    return mb ? mb->n_pipes : 0;
}

const aml_pipeline *aml_model_member_pipe(const aml_model *m, int i, int j)
{
    const model_member *mb = member_at(m, i);

    if (!mb || j < 0 || j >= mb->n_pipes)
        return NULL;
    return &mb->pipes[j];
}

const aml_stack *aml_model_stack(const aml_model *m)
{
    return m->stack;
}

const char *aml_model_method(const aml_model *m)
{
    if (m->method)
        return m->method;
    if (m->stack)
        return "stacking";
    return m->n_members > 1 ? "average" : "none";
}
