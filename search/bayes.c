/*
 * bayes.c - Bayesian optimisation with one Gaussian process per learner and
 * expected improvement (Jones, Schonlau and Welch, "Efficient global
 * optimization of expensive black-box functions", J. Global Optim. 13,
 * 1998), set up as in Snoek, Larochelle and Adams ("Practical Bayesian
 * optimization of machine learning algorithms", NIPS 2012): a Matern 5/2
 * kernel with one length-scale per dimension, hyperparameters by maximum
 * marginal likelihood, and batches filled by pretending pending points
 * already returned a value (the "constant liar" of Ginsbourger, Le Riche
 * and Carraro, "Kriging is well-suited to parallelize optimization", 2010).
 *
 * Encoding.  Each learner has its own GP over its own dimensions, mapped to
 * [0, 1]: ranges by their unit position (the inverse of aml_dim_at, so log
 * ranges live in log space and integers sit at the centre of their cell),
 * choices one-hot (a choice has no order, and one-hot gives every pair of
 * choices the same distance), fixed dimensions not at all.  A learner with
 * only fixed dimensions is a GP over zero inputs: one mean and a noise.
 *
 * Phases.  The first n_init * L trials (L learners, n_init from the widest
 * encoding, see bayes_n_init) are a space-filling design: learners take
 * turns and follow a randomly shifted Halton sequence, as in random.c.
 * Afterwards every learner with a successful observation fits its GP and
 * maximises expected improvement over the GLOBAL best score (in the
 * original units, sigma_y * EI of the standardised model), and the learner
 * whose best candidate promises most is asked.  When no learner has a
 * successful observation yet the Halton design simply continues.
 *
 * GP (gp.c).  y is standardised per learner.  Hyperparameters (log
 * length-scales, log signal variance, log noise variance, bounded) maximise
 * the log marginal likelihood by L-BFGS with its analytic gradient, from
 * the previous fit (warm start), the default and one random start drawn
 * from a generator seeded by (seed, tells so far).  They are refitted after
 * every batch while a learner has few observations, then only when its
 * observations grew by an eighth since the last fit (bayes_refit_due); in
 * between, the GP takes the new points with the last hyperparameters.  The
 * Cholesky factor comes from LAPACK dpotrf_ with jitter 1e-8 raised tenfold
 * on failure.  At most BAYES_MAX_OBS observations (the best ones) enter a
 * GP, so a long run stays O(BAYES_MAX_OBS^3) per batch.
 *
 * Acquisition.  BAYES_N_RAND uniform candidates from the trial's generator
 * plus perturbations of the best observations, scored together (one kernel
 * block and one BLAS triangular solve), then a shrinking-step hill climb
 * from the best few.  Candidates are snapped to what the space can express
 * (decode then encode) before scoring, so an integer or choice is judged
 * at the value it will actually take.
 *
 * Batches and determinism.  The runner asks a batch, then tells it in trial
 * order.  ask remembers what it proposed (trial, learner, encoding); trial
 * t sees as pending every remembered trial in [tells so far, t), fed to its
 * learner's GP with the learner's best standardised score as the lie, so a
 * batch spreads out.  Every proposal is therefore a function of the seed,
 * the trial number and the tells so far: randomness comes from the trial's
 * generator or from generators seeded by (seed, tells).
 *
 * No repeats.  Every configuration proposed or told is remembered (seen.h).
 * A candidate already proposed (told, failed or pending) scores below any
 * EI; if the winner is one anyway (a small discrete space), or the design
 * point is, a random unseen configuration of the same learner (or of the
 * next ones when it is used up) replaces it, and a finite space with every
 * point proposed answers AML_EXHAUSTED.
 *
 * Failures.  A failed trial (ok = 0) never enters a GP, and is never
 * proposed again (above).
 *
 * Not done: input warping, GP-hedge portfolios, integrated acquisition over
 * hyperparameter samples (Snoek et al. section 3.2), conditional
 * dimensions across learners, and trial costs (EI per second).
 */
#include "search.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "bayes_internal.h"
#include "gp.h"
#include "seen.h"

#define BAYES_MAX_OBS 200 /* observations entering one GP (the best ones) */
#define BAYES_N_RAND 512  /* random EI candidates per learner and ask */
#define BAYES_N_LOCAL 4   /* hill climbs from the best candidates */
#define BAYES_LOCAL_STEPS 40
#define BAYES_XI 0.01 /* EI exploration margin, standardised units */

