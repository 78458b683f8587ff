/*
 * stack.c - stacked generalisation over ensemble members (see stack.h;
 * D. H. Wolpert, "Stacked Generalization", Neural Networks 5(2), 1992).
 *
 * Layer 1 is one learner per name in o->meta, each with its default
 * parameters, trained on X1 = [Z | prep(f)]: the members' out-of-fold
 * outputs and, with passthrough, the original inputs through a
 * preprocessing the stack fits itself (default options: mean imputation,
 * one-hot, no scaling).  With one layer the stack's output is the plain
 * mean of the layer-1 learners' outputs (one learner: its output).  With
 * two, layer 1 is cross-fitted over the folds first: for each fold g the
 * layer-1 learners are fitted on the rows outside g and predict g, and the
 * `final` learner is trained on those out-of-fold outputs side by side
 * (n x n_meta*K), so it never learns from outputs of rows a layer-1
 * learner saw; layer 1 is then refitted on every row for prediction.
 *
 * The honest estimate (*oof): for each fold g a whole stack (its
 * passthrough preprocessing included, and with two layers its own
 * cross-fitting over the remaining folds) is fitted on the rows outside g
 * and predicts g.  Z itself holds out-of-fold outputs, so this removes the
 * optimism of the stacking step, as aml_ensemble_select_cv does for
 * selection.  Cost: (k + 1) stacks, each n_meta fits (times k with two
 * layers) of a small learner on n x (q + inputs); stacking runs once per
 * study, so everything runs in order on the caller's thread count.
 *
 * Randomness: every fit draws from a child of the caller's generator whose
 * stream says which fit it is, so results do not depend on thread counts.
 */
#include "stack.h"
#include "aml.h"
#include "prep.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Format version of a saved stack. */
#define STACK_FORMAT 1u
/* Sanity bounds on what a file may claim. */
#define STACK_MAX_META 1024u
#define STACK_MAX_INPUTS (1u << 24)
#define STACK_MAX_CLASSES (1u << 20)
/* Generator streams (children of the fit's generator). */
#define STACK_STREAM_CROSS 0x10000ULL /* + fold: layer-1 cross-fitting */
#define STACK_STREAM_FINAL 0xF1A1ULL
#define STACK_STREAM_OOF 0x20000ULL /* + fold: the honest estimate's stacks */

struct aml_stack {
    int layers;
    aml_task task;
    int n_classes; /* classification; 0 for regression */
    int K;         /* outputs per row */
    size_t q;      /* member output columns */
    int passthrough;
    aml_prep *prep; /* passthrough only */
    size_t n_meta;
    aml_learner **meta;
    aml_learner *final; /* layers == 2 */
};

/* What one fit sees: the caller's inputs and a subset of their rows. */
typedef struct stack_data {
    const aml_stack_options *o;
    aml_task task;
    int n_classes;
    const double *Z;
    size_t q;
    const aml_frame *f;
    const double *y;
    const int *fold_of;
    int k;
    int threads;
} stack_data;

void aml_stack_free(aml_stack *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; s->meta && i < s->n_meta; i++)
        aml_learner_free(s->meta[i]);
    free(s->meta);
    aml_learner_free(s->final);
    aml_prep_free(s->prep);
    free(s);
}

static int stack_outputs_of(aml_task task, int n_classes)
{
    return task == AML_TASK_CLASSIFICATION ? n_classes : 1;
}

