/*
 * subfit.c - one member of a wrapper learner (bagging.c, boosting.c): a
 * base learner with its default parameters, fitted on chosen rows (repeats
 * allowed) and columns of the data.
 *
 * Design.  A member gets its own copy of its rows, in the order given, and
 * of its columns.  That works with every base learner: a row drawn twice is
 * present twice, each copy with its sample weight, so a learner that
 * honours weights sees the weight times the draw count, and one that
 * treats rows as votes (knn) sees the row twice, as in scikit-learn's
 * Bagging* and AdaBoostRegressor, which index X with the draws.  The copy
 * costs one n x p matrix per member being fitted, no more than the data.
 *
 * Classification members are fitted on the classes their rows hold,
 * renumbered 0..k-1 in increasing order (some learners refuse a class
 * with no rows), and their probabilities are put back at the full class
 * indices, 0 for the classes they never saw.  Rows of one class make a
 * constant member that predicts it with probability 1 and has no base
 * learner (aml_learner_fit refuses fewer than two classes).
 */
#include "subfit_internal.h"
#include "aml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Member files larger than these are taken for corruption. */
#define SUBFIT_MAX_CLASSES (1 << 20)

const char *const aml_subfit_base_words[] = {
    "logistic_regression", "ridge",    "knn",         "decision_tree", "random_forest",
    "extra_trees",         "adaboost", "svm",         "naive_bayes",   "mlp",
    "gradient_boosting",   "lasso",    "elastic_net", "linear_svm",    NULL,
};

static const char *subfit_task_name(aml_task task)
{
    return task == AML_TASK_CLASSIFICATION ? "classification" : "regression";
}

/*
 * A base that does not do the task fails here; `automl run` refuses such a
 * spec before the search (cli/cmd_run.c, run_check_bases), so this guards
 * the library's other callers.
 */
int aml_subfit_base(const aml_learner_type **out, const char *who, const char *name,
                    aml_task task)
{
    const aml_learner_type *t = NULL;
    size_t i;

    *out = NULL;
    for (i = 0; aml_subfit_base_words[i] && !t; i++)
        if (strcmp(aml_subfit_base_words[i], name) == 0)
            t = aml_learner_type_find(name);
    if (!t)
        return aml_error_set(AML_EINVAL, "%s: '%s' cannot be a base learner", who, name);
    if (!(t->tasks & AML_TASK_BIT(task)))
        return aml_error_set(AML_EINVAL, "%s: base learner '%s' does not do %s", who,
                             name, subfit_task_name(task));
    *out = t;
    return AML_OK;
}

int aml_subfit_check(const char *who, const aml_subfit_data *d)
{
    size_t i, n = d->X->rows;
    double total = 0;

    if (d->X->cols > INT32_MAX || d->X->cols == 0)
        return aml_error_set(AML_EINVAL, "%s: cannot fit %zu columns", who, d->X->cols);
    for (i = 0; i < n && d->task == AML_TASK_CLASSIFICATION; i++)
        if (!(d->y[i] >= 0 && d->y[i] < d->n_classes && d->y[i] == floor(d->y[i])))
            return aml_error_set(AML_EINVAL, "%s: row %zu: class %g is not in 0..%d", who,
                                 i, d->y[i], d->n_classes - 1);
    for (i = 0; i < n && d->w; i++) {
        if (!(d->w[i] >= 0 && isfinite(d->w[i])))
            return aml_error_set(AML_EINVAL, "%s: row %zu: bad sample weight %g", who, i,
                                 d->w[i]);
        total += d->w[i];
    }
    if (d->w && !(total > 0))
        return aml_error_set(AML_EINVAL, "%s: every sample weight is 0", who);
    return AML_OK;
}

void aml_subfit_dispose(aml_subfit *m)
{
    aml_learner_free(m->l);
    free(m->feat);
    free(m->cls);
    memset(m, 0, sizeof(*m));
}

void aml_subfit_normalise(double *v, size_t n)
{
    size_t j;
    double s = 0;

    for (j = 0; j < n; j++)
        s += v[j];
    for (j = 0; j < n && s > 0; j++)
        v[j] /= s;
}

size_t aml_subfit_argmax(const double *p, size_t n)
{
    size_t c, best = 0;

    for (c = 1; c < n; c++)
        if (p[c] > p[best])
            best = c;
    return best;
}