static const unsigned bayes_primes[] = {2,  3,  5,  7,  11, 13, 17, 19,
                                        23, 29, 31, 37, 41, 43, 47, 53};
#define BAYES_N_PRIMES (sizeof(bayes_primes) / sizeof(bayes_primes[0]))

/* The observations of one learner and its fitted hyperparameters. */
typedef struct bayes_learner {
    size_t d;      /* encoded width */
    double *z;     /* n x d encodings, row-major */
    double *y;     /* scores (unused when !ok) */
    int *ok;       /* 1: a successful trial */
    size_t n, cap; /* observations, capacity */
    size_t n_ok;
    double *theta;   /* d + 2 log hyperparameters */
    size_t fitted_n; /* n at the last fit; (size_t)-1 before any */
} bayes_learner;

/* A proposal not told yet. */
typedef struct bayes_pending {
    long trial;
    size_t learner;
    double *z;
} bayes_pending;

typedef struct bayes_state {
    uint64_t seed;
    size_t n_learners, n_init;
    bayes_learner *ls;
    long n_told;
    double best; /* best successful score told, -inf before any */
    bayes_pending *pend;
    size_t n_pend, cap_pend;
    aml_seen seen; /* every configuration proposed or told: never proposed again */
} bayes_state;

/* A GP ready for prediction (gp.h); best is the global best, standardised. */
typedef aml_gp bayes_gp;

/* ---- encoding ------------------------------------------------------------ */

static size_t bayes_dim_width(const aml_dim *d)
{
    if (d->domain == AML_DOM_FIXED)
        return 0;
    return d->domain == AML_DOM_CHOICE ? d->n_choices : 1;
}

static size_t bayes_width(const aml_space_learner *l)
{
    size_t j, w = 0;

    for (j = 0; j < l->n_dims; j++)
        w += bayes_dim_width(&l->dims[j]);
    return w;
}

static int bayes_value_equal(const aml_value *a, const aml_value *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == AML_VAL_STR)
        return a->str && b->str ? strcmp(a->str, b->str) == 0 : a->str == b->str;
    return a->kind == AML_VAL_INT ? a->i == b->i : a->real == b->real;
}

static double bayes_clamp01(double u)
{
    return u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
}

/* The unit position of a range value: the centre of its cell for integers. */
static double bayes_range_pos(const aml_dim *d, double x)
{
    double lo = d->lo, hi = d->hi;

    if (!(hi > lo))
        return 0.0;
    switch (d->domain) {
    case AML_DOM_UNIFORM:
        return bayes_clamp01((x - lo) / (hi - lo));
    case AML_DOM_LOG_UNIFORM:
        return bayes_clamp01((log(x) - log(lo)) / (log(hi) - log(lo)));
    case AML_DOM_INT:
        return bayes_clamp01((x - lo + 0.5) / (hi - lo + 1.0));
    default: /* AML_DOM_INT_LOG: the cell [log x, log(x + 1)) */
        return bayes_clamp01((0.5 * (log(x) + log(x + 1.0)) - log(lo)) /
                             (log(hi + 1.0) - log(lo)));
    }
}

/* Writes the encoding of one value of dimension d at z; returns the width. */
static size_t bayes_encode_dim(const aml_dim *d, const aml_value *v, double *z)
{
    size_t k, w = bayes_dim_width(d);

    if (d->domain == AML_DOM_CHOICE) {
        for (k = 0; k < w; k++)
            z[k] = bayes_value_equal(&d->choices[k], v) ? 1.0 : 0.0;
    } else if (w == 1) {
        z[0] = bayes_range_pos(d, aml_value_as_real(v));
    }
    return w;
}

static void bayes_encode(const aml_space_learner *l, const aml_param *params, double *z)
{
    size_t j;

    for (j = 0; j < l->n_dims; j++)
        z += bayes_encode_dim(&l->dims[j], &params[j].value, z);
}

/* Decodes z into the initialised configuration c (choices: the largest entry). */
static void bayes_decode(const aml_space_learner *l, const double *z, aml_config *c)
{
    size_t j, k;

    for (j = 0; j < l->n_dims; j++) {
        const aml_dim *d = &l->dims[j];
        size_t w = bayes_dim_width(d), arg = 0;

        c->params[j].name = d->name;
        if (d->domain == AML_DOM_CHOICE) {
            for (k = 1; k < w; k++)
                if (z[k] > z[arg])
                    arg = k;
            c->params[j].value = d->choices[arg];
        } else {
            aml_dim_at(d, w ? z[0] : 0.0, &c->params[j].value);
        }
        z += w;
    }
}