static aml_stack *stack_alloc(const aml_stack_options *o, aml_task task, int n_classes,
                              size_t q)
{
    aml_stack *s = aml_calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->layers = o->layers;
    s->task = task;
    s->n_classes = task == AML_TASK_CLASSIFICATION ? n_classes : 0;
    s->K = stack_outputs_of(task, n_classes);
    s->q = q;
    s->passthrough = o->passthrough ? 1 : 0;
    s->n_meta = o->n_meta;
    if (!(s->meta = aml_calloc(o->n_meta, sizeof(*s->meta)))) {
        free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------- checks */

static int check_learner_name(const char *name, aml_task task, const char *role)
{
    const aml_learner_type *t = name ? aml_learner_type_find(name) : NULL;

    if (!t)
        return aml_error_set(AML_EINVAL, "stack: unknown %s learner '%s'", role,
                             name ? name : "(none)");
    if (!(t->tasks & AML_TASK_BIT(task)))
        return aml_error_set(
            AML_EINVAL, "stack: %s learner '%s' does not do %s", role, name,
            task == AML_TASK_CLASSIFICATION ? "classification" : "regression");
    return AML_OK;
}

static int check_options(const aml_stack_options *o, aml_task task, int n_classes)
{
    size_t i;
    int rc;

    if (!o || (o->layers != 1 && o->layers != 2))
        return aml_error_set(AML_EINVAL, "stack: layers must be 1 or 2");
    if (!o->meta || o->n_meta < 1 || o->n_meta > STACK_MAX_META)
        return aml_error_set(AML_EINVAL, "stack: 1 to %u layer-1 learners, not %zu",
                             STACK_MAX_META, o ? o->n_meta : 0);
    if (task != AML_TASK_CLASSIFICATION && task != AML_TASK_REGRESSION)
        return aml_error_set(AML_EINVAL, "stack: unknown task %d", (int)task);
    if (task == AML_TASK_CLASSIFICATION &&
        (n_classes < 2 || n_classes > (int)STACK_MAX_CLASSES))
        return aml_error_set(AML_EINVAL, "stack: %d classes", n_classes);
    for (i = 0; i < o->n_meta; i++)
        if ((rc = check_learner_name(o->meta[i], task, "layer-1")) < 0)
            return rc;
    if (o->layers == 2 && (rc = check_learner_name(o->final, task, "final")) < 0)
        return rc;
    return AML_OK;
}

static int check_rows(const stack_data *d, size_t n)
{
    size_t i, j, *count;
    int g, filled = 0;

    if (!d->Z || !d->y || !d->fold_of || d->q < 1 || d->q > STACK_MAX_INPUTS || n < 2)
        return aml_error_set(AML_EINVAL,
                             "stack: needs member outputs (q >= 1), targets and folds "
                             "for at least 2 rows (q = %zu, n = %zu)",
                             d->q, n);
    if (d->k < 2)
        return aml_error_set(AML_EINVAL, "stack: %d folds; at least 2", d->k);
    if (d->o->passthrough && (!d->f || aml_frame_rows(d->f) != n))
        return aml_error_set(AML_EINVAL,
                             "stack: passthrough needs the training frame "
                             "of the %zu rows",
                             n);
    if (!(count = aml_calloc((size_t)d->k, sizeof(size_t))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++) {
        if (d->fold_of[i] < 0 || d->fold_of[i] >= d->k) {
            free(count);
            return aml_error_set(AML_EINVAL,
                                 "stack: row %zu is in fold %d, outside 0..%d", i,
                                 d->fold_of[i], d->k - 1);
        }
        count[d->fold_of[i]]++;
    }
    for (g = 0; g < d->k; g++)
        filled += count[g] > 0;
    free(count);
    if (filled < 2)
        return aml_error_set(AML_EINVAL, "stack: every row is in one fold");
    for (i = 0; i < n; i++) {
        int bad = !isfinite(d->y[i]) ||
                  (d->task == AML_TASK_CLASSIFICATION &&
                   (d->y[i] != floor(d->y[i]) || d->y[i] < 0 || d->y[i] >= d->n_classes));

        for (j = 0; j < d->q && !bad; j++)
            bad = !isfinite(d->Z[i * d->q + j]);
        if (bad)
            return aml_error_set(AML_EINVAL,
                                 "stack: row %zu has a non-finite output or "
                                 "a bad target",
                                 i);
    }
    return AML_OK;
}

/* ------------------------------------------------------------- inputs */

/*
 * Layer 1's input for n rows: row zrows[i] of Z (zrows NULL: row i), then
 * with passthrough the prep's output for frame row rows[i] (rows NULL: i).
 */
static int layer1_input(const aml_stack *s, const double *Z, const size_t *zrows,
                        const aml_frame *f, const size_t *rows, size_t n, aml_matrix *X)
{
    aml_matrix P = {0};
    size_t i, pw = s->prep ? aml_prep_width(s->prep) : 0;
    int rc;

    if (s->passthrough && (rc = aml_prep_transform(s->prep, f, rows, n, &P)) < 0)
        return rc;
    if ((rc = aml_matrix_init(X, n, s->q + pw)) < 0) {
        aml_matrix_dispose(&P);
        return rc;
    }
    for (i = 0; i < n; i++) {
        memcpy(aml_matrix_row(X, i), Z + (zrows ? zrows[i] : i) * s->q,
               s->q * sizeof(double));
        if (pw)
            memcpy(aml_matrix_row(X, i) + s->q, aml_matrix_row(&P, i),
                   pw * sizeof(double));
    }
    aml_matrix_dispose(&P);
    return AML_OK;
}

/* Copies rows[0..n) of the full layer-1 input into a new matrix. */
static int gather_rows(const aml_matrix *X, const size_t *rows, size_t n, aml_matrix *out)
{
    size_t i;
    int rc;

    if ((rc = aml_matrix_init(out, n, X->cols)) < 0)
        return rc;
    for (i = 0; i < n; i++)
        memcpy(aml_matrix_row(out, i), aml_matrix_row(X, rows[i]),
               X->cols * sizeof(double));
    return AML_OK;
}

static int new_learner(aml_learner **out, const char *name, aml_task task)
{
    return aml_learner_new(out, aml_learner_type_find(name), task);
}

/* Layer 1's outputs for X into out (n x n_meta*K), learner i in columns i*K.. */
static int layer1_predict(const aml_stack *s, aml_learner *const *meta,
                          const aml_matrix *X, double *out)
{
    size_t i, r, K = (size_t)s->K, w = s->n_meta * K;
    double *tmp = aml_mallocarray(X->rows * K + 1, sizeof(double));
    int rc = AML_OK;

    if (!tmp)
        return AML_ENOMEM;
    for (i = 0; i < s->n_meta && rc == AML_OK; i++) {
        if ((rc = aml_learner_predict(meta[i], X, tmp)) < 0)
            break;
        for (r = 0; r < X->rows; r++)
            memcpy(out + r * w + i * K, tmp + r * K, K * sizeof(double));
    }
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------- fitting */

/*
 * Layer 1's out-of-fold outputs over the folds of rows[0..n) (X holds those
 * rows in order): O (n x n_meta*K).  Folds with no row are skipped.
 */
static int cross_fit(const aml_stack *s, const stack_data *d, const aml_matrix *X,
                     const double *y, const size_t *rows, size_t n, aml_rng *rng,
                     double *O)
{
    size_t *tr = aml_mallocarray(n, sizeof(size_t)),
           *te = aml_mallocarray(n, sizeof(size_t));
    double *ytr = aml_mallocarray(n, sizeof(double));
    double *P = aml_mallocarray(n * s->n_meta * (size_t)s->K + 1, sizeof(double));
    size_t i, ntr, nte, w = s->n_meta * (size_t)s->K;
    int g, rc = AML_ENOMEM;

    if (!tr || !te || !ytr || !P)
        goto out;
    rc = AML_OK;
    for (g = 0; g < d->k && rc == AML_OK; g++) {
        aml_learner **meta = aml_calloc(s->n_meta, sizeof(*meta));
        aml_matrix Xtr = {0}, Xte = {0};
        aml_rng frng;

        for (i = ntr = nte = 0; i < n; i++) {
            if (d->fold_of[rows[i]] == g)
                te[nte++] = i;
            else
                ytr[ntr] = y[i], tr[ntr++] = i;
        }
        if (!meta)
            rc = AML_ENOMEM;
        if (nte == 0 || ntr == 0 || rc < 0) {
            free(meta);
            continue;
        }
        aml_rng_child(&frng, rng, STACK_STREAM_CROSS + (uint64_t)g);
        if ((rc = gather_rows(X, tr, ntr, &Xtr)) == AML_OK &&
            (rc = gather_rows(X, te, nte, &Xte)) == AML_OK) {
            for (i = 0; i < s->n_meta && rc == AML_OK; i++) {
                aml_rng lrng;

                aml_rng_child(&lrng, &frng, i);
                if ((rc = new_learner(&meta[i], d->o->meta[i], s->task)) == AML_OK)
                    rc = aml_learner_fit(meta[i], &Xtr, ytr, NULL, d->n_classes, &lrng,
                                         d->threads);
            }
            if (rc == AML_OK && (rc = layer1_predict(s, meta, &Xte, P)) == AML_OK)
                for (i = 0; i < nte; i++)
                    memcpy(O + te[i] * w, P + i * w, w * sizeof(double));
        }
        for (i = 0; i < s->n_meta; i++)
            aml_learner_free(meta[i]);
        free(meta);
        aml_matrix_dispose(&Xtr);
        aml_matrix_dispose(&Xte);
    }
out:
    free(tr);
    free(te);
    free(ytr);
    free(P);
    return rc;
}

/* Layer 2: the final learner on layer 1's out-of-fold outputs. */
static int fit_final(aml_stack *s, const stack_data *d, const aml_matrix *X,
                     const double *y, const size_t *rows, size_t n, aml_rng *rng)
{
    aml_matrix O = {0};
    aml_rng frng;
    int rc;

    if ((rc = aml_matrix_init(&O, n, s->n_meta * (size_t)s->K)) < 0)
        return rc;
    if ((rc = cross_fit(s, d, X, y, rows, n, rng, O.data)) == AML_OK &&
        (rc = new_learner(&s->final, d->o->final, s->task)) == AML_OK) {
        aml_rng_child(&frng, rng, STACK_STREAM_FINAL);
        rc = aml_learner_fit(s->final, &O, y, NULL, d->n_classes, &frng, d->threads);
    }
    aml_matrix_dispose(&O);
    return rc;
}

/* The number of folds holding rows[0..n). */
static int folds_present(const stack_data *d, const size_t *rows, size_t n)
{
    unsigned char *seen = aml_calloc((size_t)d->k, 1);
    int g, count = 0;
    size_t i;

    if (!seen)
        return -1;
    for (i = 0; i < n; i++)
        seen[d->fold_of[rows[i]]] = 1;
    for (g = 0; g < d->k; g++)
        count += seen[g];
    free(seen);
    return count;
}

/* Fits a stack on rows[0..n) of d's inputs. */
static int stack_fit_rows(aml_stack **out, const stack_data *d, const size_t *rows,
                          size_t n, aml_rng *rng)
{
    aml_stack *s = stack_alloc(d->o, d->task, d->n_classes, d->q);
    aml_prep_options popt = {0}; /* the defaults: mean imputation, one-hot, no scaling */
    aml_matrix X = {0};
    double *y = aml_mallocarray(n, sizeof(double));
    size_t i;
    int rc = AML_ENOMEM;

    *out = NULL;
    if (!s || !y)
        goto fail;
    for (i = 0; i < n; i++)
        y[i] = d->y[rows[i]];
    if (s->layers == 2 && folds_present(d, rows, n) < 2) {
        rc = aml_error_set(AML_EINVAL, "stack: two layers need rows in at least 2 folds "
                                       "to cross-fit layer 1 (use more folds)");
        goto fail;
    }
    if ((s->passthrough && (rc = aml_prep_fit(&s->prep, d->f, rows, n, &popt)) < 0) ||
        (rc = layer1_input(s, d->Z, rows, d->f, rows, n, &X)) < 0)
        goto fail;
    for (i = 0; i < s->n_meta; i++) {
        aml_rng lrng;

        aml_rng_child(&lrng, rng, i);
        if ((rc = new_learner(&s->meta[i], d->o->meta[i], s->task)) < 0 ||
            (rc = aml_learner_fit(s->meta[i], &X, y, NULL, d->n_classes, &lrng,
                                  d->threads)) < 0)
            goto fail;
    }
    if (s->layers == 2 && (rc = fit_final(s, d, &X, y, rows, n, rng)) < 0)
        goto fail;
    aml_matrix_dispose(&X);
    free(y);
    *out = s;
    return AML_OK;
fail:
    aml_matrix_dispose(&X);
    free(y);
    aml_stack_free(s);
    return rc;
}

/* Copies rows[0..n) of Z (q columns) into out. */
static void gather_z(const double *Z, size_t q, const size_t *rows, size_t n, double *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        memcpy(out + i * q, Z + rows[i] * q, q * sizeof(double));
}

/* The honest estimate: fold g's rows predicted by a stack fitted outside g. */
static int stack_oof(const stack_data *d, size_t n, aml_rng *rng, double *oof)
{
    size_t *tr = aml_mallocarray(n, sizeof(size_t)),
           *te = aml_mallocarray(n, sizeof(size_t));
    size_t i, ntr, nte, K = (size_t)stack_outputs_of(d->task, d->n_classes);
    double *part = aml_mallocarray(n * K + 1, sizeof(double));
    double *zte = aml_mallocarray(n * d->q + 1, sizeof(double));
    int g, rc = tr && te && part && zte ? AML_OK : AML_ENOMEM;

    for (g = 0; g < d->k && rc == AML_OK; g++) {
        aml_stack *s = NULL;
        aml_rng grng;

        for (i = ntr = nte = 0; i < n; i++) {
            if (d->fold_of[i] == g)
                te[nte++] = i;
            else
                tr[ntr++] = i;
        }
        if (nte == 0)
            continue;
        gather_z(d->Z, d->q, te, nte, zte);
        aml_rng_child(&grng, rng, STACK_STREAM_OOF + (uint64_t)g);
        if ((rc = stack_fit_rows(&s, d, tr, ntr, &grng)) == AML_OK &&
            (rc = aml_stack_predict(s, zte, d->f, te, nte, part)) == AML_OK)
            for (i = 0; i < nte; i++)
                memcpy(oof + te[i] * K, part + i * K, K * sizeof(double));
        aml_stack_free(s);
    }
    free(tr);
    free(te);
    free(part);
    free(zte);
    return rc;
}

int aml_stack_fit(aml_stack **out, const aml_stack_options *o, aml_task task,
                  int n_classes, const double *Z, size_t n, size_t q, const aml_frame *f,
                  const double *y, const int *fold_of, int k, aml_rng *rng, int threads,
                  double *oof)
{
    stack_data d = {o, task, n_classes, Z, q,
                    f, y,    fold_of,   k, threads > 0 ? threads : 1};
    size_t *all = NULL, i;
    aml_rng full;
    int rc;

    *out = NULL;
    if ((rc = check_options(o, task, n_classes)) < 0 || (rc = check_rows(&d, n)) < 0)
        return rc;
    if (!(all = aml_mallocarray(n, sizeof(size_t))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        all[i] = i;
    aml_rng_child(&full, rng, 0);
    if ((rc = stack_fit_rows(out, &d, all, n, &full)) == AML_OK && oof &&
        (rc = stack_oof(&d, n, rng, oof)) < 0) {
        aml_stack_free(*out);
        *out = NULL;
    }
    free(all);
    return rc;
}

/* ------------------------------------------------------------- prediction */

int aml_stack_predict(const aml_stack *s, const double *Z, const aml_frame *f,
                      const size_t *rows, size_t n, double *out)
{
    size_t K = (size_t)s->K, w = s->n_meta * K, i, t;
    aml_matrix X = {0}, O = {0};
    int rc;

    if (!Z || (s->passthrough && !f))
        return aml_error_set(AML_EINVAL,
                             "stack: no member outputs or no frame to predict");
    if (!rows && s->passthrough && aml_frame_rows(f) < n)
        return aml_error_set(AML_EINVAL, "stack: %zu rows asked of a frame of %zu", n,
                             aml_frame_rows(f));
    if ((rc = layer1_input(s, Z, NULL, f, rows, n, &X)) < 0 ||
        (rc = aml_matrix_init(&O, n, w)) < 0 ||
        (rc = layer1_predict(s, s->meta, &X, O.data)) < 0)
        goto out;
    if (s->layers == 2) {
        rc = aml_learner_predict(s->final, &O, out);
        goto out;
    }
    /* One layer: the plain mean of the layer-1 learners' outputs, in learner order. */
    for (i = 0; i < n; i++)
        for (t = 0; t < K; t++) {
            double sum = 0;
            size_t j;

            for (j = 0; j < s->n_meta; j++)
                sum += O.data[i * w + j * K + t];
            out[i * K + t] = s->n_meta == 1 ? sum : sum / (double)s->n_meta;
        }
out:
    aml_matrix_dispose(&X);
    aml_matrix_dispose(&O);
    return rc;
}

int aml_stack_outputs(const aml_stack *s)
{
    return s->K;
}

/* ------------------------------------------------------------- the file */

/*
 * Layout: u32 format, u32 layers, u32 task, u32 classes, u64 q,
 * u8 passthrough, [the prep], u32 layer-1 learners, each learner,
 * [the final learner].
 */
int aml_stack_save(const aml_stack *s, aml_writer *w)
{
    size_t i;
    int rc;

    aml_put_u32(w, STACK_FORMAT);
    aml_put_u32(w, (uint32_t)s->layers);
    aml_put_u32(w, (uint32_t)s->task);
    aml_put_u32(w, (uint32_t)s->n_classes);
    aml_put_u64(w, (uint64_t)s->q);
    aml_put_u8(w, (uint8_t)s->passthrough);
    if (s->passthrough && (rc = aml_prep_save(s->prep, w)) < 0)
        return rc;
    aml_put_u32(w, (uint32_t)s->n_meta);
    for (i = 0; i < s->n_meta; i++)
        if ((rc = aml_learner_save(s->meta[i], w)) < 0)
            return rc;
    if (s->layers == 2 && (rc = aml_learner_save(s->final, w)) < 0)
        return rc;
    return w->failed ? AML_ENOMEM : AML_OK;
}

static int load_header(aml_stack *s, aml_reader *r, uint32_t *n_meta)
{
    uint32_t format, layers, task, n_classes;
    uint64_t q;
    uint8_t pass;
    int rc;

    if ((rc = aml_get_u32(r, &format)) < 0 || (rc = aml_get_u32(r, &layers)) < 0 ||
        (rc = aml_get_u32(r, &task)) < 0 || (rc = aml_get_u32(r, &n_classes)) < 0 ||
        (rc = aml_get_u64(r, &q)) < 0 || (rc = aml_get_u8(r, &pass)) < 0)
        return rc;
    if (format != STACK_FORMAT || (layers != 1 && layers != 2) ||
        task > AML_TASK_REGRESSION || pass > 1 || q < 1 || q > STACK_MAX_INPUTS ||
        n_classes > STACK_MAX_CLASSES ||
        (task == AML_TASK_CLASSIFICATION ? n_classes < 2 : n_classes != 0))
        return aml_error_set(AML_EFORMAT, "corrupt stack header in model");
    s->layers = (int)layers;
    s->task = (aml_task)task;
    s->n_classes = (int)n_classes;
    s->K = stack_outputs_of(s->task, s->n_classes);
    s->q = (size_t)q;
    s->passthrough = pass;
    if (pass && (rc = aml_prep_load(&s->prep, r)) < 0)
        return rc;
    if ((rc = aml_get_u32(r, n_meta)) < 0)
        return rc;
    if (*n_meta < 1 || *n_meta > STACK_MAX_META || aml_reader_need(r, *n_meta, 8) < 0)
        return aml_error_set(AML_EFORMAT, "corrupt stack learner count in model");
    return AML_OK;
}

/* A loaded learner must take `width` inputs and give the stack's outputs. */
static int check_loaded(const aml_stack *s, const aml_learner *l, size_t width)
{
    if (l->task != s->task || l->n_features != width || aml_learner_outputs(l) != s->K)
        return aml_error_set(AML_EFORMAT, "stack parts do not agree with each other");
    return AML_OK;
}

int aml_stack_load(aml_stack **out, aml_reader *r)
{
    aml_stack *s = aml_calloc(1, sizeof(*s));
    uint32_t n_meta = 0, i = 0;
    size_t width;
    int rc;

    *out = NULL;
    if (!s)
        return AML_ENOMEM;
    if ((rc = load_header(s, r, &n_meta)) < 0)
        goto fail;
    width = s->q + (s->prep ? aml_prep_width(s->prep) : 0);
    if (!(s->meta = aml_calloc(n_meta, sizeof(*s->meta)))) {
        rc = AML_ENOMEM;
        goto fail;
    }
    for (i = 0; i < n_meta; i++, s->n_meta++)
        if ((rc = aml_learner_load(&s->meta[i], r)) < 0 ||
            (rc = check_loaded(s, s->meta[i], width)) < 0)
            goto fail;
    if (s->layers == 2 &&
        ((rc = aml_learner_load(&s->final, r)) < 0 ||
         (rc = check_loaded(s, s->final, s->n_meta * (size_t)s->K)) < 0))
        goto fail;
    *out = s;
    return AML_OK;
fail:
    if (s->meta && i < n_meta && s->meta[i]) /* loaded but not counted yet */
        s->n_meta++;
    aml_stack_free(s);
    return rc;
}

/* ------------------------------------------------------------- structure */

int aml_stack_layers(const aml_stack *s)
{
    return s->layers;
}

size_t aml_stack_inputs(const aml_stack *s)
{
    return s->q;
}

int aml_stack_passthrough(const aml_stack *s)
{
    return s->passthrough;
}

const struct aml_prep *aml_stack_prep(const aml_stack *s)
{
    return s->prep;
}

size_t aml_stack_n_meta(const aml_stack *s)
{
    return s->n_meta;
}

const aml_learner *aml_stack_meta(const aml_stack *s, size_t i)
{
    return i < s->n_meta ? s->meta[i] : NULL;
}

const aml_learner *aml_stack_final(const aml_stack *s)
{
    return s->final;
}