/* ---- fit ---------------------------------------------------------------- */

/*
 * The classes the rows hold into m->cls / m->n_cls, and into map the
 * member's index of each full class (-1 when absent).
 */
static int subfit_classes(aml_subfit *m, const aml_subfit_data *d, const size_t *rows,
                          size_t n_rows, int *map)
{
    int c, k = 0;
    size_t i;

    for (c = 0; c < d->n_classes; c++)
        map[c] = -1;
    for (i = 0; i < n_rows; i++)
        map[(int)d->y[rows[i]]] = 0;
    for (c = 0; c < d->n_classes; c++)
        k += map[c] == 0;
    if (!(m->cls = aml_mallocarray((size_t)k, sizeof(int32_t))))
        return AML_ENOMEM;
    m->n_cls = 0;
    for (c = 0; c < d->n_classes; c++)
        if (map[c] == 0) {
            map[c] = m->n_cls;
            m->cls[m->n_cls++] = c;
        }
    return AML_OK;
}

/* Copies rows x feat of X into out (allocated here); feat NULL: every column. */
static int subfit_gather(aml_matrix *out, const aml_matrix *X, const size_t *rows,
                         size_t n_rows, const int32_t *feat, size_t n_feat)
{
    size_t i, j;
    int rc;

    if ((rc = aml_matrix_init(out, n_rows, n_feat)) < 0)
        return rc;
    for (i = 0; i < n_rows; i++) {
        const double *src = aml_matrix_row(X, rows ? rows[i] : i);
        double *dst = aml_matrix_row(out, i);

        if (!feat)
            memcpy(dst, src, n_feat * sizeof(double));
        for (j = 0; j < n_feat && feat; j++)
            dst[j] = src[feat[j]];
    }
    return AML_OK;
}

/* Targets (classes renumbered through map) and weights of the member's rows. */
static int subfit_targets(const aml_subfit_data *d, const size_t *rows, size_t n_rows,
                          const int *map, double **y, double **w)
{
    size_t i;

    *y = aml_mallocarray(n_rows, sizeof(double));
    *w = d->w ? aml_mallocarray(n_rows, sizeof(double)) : NULL;
    if (!*y || (d->w && !*w))
        return AML_ENOMEM;
    for (i = 0; i < n_rows; i++) {
        double v = d->y[rows[i]];

        (*y)[i] = map ? (double)map[(int)v] : v;
        if (d->w)
            (*w)[i] = d->w[rows[i]];
    }
    return AML_OK;
}

static int subfit_columns(aml_subfit *m, const size_t *feat, size_t n_feat, size_t p)
{
    size_t j;

    m->n_feat = n_feat;
    if (!feat || n_feat == p)
        return AML_OK; /* increasing and all of them: the identity */
    if (!(m->feat = aml_mallocarray(n_feat, sizeof(int32_t))))
        return AML_ENOMEM;
    for (j = 0; j < n_feat; j++)
        m->feat[j] = (int32_t)feat[j];
    return AML_OK;
}

int aml_subfit_fit(aml_subfit *m, const aml_learner_type *type, const aml_subfit_data *d,
                   const size_t *rows, size_t n_rows, const size_t *feat, size_t n_feat,
                   aml_rng *rng, int threads)
{
    int clf = d->task == AML_TASK_CLASSIFICATION;
    aml_matrix X = {0};
    double *y = NULL, *w = NULL;
    int *map = NULL;
    int rc;

    memset(m, 0, sizeof(*m));
    if ((rc = subfit_columns(m, feat, n_feat, d->X->cols)) < 0)
        goto out;
    if (clf) {
        if (!(map = aml_mallocarray((size_t)d->n_classes, sizeof(int))))
            rc = AML_ENOMEM;
        else
            rc = subfit_classes(m, d, rows, n_rows, map);
        if (rc < 0 || m->n_cls < 2)
            goto out; /* one class: a constant member */
    }
    if ((rc = subfit_gather(&X, d->X, rows, n_rows, m->feat, n_feat)) < 0 ||
        (rc = subfit_targets(d, rows, n_rows, map, &y, &w)) < 0 ||
        (rc = aml_learner_new(&m->l, type, d->task)) < 0)
        goto out;
    rc = aml_learner_fit(m->l, &X, y, w, m->n_cls, rng, threads);
out:
    aml_matrix_dispose(&X);
    free(y);
    free(w);
    free(map);
    if (rc < 0)
        aml_subfit_dispose(m);
    return rc;
}