/* Replaces z by the encoding of the value it decodes to. */
static void bayes_snap(const aml_space_learner *l, double *z, aml_param *scratch)
{
    aml_config c = {.learner = 0, .n_params = l->n_dims, .params = scratch};

    bayes_decode(l, z, &c);
    bayes_encode(l, scratch, z);
}

/* A uniform point of the encoded space: ranges uniform, choices one vertex. */
static void bayes_random_point(const aml_space_learner *l, aml_rng *rng, double *z)
{
    size_t j, k;

    for (j = 0; j < l->n_dims; j++) {
        const aml_dim *d = &l->dims[j];
        size_t w = bayes_dim_width(d);

        if (d->domain == AML_DOM_CHOICE) {
            size_t pick = (size_t)aml_rng_below(rng, w);

            for (k = 0; k < w; k++)
                z[k] = k == pick ? 1.0 : 0.0;
        } else if (w == 1) {
            z[0] = aml_rng_uniform(rng);
        }
        z += w;
    }
}

/* ---- state ------------------------------------------------------------- */

static void bayes_dispose(void *state)
{
    bayes_state *s = state;
    size_t i;

    for (i = 0; s->ls && i < s->n_learners; i++) {
        free(s->ls[i].z);
        free(s->ls[i].y);
        free(s->ls[i].ok);
        free(s->ls[i].theta);
    }
    for (i = 0; i < s->n_pend; i++)
        free(s->pend[i].z);
    free(s->pend);
    free(s->ls);
    aml_seen_dispose(&s->seen);
    memset(s, 0, sizeof(*s));
}

/* Initial design size per learner: twice the widest encoding, within [5, 20]. */
static size_t bayes_n_init(const aml_space *space)
{
    size_t i, w = 0;

    for (i = 0; i < space->n_learners; i++) {
        size_t wi = bayes_width(&space->learners[i]);

        w = wi > w ? wi : w;
    }
    w = 2 * w + 1;
    return w < 5 ? 5 : w > 20 ? 20 : w;
}

static int bayes_init(void *state, const aml_space *space, uint64_t seed)
{
    bayes_state *s = state;
    size_t i;

    s->seed = seed;
    s->best = -INFINITY;
    s->n_learners = space->n_learners;
    s->n_init = bayes_n_init(space);
    s->ls = aml_calloc(space->n_learners, sizeof(*s->ls));
    if (!s->ls || aml_seen_init(&s->seen, space) < 0)
        goto fail;
    for (i = 0; i < space->n_learners; i++) {
        bayes_learner *l = &s->ls[i];

        l->d = bayes_width(&space->learners[i]);
        l->fitted_n = (size_t)-1;
        if (!(l->theta = aml_mallocarray(l->d + 2, sizeof(double))))
            goto fail;
        aml_gp_theta_default(l->theta, l->d);
    }
    return AML_OK;
fail:
    bayes_dispose(s);
    return AML_ENOMEM;
}

static int bayes_learner_grow(bayes_learner *l)
{
    size_t cap = l->cap ? 2 * l->cap : 16;
    double *z = aml_reallocarray(l->z, cap, (l->d ? l->d : 1) * sizeof(double));
    double *y;
    int *ok;

    if (!z)
        return AML_ENOMEM;
    l->z = z;
    if (!(y = aml_reallocarray(l->y, cap, sizeof(double))))
        return AML_ENOMEM;
    l->y = y;
    if (!(ok = aml_reallocarray(l->ok, cap, sizeof(int))))
        return AML_ENOMEM;
    l->ok = ok;
    l->cap = cap;
    return AML_OK;
}

/* Forgets proposals that have been told (the runner tells in trial order). */
static void bayes_pending_prune(bayes_state *s)
{
    size_t i, k = 0;

    for (i = 0; i < s->n_pend; i++) {
        if (s->pend[i].trial < s->n_told)
            free(s->pend[i].z);
        else
            s->pend[k++] = s->pend[i];
    }
    s->n_pend = k;
}

