/*
 * pipeline.c - see pipeline.h.
 */
#include "pipeline.h"
#include "aml.h"

#include <stdlib.h>
#include <string.h>

static int pipeline_set_params(aml_learner *l, const aml_config *c)
{
    size_t i;
    int rc;

    for (i = 0; i < c->n_params; i++)
        if ((rc = aml_learner_set_param(l, c->params[i].name, &c->params[i].value)) < 0)
            return rc;
    return AML_OK;
}

static int pipeline_gather_y(double **out, const aml_dataset *d, const size_t *rows,
                             size_t n)
{
    double *y = aml_mallocarray(n, sizeof(*y));
    size_t i;

    if (!y)
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        y[i] = d->y[rows ? rows[i] : i];
    *out = y;
    return AML_OK;
}

static int pipeline_fit_rows(aml_pipeline *p, const aml_dataset *d, const aml_space *s,
                             const aml_config *c, const size_t *rows, size_t n,
                             aml_rng *rng, int threads);

static size_t *pipeline_all_rows(size_t n)
{
    size_t *rows = aml_mallocarray(n ? n : 1, sizeof(*rows));
    size_t i;

    for (i = 0; rows && i < n; i++)
        rows[i] = i;
    return rows;
}

int aml_pipeline_fit(aml_pipeline *p, const aml_dataset *d, const aml_space *s,
                     const aml_config *c, const size_t *rows, size_t n, aml_rng *rng,
                     int threads)
{
    size_t *all = NULL;
    int rc;

    /* The preprocessing takes explicit row lists; "every row" is spelled out. */
    if (!rows && !(rows = all = pipeline_all_rows(n = d->n)))
        return AML_ENOMEM;
    rc = pipeline_fit_rows(p, d, s, c, rows, n, rng, threads);
    free(all);
    return rc;
}

static int pipeline_fit_rows(aml_pipeline *p, const aml_dataset *d, const aml_space *s,
                             const aml_config *c, const size_t *rows, size_t n,
                             aml_rng *rng, int threads)
{
    const aml_learner_type *type = aml_learner_type_find(s->learners[c->learner].name);
    aml_prep_options popt = {0};
    aml_matrix X = {0};
    double *y = NULL;
    int rc;

    memset(p, 0, sizeof(*p));
    if (!type)
        return aml_error_set(AML_EINVAL, "unknown learner '%s'", s->learners[c->learner].name);
    popt.scale = (type->flags & AML_LEARNER_WANTS_SCALING) != 0;

    if ((rc = aml_prep_fit(&p->prep, d->features, rows, n, &popt)) < 0 ||
        (rc = aml_prep_transform(p->prep, d->features, rows, n, &X)) < 0 ||
        (rc = pipeline_gather_y(&y, d, rows, n)) < 0)
        goto fail;

    if ((rc = aml_learner_new(&p->learner, type, d->task)) < 0 ||
        (rc = pipeline_set_params(p->learner, c)) < 0 ||
        (rc = aml_learner_fit(p->learner, &X, y, NULL, d->n_classes, rng, threads)) < 0)
        goto fail;

    aml_matrix_dispose(&X);
    free(y);
    return AML_OK;

fail:
    aml_matrix_dispose(&X);
    free(y);
    aml_pipeline_dispose(p);
    return rc;
}

int aml_pipeline_predict(const aml_pipeline *p, const aml_frame *f, const size_t *rows,
                         size_t n, double *out)
{
    aml_matrix X = {0};
    int rc;

    if (!rows)
        n = aml_frame_rows(f);
    if ((rc = aml_prep_transform(p->prep, f, rows, n, &X)) < 0)
        return rc;
    rc = aml_learner_predict(p->learner, &X, out);
    aml_matrix_dispose(&X);
    return rc;
}

int aml_pipeline_outputs(const aml_pipeline *p)
{
    return aml_learner_outputs(p->learner);
}

void aml_pipeline_dispose(aml_pipeline *p)
{
    if (!p)
        return;
    aml_learner_free(p->learner);
    aml_prep_free(p->prep);
    memset(p, 0, sizeof(*p));
}