/* ---- predict and importance --------------------------------------------- */

/* Probabilities of the member's classes into out, put back at the full indices. */
static void subfit_scatter(const aml_subfit *m, const double *p, size_t rows, size_t C,
                           double *out)
{
    size_t i, c, k = (size_t)m->n_cls;

    memset(out, 0, rows * C * sizeof(double));
    for (i = 0; i < rows; i++)
        for (c = 0; c < k; c++)
            out[i * C + (size_t)m->cls[c]] = m->l ? p[i * k + c] : 1.0;
}

int aml_subfit_predict(const aml_subfit *m, const aml_matrix *X, aml_task task,
                       int n_classes, double *out)
{
    size_t C = (size_t)n_classes;
    aml_matrix sub = {0};
    const aml_matrix *in = X;
    double *p = NULL;
    int rc = AML_OK;

    if (m->l && m->feat) {
        if ((rc = subfit_gather(&sub, X, NULL, X->rows, m->feat, m->n_feat)) < 0)
            return rc;
        in = &sub;
    }
    if (task == AML_TASK_REGRESSION || (m->l && (size_t)m->n_cls == C)) {
        rc = aml_learner_predict(m->l, in, out);
    } else if (!m->l) {
        subfit_scatter(m, NULL, X->rows, C, out);
    } else if (!(p = aml_mallocarray(X->rows * (size_t)m->n_cls + 1, sizeof(double)))) {
        rc = AML_ENOMEM;
    } else if ((rc = aml_learner_predict(m->l, in, p)) == AML_OK) {
        subfit_scatter(m, p, X->rows, C, out);
    }
    free(p);
    aml_matrix_dispose(&sub);
    return rc;
}

int aml_subfit_importance_add(const aml_subfit *m, double scale, double *acc)
{
    double *imp, s = 0;
    size_t j;
    int rc;

    if (!m->l)
        return 0;
    if (!(imp = aml_mallocarray(m->n_feat, sizeof(double))))
        return AML_ENOMEM;
    if ((rc = aml_learner_importance(m->l, imp)) == AML_OK) {
        for (j = 0; j < m->n_feat; j++)
            s += imp[j];
        for (j = 0; j < m->n_feat && s > 0; j++)
            acc[m->feat ? (size_t)m->feat[j] : j] += scale * imp[j] / s;
        rc = s > 0;
    }
    free(imp);
    return rc;
}

/* ---- save / load -------------------------------------------------------- */

int aml_subfit_save(const aml_subfit *m, aml_task task, aml_writer *w)
{
    aml_put_u64(w, (uint64_t)m->n_feat);
    aml_put_u8(w, m->feat != NULL);
    if (m->feat)
        aml_put_i32s(w, m->feat, m->n_feat);
    if (task == AML_TASK_CLASSIFICATION) {
        aml_put_u32(w, (uint32_t)m->n_cls);
        aml_put_i32s(w, m->cls, (size_t)m->n_cls);
    }
    aml_put_u8(w, m->l != NULL);
    if (w->failed)
        return AML_ENOMEM;
    return m->l ? aml_learner_save(m->l, w) : AML_OK;
}

/* Reads n increasing indices below limit into *out (allocated here). */
static int subfit_get_index(aml_reader *r, const char *who, int32_t **out, size_t n,
                            size_t limit)
{
    size_t i;
    int rc;

    if ((rc = aml_reader_need(r, n, 4)) < 0)
        return rc;
    if (!(*out = aml_mallocarray(n, sizeof(int32_t))))
        return AML_ENOMEM;
    if ((rc = aml_get_i32s(r, *out, n)) < 0)
        return rc;
    for (i = 0; i < n; i++)
        if ((*out)[i] < 0 || (size_t)(*out)[i] >= limit ||
            (i > 0 && (*out)[i] <= (*out)[i - 1]))
            return aml_error_set(AML_EFORMAT, "%s: corrupt member index in model", who);
    return AML_OK;
}