static void bayes_tell(void *state, const aml_space *space, const aml_config *c,
                       double score, int ok)
{
    bayes_state *s = state;
    bayes_learner *l;

    assert(c->learner < s->n_learners);
    l = &s->ls[c->learner];
    s->n_told++;
    (void)aml_seen_add(&s->seen, c); /* usually there already (asked) */
    bayes_pending_prune(s);
    ok = ok && isfinite(score);
    /* tell cannot report failure: without memory the observation is dropped. */
    if (l->n == l->cap && bayes_learner_grow(l) < 0)
        return;
    bayes_encode(&space->learners[c->learner], c->params, l->z + l->n * l->d);
    l->y[l->n] = ok ? score : 0.0;
    l->ok[l->n] = ok;
    l->n++;
    if (ok) {
        l->n_ok++;
        s->best = score > s->best ? score : s->best;
    }
}

/* ---- GP ------------------------------------------------------------------ */

/*
 * Refits the learner's hyperparameters (gp.c: L-BFGS on the log marginal
 * likelihood) from the previous fit (a warm start), the default and one
 * random start drawn from (seed, tells so far), so the fit is a function of
 * the told data only.
 */
static int bayes_fit_theta(bayes_state *s, bayes_learner *l, bayes_gp *g)
{
    size_t k, p = l->d + 2, n_starts = 0;
    double *starts = aml_mallocarray(3 * p, sizeof(double));
    aml_rng rng;
    int rc;

    if (!starts)
        return AML_ENOMEM;
    if (l->fitted_n != (size_t)-1)
        memcpy(starts + p * n_starts++, l->theta, p * sizeof(double));
    aml_gp_theta_default(starts + p * n_starts++, l->d);
    aml_rng_init(&rng, s->seed ^ 0xba7e5ULL, (uint64_t)s->n_told);
    for (k = 0; k < p; k++)
        starts[p * n_starts + k] =
            aml_gp_theta_lo(k, l->d) +
            aml_rng_uniform(&rng) * (aml_gp_theta_hi(k, l->d) - aml_gp_theta_lo(k, l->d));
    n_starts++;
    rc = aml_gp_fit(g, starts, n_starts, l->theta);
    free(starts);
    return rc;
}

/*
 * Whether learner l's hyperparameters are due for a refit: after every
 * batch while it has few observations, then each time its observations
 * grew by an eighth since the last fit (every 8 batches of 8 at 500), which
 * keeps the refit's O(n^3) off most asks.  A function of the tell count.
 */
static int bayes_refit_due(const bayes_learner *l)
{
    if (l->fitted_n == (size_t)-1)
        return 1;
    return l->n > l->fitted_n && l->n - l->fitted_n >= (l->fitted_n + 7) / 8;
}

/* An observation's score and index, for sorting without a global context. */
typedef struct bayes_rank {
    double y;
    size_t i;
} bayes_rank;

static int bayes_by_score(const void *a, const void *b)
{
    const bayes_rank *x = a, *y = b;

    if (x->y != y->y)
        return x->y > y->y ? -1 : 1;
    return x->i < y->i ? -1 : 1;
}

/*
 * Writes the indices of the successful observations that enter the GP into
 * idx (the BAYES_MAX_OBS best when there are more); returns their count.
 */
static int bayes_pick_obs(const bayes_learner *l, size_t *idx, size_t *out_m)
{
    bayes_rank *rk;
    size_t i, m = 0;

    for (i = 0; i < l->n; i++)
        if (l->ok[i])
            idx[m++] = i;
    *out_m = m;
    if (m <= BAYES_MAX_OBS)
        return AML_OK;
    if (!(rk = aml_mallocarray(m, sizeof(*rk))))
        return AML_ENOMEM;
    for (i = 0; i < m; i++)
        rk[i].y = l->y[idx[i]], rk[i].i = idx[i];
    qsort(rk, m, sizeof(*rk), bayes_by_score);
    for (i = 0; i < BAYES_MAX_OBS; i++)
        idx[i] = rk[i].i;
    *out_m = BAYES_MAX_OBS;
    free(rk);
    return AML_OK;
}

/* Copies the chosen observations in and standardises y. */
static void bayes_gp_load(bayes_gp *g, const bayes_learner *l, const size_t *idx,
                          size_t m)
{
    double sum = 0.0, ss = 0.0;
    size_t i;

    for (i = 0; i < m; i++) {
        memcpy(g->x + i * g->d, l->z + idx[i] * l->d, l->d * sizeof(double));
        sum += l->y[idx[i]];
    }
    g->ymean = sum / (double)m;
    for (i = 0; i < m; i++)
        ss += (l->y[idx[i]] - g->ymean) * (l->y[idx[i]] - g->ymean);
    g->ysd = m > 1 && ss > 0.0 ? sqrt(ss / (double)(m - 1)) : 1.0;
    for (i = 0; i < m; i++)
        g->y[i] = (l->y[idx[i]] - g->ymean) / g->ysd;
}

/* The learner's pending proposals visible to trial t. */
static size_t bayes_count_pending(const bayes_state *s, size_t learner, long t)
{
    size_t i, n = 0;

    for (i = 0; i < s->n_pend; i++)
        n += s->pend[i].learner == learner && s->pend[i].trial < t;
    return n;
}

/* Appends the pending points with the learner's best standardised score as the lie. */
static void bayes_gp_lie(bayes_gp *g, const bayes_state *s, size_t learner, long t,
                         size_t m)
{
    double lie = -INFINITY;
    size_t i;

    for (i = 0; i < m; i++)
        lie = g->y[i] > lie ? g->y[i] : lie;
    for (i = 0; i < s->n_pend; i++) {
        if (s->pend[i].learner != learner || s->pend[i].trial >= t)
            continue;
        memcpy(g->x + m * g->d, s->pend[i].z, g->d * sizeof(double));
        g->y[m++] = lie;
    }
    assert(m == g->n);
}

/*
 * Builds learner i's GP for trial t: refits hyperparameters on the told
 * points when new tells arrived, then factors told + pending points.
 */
static int bayes_gp_build(bayes_state *s, size_t i, long t, bayes_gp *g)
{
    bayes_learner *l = &s->ls[i];
    size_t *idx = aml_mallocarray(l->n ? l->n : 1, sizeof(size_t));
    size_t m, n_pend = bayes_count_pending(s, i, t);
    int rc;

    memset(g, 0, sizeof(*g));
    if (!idx)
        return AML_ENOMEM;
    if ((rc = bayes_pick_obs(l, idx, &m)) < 0 ||
        (rc = aml_gp_alloc(g, m + n_pend, l->d)) < 0)
        goto out;
    bayes_gp_load(g, l, idx, m);
    g->best = (s->best - g->ymean) / g->ysd;
    if (bayes_refit_due(l) && m >= 3) {
        g->n = m; /* hyperparameters from the real observations only */
        rc = bayes_fit_theta(s, l, g);
        g->n = m + n_pend;
        l->fitted_n = l->n;
        if (rc < 0)
            goto out;
    }
    bayes_gp_lie(g, s, i, t, m);
    rc = isfinite(aml_gp_factor(g, l->theta)) ? AML_OK : AML_ENUMERIC;
out:
    if (rc < 0)
        aml_gp_free(g);
    free(idx);
    return rc;
}

/* Expected improvement of z over the global best, standardised; work: n doubles. */
static double bayes_ei(const bayes_gp *g, const double *z, double *work)
{
    double mu, var;

    aml_gp_predict(g, z, 1, &mu, &var, work);
    return aml_gp_ei(mu, var, g->best, BAYES_XI);
}

/* ---- acquisition --------------------------------------------------------- */

/* What scoring a candidate of one learner needs. */
typedef struct bayes_acq {
    const bayes_gp *g;
    const bayes_learner *l;
    const aml_space_learner *sl;
    const aml_seen *seen;
    size_t learner;
    aml_param *scratch; /* sl->n_dims values */
    double *work;       /* n * BAYES_N_RAND doubles for the GP */
} bayes_acq;

/*
 * Snaps z; returns 1 when the point has already been proposed (told,
 * failed or pending).  Such a point scores -1, below any EI, so it wins
 * only when nothing else is left among the candidates.
 */
static int bayes_snap_seen(const bayes_acq *a, double *z)
{
    aml_config c = {
        .learner = a->learner, .n_params = a->sl->n_dims, .params = a->scratch};

    bayes_snap(a->sl, z, a->scratch);
    return aml_seen_find(a->seen, &c) >= 0;
}

static double bayes_score(const bayes_acq *a, double *z)
{
    return bayes_snap_seen(a, z) ? -1.0 : bayes_ei(a->g, z, a->work);
}

/* Moves z by a step of size `step`: ranges Gaussian, each choice re-drawn rarely. */
static void bayes_perturb(const aml_space_learner *sl, aml_rng *rng, double step,
                          double *z)
{
    size_t j, k;

    for (j = 0; j < sl->n_dims; j++) {
        const aml_dim *d = &sl->dims[j];
        size_t w = bayes_dim_width(d);

        if (d->domain == AML_DOM_CHOICE && aml_rng_uniform(rng) < step) {
            size_t pick = (size_t)aml_rng_below(rng, w);

            for (k = 0; k < w; k++)
                z[k] = k == pick ? 1.0 : 0.0;
        } else if (d->domain != AML_DOM_CHOICE && w == 1) {
            z[0] = bayes_clamp01(z[0] + step * aml_rng_normal(rng));
        }
        z += w;
    }
}