/* The member's columns and classes. */
static int subfit_load_header(aml_subfit *m, aml_reader *r, const char *who,
                              aml_task task, size_t p, int n_classes, uint8_t *has_l)
{
    uint64_t n_feat;
    uint32_t n_cls = 0;
    uint8_t has_feat;
    int rc;

    if ((rc = aml_get_u64(r, &n_feat)) < 0 || (rc = aml_get_u8(r, &has_feat)) < 0)
        return rc;
    if (n_feat < 1 || n_feat > p || has_feat != (n_feat < p))
        return aml_error_set(AML_EFORMAT, "%s: corrupt member columns in model", who);
    m->n_feat = (size_t)n_feat;
    if (has_feat && (rc = subfit_get_index(r, who, &m->feat, m->n_feat, p)) < 0)
        return rc;
    if (task == AML_TASK_CLASSIFICATION) {
        if ((rc = aml_get_u32(r, &n_cls)) < 0)
            return rc;
        if (n_cls < 1 || n_cls > (uint32_t)n_classes || n_cls > SUBFIT_MAX_CLASSES)
            return aml_error_set(AML_EFORMAT, "%s: corrupt member classes in model", who);
        m->n_cls = (int)n_cls;
        if ((rc = subfit_get_index(r, who, &m->cls, n_cls, (size_t)n_classes)) < 0)
            return rc;
    }
    if ((rc = aml_get_u8(r, has_l)) < 0)
        return rc;
    if (*has_l != (task == AML_TASK_REGRESSION || n_cls >= 2))
        return aml_error_set(AML_EFORMAT, "%s: corrupt member in model", who);
    return AML_OK;
}

/* The nested learner's type name, read from a copy of the reader. */
static int subfit_peek_type(const aml_reader *r, const char *who,
                            const aml_learner_type *type)
{
    aml_reader peek = *r;
    char *name = NULL;
    int rc, same;

    if ((rc = aml_get_str(&peek, &name)) < 0)
        return rc;
    same = name && strcmp(name, type->name) == 0;
    free(name);
    if (!same)
        return aml_error_set(AML_EFORMAT, "%s: member is not a '%s' in model", who,
                             type->name);
    return AML_OK;
}

int aml_subfit_load(aml_subfit *m, aml_reader *r, const char *who,
                    const aml_learner_type *type, aml_task task, size_t p, int n_classes)
{
    uint8_t has_l = 0;
    int rc;

    memset(m, 0, sizeof(*m));
    if ((rc = subfit_load_header(m, r, who, task, p, n_classes, &has_l)) < 0 || !has_l)
        goto out;
    if ((rc = subfit_peek_type(r, who, type)) < 0 ||
        (rc = aml_learner_load(&m->l, r)) < 0)
        goto out;
    if (m->l->task != task || m->l->n_features != m->n_feat ||
        (task == AML_TASK_CLASSIFICATION && m->l->n_classes != m->n_cls))
        rc = aml_error_set(AML_EFORMAT, "%s: member does not fit the model", who);
out:
    if (rc < 0)
        aml_subfit_dispose(m);
    return rc;
}

/* ---- C export ----------------------------------------------------------- */

/* The largest column and class counts of the members (at least 1). */
static void subfit_widths(const aml_subfit *m, size_t M, size_t *P, size_t *K,
                          int *gather)
{
    size_t t;

    *P = *K = 1;
    *gather = 0;
    for (t = 0; t < M; t++) {
        *P = m[t].n_feat > *P ? m[t].n_feat : *P;
        *K = (size_t)m[t].n_cls > *K ? (size_t)m[t].n_cls : *K;
        *gather |= m[t].feat != NULL;
    }
}

/*
 * The member tables: per member its column count and offset into the
 * column list (every member's columns listed when any member has a subset),
 * its class count and offset into the class list.  Each list ends with one
 * spare 0, so no array is empty.
 */