/* Hill climb from z (score *f) with a shrinking step; cand is d scratch doubles. */
static void bayes_climb(const bayes_acq *a, aml_rng *rng, double *z, double *f,
                        double *cand)
{
    const bayes_learner *l = a->l;
    double step = 0.2;
    int it;

    for (it = 0; it < BAYES_LOCAL_STEPS; it++, step *= 0.92) {
        double fc;

        memcpy(cand, z, l->d * sizeof(double));
        bayes_perturb(a->sl, rng, step, cand);
        fc = bayes_score(a, cand);
        if (fc > *f)
            *f = fc, memcpy(z, cand, l->d * sizeof(double));
    }
}

/* Keeps the BAYES_N_LOCAL best (score, point) pairs, best first. */
static void bayes_keep(double *top_f, double *top_z, size_t d, double f, const double *z)
{
    size_t k = BAYES_N_LOCAL;

    if (!(f > top_f[k - 1]))
        return;
    while (k > 0 && f > top_f[k - 1]) {
        if (k < BAYES_N_LOCAL) {
            top_f[k] = top_f[k - 1];
            memcpy(top_z + k * d, top_z + (k - 1) * d, d * sizeof(double));
        }
        k--;
    }
    top_f[k] = f;
    memcpy(top_z + k * d, z, d * sizeof(double));
}

/* Seeds candidates: uniform points, then perturbations of the best observations. */
static void bayes_candidate(const bayes_learner *l, const aml_space_learner *sl,
                            aml_rng *rng, int c, double *z)
{
    size_t i, pick = 0, seen = 0;

    if (c < BAYES_N_RAND * 3 / 4 || l->n_ok == 0) {
        bayes_random_point(sl, rng, z);
        return;
    }
    /* A random successful observation, then each better one (in told order) takes
     * its place with probability 1/2: a pick biased towards the good ones. */
    for (i = 0; i < l->n; i++)
        if (l->ok[i] && aml_rng_below(rng, ++seen) == 0)
            pick = i;
    for (i = 0; i < l->n; i++)
        if (l->ok[i] && l->y[i] > l->y[pick] && aml_rng_uniform(rng) < 0.5)
            pick = i;
    memcpy(z, l->z + pick * l->d, l->d * sizeof(double));
    bayes_perturb(sl, rng, 0.05, z);
}

/*
 * Maximises EI for one learner: random and local candidates, then hill
 * climbs from the best few.  Writes the best point to z; returns its EI in
 * the original units of the score (comparable across learners).
 */
/*
 * Scores BAYES_N_RAND seeded candidates at once (one kernel block and one
 * triangular solve through BLAS) and keeps the best few in top_f/top_z.
 */
static void bayes_scan(bayes_acq *a, aml_rng *rng, double *cz, double *top_f,
                       double *top_z)
{
    size_t d = a->l->d, m = BAYES_N_RAND, c;
    double *mu = cz + m * d, *var = mu + m;
    unsigned char seen[BAYES_N_RAND];

    for (c = 0; c < m; c++) {
        bayes_candidate(a->l, a->sl, rng, (int)c, cz + c * d);
        seen[c] = (unsigned char)bayes_snap_seen(a, cz + c * d);
    }
    aml_gp_predict(a->g, cz, m, mu, var, a->work);
    for (c = 0; c < m; c++)
        bayes_keep(top_f, top_z, d,
                   seen[c] ? -1.0 : aml_gp_ei(mu[c], var[c], a->g->best, BAYES_XI),
                   cz + c * d);
}

static int bayes_maximise(bayes_acq *a, aml_rng *rng, double *z, double *ei)
{
    const aml_space_learner *sl = a->sl;
    size_t d = a->l->d, k, n = a->g->n;
    double top_f[BAYES_N_LOCAL], *top_z, *cand, *cz;
    aml_param *scratch = aml_calloc(sl->n_dims ? sl->n_dims : 1, sizeof(*scratch));

    top_z = aml_mallocarray((BAYES_N_LOCAL + 1) * (d ? d : 1), sizeof(double));
    cz = aml_mallocarray(BAYES_N_RAND, ((d ? d : 1) + 2 + (n ? n : 1)) * sizeof(double));
    if (!top_z || !scratch || !cz) {
        free(top_z), free(scratch), free(cz);
        return AML_ENOMEM;
    }
    a->scratch = scratch;
    a->work = cz + BAYES_N_RAND * ((d ? d : 1) + 2);
    cand = top_z + BAYES_N_LOCAL * d;
    for (k = 0; k < BAYES_N_LOCAL; k++)
        top_f[k] = -INFINITY;
    bayes_scan(a, rng, cz, top_f, top_z);
    for (k = 0; k < BAYES_N_LOCAL && isfinite(top_f[k]); k++)
        bayes_climb(a, rng, top_z + k * d, &top_f[k], cand);
    for (k = 1; k < BAYES_N_LOCAL; k++)
        if (top_f[k] > top_f[0])
            top_f[0] = top_f[k], memcpy(top_z, top_z + k * d, d * sizeof(double));
    memcpy(z, top_z, d * sizeof(double));
    *ei = top_f[0] * a->g->ysd;
    free(top_z);
    free(scratch);
    free(cz);
    return AML_OK;
}

/* ---- ask ----------------------------------------------------------------- */

static double bayes_radical_inverse(uint64_t n, unsigned b)
{
    double inv = 1.0 / b, f = inv, x = 0.0;

    while (n > 0) {
        x += (double)(n % b) * f;
        n /= b;
        f *= inv;
    }
    return x;
}

/* Point n of learner i's shifted Halton design (random.c), decoded into out. */
static void bayes_design(const bayes_state *s, const aml_space_learner *sl, size_t i,
                         uint64_t n, aml_rng *rng, aml_config *out)
{
    size_t j;

    for (j = 0; j < sl->n_dims; j++) {
        aml_rng r;
        double u;

        aml_rng_init(&r, s->seed ^ 0xba1e5ULL, (uint64_t)i * 4096 + j);
        if (j < BAYES_N_PRIMES) {
            u = bayes_radical_inverse(n + 1, bayes_primes[j]) + aml_rng_uniform(&r);
            u = u >= 1.0 ? u - 1.0 : u;
        } else {
            u = aml_rng_uniform(rng);
        }
        out->params[j].name = sl->dims[j].name;
        aml_dim_at(&sl->dims[j], u, &out->params[j].value);
    }
}

/* Remembers trial t's proposal as pending until it is told. */
static int bayes_remember(bayes_state *s, const aml_space *space, long t,
                          const aml_config *c)
{
    size_t i, d = s->ls[c->learner].d;
    bayes_pending *p = NULL;
    double *z;

    for (i = 0; i < s->n_pend; i++)
        if (s->pend[i].trial == t)
            p = &s->pend[i]; /* asked again: replace */
    if (!(z = aml_mallocarray(d ? d : 1, sizeof(double))))
        return AML_ENOMEM;
    bayes_encode(&space->learners[c->learner], c->params, z);
    if (!p) {
        if (s->n_pend == s->cap_pend) {
            size_t cap = s->cap_pend ? 2 * s->cap_pend : 16;
            bayes_pending *np = aml_reallocarray(s->pend, cap, sizeof(*np));

            if (!np) {
                free(z);
                return AML_ENOMEM;
            }
            s->pend = np;
            s->cap_pend = cap;
        }
        p = &s->pend[s->n_pend++];
        p->z = NULL;
    }
    free(p->z);
    p->trial = t;
    p->learner = c->learner;
    p->z = z;
    return AML_OK;
}

/* Learner i's best EI proposal; *ei = -inf when it has nothing to model. */
static int bayes_propose(bayes_state *s, const aml_space *space, size_t i, long t,
                         aml_rng *rng, double *z, double *ei)
{
    bayes_gp g;
    bayes_acq a;
    int rc;

    *ei = -INFINITY;
    if (s->ls[i].n_ok == 0)
        return AML_OK;
    rc = bayes_gp_build(s, i, t, &g);
    if (rc == AML_ENUMERIC)
        return AML_OK; /* unusable model: the learner sits this one out */
    if (rc < 0)
        return rc;
    a.g = &g;
    a.l = &s->ls[i];
    a.sl = &space->learners[i];
    a.seen = &s->seen;
    a.learner = i;
    a.scratch = NULL;
    rc = bayes_maximise(&a, rng, z, ei);
    aml_gp_free(&g);
    return rc;
}