static int subfit_emit_tables(const aml_subfit *m, size_t M, aml_task task, int gather,
                              aml_cgen *g, const char *nm)
{
    size_t t, j, n_feat = 0, n_cls = 0;
    int *info = NULL, *feat = NULL, *cls = NULL, rc = AML_ENOMEM;
    char buf[96];

    for (t = 0; t < M; t++) {
        n_feat += gather ? m[t].n_feat : 0;
        n_cls += task == AML_TASK_CLASSIFICATION ? (size_t)m[t].n_cls : 1;
    }
    info = aml_mallocarray(4 * M, sizeof(int));
    feat = aml_calloc(n_feat + 1, sizeof(int));
    cls = aml_calloc(n_cls + 1, sizeof(int));
    if (!info || !feat || !cls)
        goto out;
    for (t = 0, n_feat = n_cls = 0; t < M; t++) {
        info[4 * t] = (int)m[t].n_feat;
        info[4 * t + 1] = (int)n_feat;
        info[4 * t + 2] = task == AML_TASK_CLASSIFICATION ? m[t].n_cls : 1;
        info[4 * t + 3] = (int)n_cls;
        for (j = 0; gather && j < m[t].n_feat; j++)
            feat[n_feat++] = m[t].feat ? m[t].feat[j] : (int)j;
        for (j = 0; j < (size_t)info[4 * t + 2]; j++)
            cls[n_cls++] = task == AML_TASK_CLASSIFICATION ? m[t].cls[j] : 0;
    }
    snprintf(buf, sizeof(buf), "%s_info", nm);
    aml_cgen_ints(g, buf, info, 4 * M);
    snprintf(buf, sizeof(buf), "%s_feat", nm);
    aml_cgen_ints(g, buf, feat, n_feat + 1);
    snprintf(buf, sizeof(buf), "%s_cls", nm);
    rc = aml_cgen_ints(g, buf, cls, n_cls + 1);
out:
    free(info);
    free(feat);
    free(cls);
    return rc;
}

/* Every member's own function, then the table of them (NULL: a constant member). */
static int subfit_emit_members(const aml_subfit *m, size_t M, aml_cgen *g, const char *nm)
{
    char(*fns)[64] = aml_calloc(M + 1, sizeof(*fns));
    size_t t;
    int rc = AML_OK;

    if (!fns)
        return AML_ENOMEM;
    for (t = 0; t < M && rc == AML_OK; t++)
        if (m[t].l && (rc = aml_cgen_name(g, "member", fns[t], sizeof(fns[t]))) == AML_OK)
            rc = aml_learner_emit_c(m[t].l, g, fns[t]);
    if (rc == AML_OK)
        aml_cgen_printf(
            g, "static void (*const %s_fns[%zu])(const double *, double *) = {\n", nm, M);
    for (t = 0; t < M && rc == AML_OK; t++)
        aml_cgen_printf(g, "    %s,\n", m[t].l ? fns[t] : "0");
    if (rc == AML_OK)
        rc = aml_cgen_printf(g, "};\n\n");
    free(fns);
    return rc;
}

int aml_subfit_emit_c(const aml_subfit *m, size_t M, aml_task task, int n_out,
                      aml_cgen *g, char *nm, size_t len)
{
    size_t P, K;
    int gather, rc;

    subfit_widths(m, M, &P, &K, &gather);
    if ((rc = aml_cgen_name(g, "members", nm, len)) < 0 ||
        (rc = subfit_emit_members(m, M, g, nm)) < 0 ||
        (rc = subfit_emit_tables(m, M, task, gather, g, nm)) < 0)
        return rc;
    aml_cgen_printf(g,
                    "/* Member t's outputs at the full class indices (0 elsewhere). */\n"
                    "static void %s_member(size_t t, const double *x, double *part)\n{\n"
                    "    const int *info = %s_info + 4 * t;\n"
                    "    double o[%zu];\n    int c;\n\n"
                    "    for (c = 0; c < %d; c++)\n        part[c] = 0;\n"
                    "    if (!%s_fns[t]) {\n"
                    "        part[%s_cls[info[3]]] = 1.0;\n        return;\n    }\n",
                    nm, nm, K, n_out, nm, nm);
    if (gather)
        aml_cgen_printf(g,
                        "    {\n        double xs[%zu];\n        int j;\n\n"
                        "        for (j = 0; j < info[0]; j++)\n"
                        "            xs[j] = x[%s_feat[info[1] + j]];\n"
                        "        %s_fns[t](xs, o);\n    }\n",
                        P, nm, nm);
    else
        aml_cgen_printf(g, "    (void)%s_feat;\n    %s_fns[t](x, o);\n", nm, nm);
    return aml_cgen_printf(g,
                           "    for (c = 0; c < info[2]; c++)\n"
                           "        part[%s_cls[info[3] + c]] = o[c];\n}\n\n",
                           nm);
}