/* Picks the learner whose GP promises the largest improvement; writes it into out. */
static int bayes_ask_model(bayes_state *s, const aml_space *space, long t, aml_rng *rng,
                           aml_config *out)
{
    size_t i, best_i = 0, dmax = 0;
    double best_ei = -INFINITY, ei, *z, *best_z;
    int rc;

    for (i = 0; i < s->n_learners; i++)
        dmax = s->ls[i].d > dmax ? s->ls[i].d : dmax;
    if (!(z = aml_mallocarray(2 * (dmax + 1), sizeof(double))))
        return AML_ENOMEM;
    best_z = z + dmax + 1;
    for (i = 0; i < s->n_learners; i++) {
        if ((rc = bayes_propose(s, space, i, t, rng, z, &ei)) < 0)
            goto out;
        if (ei > best_ei)
            best_ei = ei, best_i = i, memcpy(best_z, z, s->ls[i].d * sizeof(double));
    }
    if (!isfinite(best_ei)) { /* nothing to model: continue the design */
        i = (size_t)t % s->n_learners;
        if ((rc = aml_config_init(out, space, i)) == 0)
            bayes_design(s, &space->learners[i], i, (uint64_t)t / s->n_learners, rng,
                         out);
        goto out;
    }
    if ((rc = aml_config_init(out, space, best_i)) == 0)
        bayes_decode(&space->learners[best_i], best_z, out);
out:
    free(z);
    return rc;
}

/* Draws random unseen configurations before enumerating a finite learner. */
#define BAYES_FRESH_DRAWS 32

static int bayes_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                     aml_config *out)
{
    bayes_state *s = state;
    long idx;
    int rc;

    assert(space->n_learners == s->n_learners && trial >= 0);
    if (aml_seen_full(&s->seen))
        return AML_EXHAUSTED;
    if ((uint64_t)trial < (uint64_t)s->n_init * s->n_learners) {
        size_t i = (size_t)trial % s->n_learners;

        if ((rc = aml_config_init(out, space, i)) < 0)
            return rc;
        bayes_design(s, &space->learners[i], i, (uint64_t)trial / s->n_learners, rng,
                     out);
    } else if ((rc = bayes_ask_model(s, space, trial, rng, out)) < 0) {
        return rc;
    }
    /* A repeat (a small discrete space, or EI left only seen candidates): a
     * fresh point of the same learner, or of the next ones when it is used up. */
    if (aml_seen_find(&s->seen, out) >= 0) {
        size_t learner = out->learner;

        aml_config_dispose(out);
        rc = aml_seen_fresh(&s->seen, space, learner, BAYES_FRESH_DRAWS, rng, out);
        if (rc != 0)
            return rc;
    }
    if ((idx = aml_seen_add(&s->seen, out)) < 0)
        return (int)idx;
    return bayes_remember(s, space, trial, out);
}

/* A seed configuration, proposed by the driver: never proposed again. */
static void bayes_note(void *state, const aml_space *space, const aml_config *c)
{
    bayes_state *s = state;

    AML_UNUSED(space);
    (void)aml_seen_add(&s->seen, c); /* out of memory: a repeat becomes possible */
}

const aml_search_type aml_search_bayes = {
    .name = "bayes",
    .state_size = sizeof(bayes_state),
    .init = bayes_init,
    .ask = bayes_ask,
    .tell = bayes_tell,
    .dispose = bayes_dispose,
    .note = bayes_note,
};

/* ---- the model for other strategies (bayes_internal.h) ------------------- */

size_t aml_bayes_min_obs(const aml_space *space)
{
    return bayes_n_init(space);
}

size_t aml_bayes_n_ok(const void *state)
{
    const bayes_state *s = state;
    size_t i, n = 0;

    for (i = 0; i < s->n_learners; i++)
        n += s->ls[i].n_ok;
    return n;
}

int aml_bayes_model_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                        aml_config *out)
{
    if (aml_bayes_n_ok(state) == 0)
        return AML_EXHAUSTED;
    return bayes_ask_model(state, space, trial, rng, out);
}

int aml_bayes_pending_add(void *state, const aml_space *space, long trial,
                          const aml_config *c)
{
    return bayes_remember(state, space, trial, c);
}

void aml_bayes_pending_clear(void *state)
{
    bayes_state *s = state;

    for (size_t i = 0; i < s->n_pend; i++)
        free(s->pend[i].z);
    s->n_pend = 0;
}
