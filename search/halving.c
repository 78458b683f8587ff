/*
 * halving.c - asynchronous successive halving with Hyperband brackets
 * (strategies "halving" and "bohb").
 *
 * Successive halving evaluates many configurations on a small resource
 * and gives more only to the best: Li, Jamieson, Rostamizadeh, Gonina,
 * Ben-tzur, Hardt, Recht and Talwalkar, "A System for Massively Parallel
 * Hyperparameter Tuning" (ASHA, MLSys 2020; arXiv 2018), made it
 * asynchronous, which is what a batch of proposals between tells needs:
 * a rung never waits to fill.  Hyperband (Li, Jamieson, DeSalvo,
 * Rostamizadeh and Talwalkar, JMLR 18, 2018; ICLR 2017) hedges over how
 * aggressive the halving is by running brackets that start configurations
 * at different rungs.  BOHB (Falkner, Klein and Hutter, "BOHB: Robust and
 * Efficient Hyperparameter Optimization at Scale", ICML 2018) draws the
 * new configurations from a model of the results instead of at random.
 *
 * Rungs.  With reduction factor eta and minimum resource r_min, there are
 * K + 1 rungs, K = floor(log_eta(1 / r_min)); rung k gives a trial the
 * resource eta^-(K - k) of a full evaluation (aml_config.resource, applied
 * by trials/pipeline.c), so rung K is a full evaluation and rung 0 is the
 * smallest at or above r_min.  eta 3 and r_min 1/27 give 1/27, 1/9, 1/3, 1.
 *
 * Brackets.  Bracket b (0..K) starts its configurations at rung b and
 * promotes them up to rung K; each bracket keeps its own rungs.  A new
 * configuration goes to the bracket that is least filled relative to
 * Hyperband's sizes n_b = ceil((K + 1) eta^s / (s + 1)), s = K - b (a
 * deterministic weighted round robin, ties to the lower bracket), so each
 * bracket gets about the share of configurations Hyperband gives it.
 *
 * Asking (ASHA's get_job).  For rungs k from K - 1 down to 0, and the
 * brackets holding rung k in order: a result of rung k that is among the
 * top floor(n_k / eta) of the n_k results told at that rung, succeeded and
 * was not promoted yet is promoted: the same configuration is proposed at
 * rung k + 1.  With no such result a new configuration starts at the
 * lowest rung of its bracket.  Pending trials are simply not in their rung
 * yet.  Results are ranked by score (larger is better, as told), then by
 * trial number; failed results count in n_k but rank below every success
 * and are never promoted, and a configuration that failed once is never
 * proposed again.
 *
 * New configurations.  Sampler random (halving's default): the points of
 * the random strategy (random.c, its own state, asked with consecutive
 * indices so the starts follow one even Halton design).  Sampler bayes
 * (bohb's default, or halving with search.sampler: bayes): one bayes model
 * per rung (bayes_internal.h), told that rung's results; a third of the
 * starts (BOHB's rho) and every start before any rung has
 * aml_bayes_min_obs successes stay random, the others come from the model
 * of the highest rung that has them, with the proposals pending as lies.
 * A configuration already started is never started again: after
 * HV_TRIES draws that all repeat one, a finite space is enumerated from a
 * random point for one not started.
 *
 * When no new configuration is left (a finite space wholly started) the
 * top-1/eta rule is relaxed so that the search finishes: the best result
 * at the highest rung below K whose configuration can still go up is
 * promoted, or failing any told one, the earliest configuration whose
 * result is pending (a speculative promotion).  With nothing left to
 * promote either, ask answers AML_EXHAUSTED.
 *
 * Tells.  The n-th tell is trial n's (search.h), so tell finds what it
 * proposed by counting.  A tell of a trial it did not propose (a seed
 * configuration) is a full evaluation: it marks the configuration started
 * and, for bayes, feeds the top rung's model, but joins no bracket.
 *
 * Determinism: a proposal depends on the seed, the trial number (its
 * generator) and the results told, so it is the same at any thread count
 * and on resume.  Not done: warm starts (a promoted configuration is
 * trained again from scratch at its new resource; TODO(halving): continue
 * from the lower rung's model for learners that can), BOHB's kernel
 * density model (the GP of bayes.c stands in for it), and budgets counted
 * in resource rather than trials (search.trials counts every evaluation).
 */
#include "search.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "bayes_internal.h"

#define HV_MAX_RUNGS 16                /* K + 1 at most */
#define HV_TRIES 64                    /* draws before enumerating a finite space */
#define HV_ENUM_MAX 1048576ULL         /* largest finite space enumerated */
#define HV_RANDOM_FRACTION (1.0 / 3.0) /* BOHB's rho: random starts under a model */
#define HV_DEFAULT_ETA 3.0
#define HV_DEFAULT_MIN_RESOURCE (1.0 / 27.0)

/* One configuration the search started (or was told about). */
typedef struct hv_config {
    aml_config c; /* resource 0 */
    uint64_t hash;
    int bracket;    /* -1: told, not started here (a seed configuration) */
    int level;      /* highest rung proposed at */
    int told_level; /* highest rung with a told result, -1 before any */
    int failed;     /* a result failed: never proposed again */
    double last;    /* score at told_level (when it succeeded) */
} hv_config;

/* One result told at a rung. */
typedef struct hv_result {
    size_t cfg;
    long trial;
    double score;
    int ok, promoted;
} hv_result;

typedef struct hv_rung {
    hv_result *r;
    size_t n, cap;
} hv_rung;

/* What one trial number proposed. */
typedef struct hv_trial {
    size_t cfg;
    int level, valid;
} hv_trial;

typedef struct halving_state {
    double eta;
    int top;                       /* K: rungs 0..K, rung K a full evaluation */
    double fraction[HV_MAX_RUNGS]; /* resource of each rung; fraction[K] = 1 */
    double weight[HV_MAX_RUNGS];   /* Hyperband's configurations of each bracket */
    long started[HV_MAX_RUNGS];    /* configurations started in each bracket */
    hv_rung rung[HV_MAX_RUNGS][HV_MAX_RUNGS]; /* [bracket][rung] */
    hv_config *cfgs;
    size_t n_cfgs, cap_cfgs;
    hv_trial *trials; /* indexed by trial number */
    size_t n_trials;
    long n_told;
    uint64_t n_points; /* aml_space_size */
    uint64_t n_drawn;  /* random sampler points used */
    void *random;      /* aml_search_random state */
    int bayes;         /* sampler bayes: models[] are set */
    size_t min_obs;
    void *models[HV_MAX_RUNGS]; /* aml_search_bayes states, one per rung */
} halving_state;

/* ---- set up and tear down --------------------------------------------------- */

static void halving_dispose(void *state)
{
    halving_state *s = state;
    int b, k;

    for (b = 0; b < HV_MAX_RUNGS; b++)
        for (k = 0; k < HV_MAX_RUNGS; k++)
            free(s->rung[b][k].r);
    for (size_t i = 0; i < s->n_cfgs; i++)
        aml_config_dispose(&s->cfgs[i].c);
    free(s->cfgs);
    free(s->trials);
    free(s->random);
    for (k = 0; k < HV_MAX_RUNGS; k++) {
        if (s->models[k])
            aml_search_bayes.dispose(s->models[k]);
        free(s->models[k]);
    }
    memset(s, 0, sizeof(*s));
}

/* Rungs and bracket sizes from eta and r_min (both checked). */
static int halving_geometry(halving_state *s, double eta, double r_min)
{
    int k;

    if (!(eta > 1.0) || !isfinite(eta))
        return aml_error_set(AML_EINVAL, "halving: eta must be more than 1, not %g", eta);
    if (!(r_min > 0.0 && r_min <= 1.0))
        return aml_error_set(AML_EINVAL,
                             "halving: min_resource must be in (0, 1], not %g", r_min);
    s->eta = eta;
    /* The small margin keeps 1/27 with eta 3 at K = 3 despite rounding. */
    s->top = (int)floor(log(1.0 / r_min) / log(eta) + 1e-9);
    if (s->top >= HV_MAX_RUNGS)
        return aml_error_set(AML_EINVAL,
                             "halving: min_resource %g with eta %g makes %d rungs; at "
                             "most %d",
                             r_min, eta, s->top + 1, HV_MAX_RUNGS);
    for (k = 0; k <= s->top; k++) {
        int sh = s->top - k; /* halvings of bracket k */

        s->fraction[k] = k == s->top ? 1.0 : pow(eta, -(double)sh);
        s->weight[k] = ceil((double)(s->top + 1) * pow(eta, sh) / (double)(sh + 1));
    }
    return AML_OK;
}

static int halving_models(halving_state *s, const aml_space *space, uint64_t seed)
{
    int k, rc;

    s->min_obs = aml_bayes_min_obs(space);
    for (k = 0; k <= s->top; k++) {
        if (!(s->models[k] = aml_calloc(1, aml_search_bayes.state_size)))
            return AML_ENOMEM;
        if ((rc = aml_search_bayes.init(s->models[k], space,
                                        seed ^ (0x4a1f1ULL * (uint64_t)(k + 1)))) < 0) {
            free(s->models[k]);
            s->models[k] = NULL;
            return rc;
        }
    }
    s->bayes = 1;
    return AML_OK;
}

static int halving_setup(void *state, const aml_space *space, uint64_t seed,
                         const aml_search_options *opt, aml_search_sampler def)
{
    halving_state *s = state;
    aml_search_sampler sampler = opt->sampler ? opt->sampler : def;
    int rc;

    if ((rc = halving_geometry(s, opt->eta > 0 ? opt->eta : HV_DEFAULT_ETA,
                               opt->min_resource > 0 ? opt->min_resource
                                                     : HV_DEFAULT_MIN_RESOURCE)) < 0)
        goto fail;
    s->n_points = aml_space_size(space);
    rc = AML_ENOMEM;
    if (!(s->random = aml_calloc(1, aml_search_random.state_size)))
        goto fail;
    if ((rc = aml_search_random.init(s->random, space, seed)) < 0 ||
        (sampler == AML_SAMPLER_BAYES && (rc = halving_models(s, space, seed)) < 0))
        goto fail;
    return AML_OK;
fail:
    halving_dispose(s);
    return rc;
}

static int halving_init(void *state, const aml_space *space, uint64_t seed,
                        const aml_search_options *opt)
{
    return halving_setup(state, space, seed, opt, AML_SAMPLER_RANDOM);
}

static int bohb_init(void *state, const aml_space *space, uint64_t seed,
                     const aml_search_options *opt)
{
    if (opt->sampler == AML_SAMPLER_RANDOM)
        return aml_error_set(AML_EINVAL,
                             "bohb samples with bayes; use strategy halving for random "
                             "sampling");
    return halving_setup(state, space, seed, opt, AML_SAMPLER_BAYES);
}

/* ---- bookkeeping ------------------------------------------------------------- */

static size_t halving_find(const halving_state *s, const aml_config *c, uint64_t hash)
{
    for (size_t i = 0; i < s->n_cfgs; i++)
        if (s->cfgs[i].hash == hash && aml_config_equal(&s->cfgs[i].c, c))
            return i;
    return s->n_cfgs;
}

/* Remembers a copy of c (resource cleared); returns its index or a negative error. */
static long halving_add(halving_state *s, const aml_config *c, uint64_t hash, int bracket,
                        int level)
{
    hv_config *e;

    if (s->n_cfgs == s->cap_cfgs) {
        size_t cap = s->cap_cfgs ? 2 * s->cap_cfgs : 64;

        if (!(e = aml_reallocarray(s->cfgs, cap, sizeof(*e))))
            return AML_ENOMEM;
        s->cfgs = e;
        s->cap_cfgs = cap;
    }
    e = &s->cfgs[s->n_cfgs];
    memset(e, 0, sizeof(*e));
    if (aml_config_copy(&e->c, c) < 0)
        return AML_ENOMEM;
    e->c.resource = 0.0;
    e->hash = hash;
    e->bracket = bracket;
    e->level = level;
    e->told_level = -1;
    return (long)s->n_cfgs++;
}

static int halving_rung_add(hv_rung *r, const hv_result *res)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        hv_result *p = aml_reallocarray(r->r, cap, sizeof(*p));

        if (!p)
            return AML_ENOMEM;
        r->r = p;
        r->cap = cap;
    }
    r->r[r->n++] = *res;
    return AML_OK;
}

/* Does result a rank above result b (success, score, then trial)? */
static int halving_above(const hv_result *a, const hv_result *b)
{
    if (a->ok != b->ok)
        return a->ok;
    if (a->ok && a->score != b->score)
        return a->score > b->score;
    return a->trial < b->trial;
}

/*
 * The result of rung r that ASHA promotes now: the best successful one not
 * promoted yet, if it ranks within the top floor(n / eta).  Returns its
 * index or -1.  Only promoted results can rank above that best one, so
 * counting them is enough (no sort).
 */
static long halving_promotable(const halving_state *s, const hv_rung *r)
{
    size_t quota = (size_t)floor((double)r->n / s->eta + 1e-9), i, above = 0;
    long best = -1;

    for (i = 0; i < r->n; i++)
        if (r->r[i].ok && !r->r[i].promoted && !s->cfgs[r->r[i].cfg].failed &&
            (best < 0 || halving_above(&r->r[i], &r->r[best])))
            best = (long)i;
    if (best < 0)
        return -1;
    for (i = 0; i < r->n; i++)
        above += halving_above(&r->r[i], &r->r[best]);
    return above < quota ? best : -1;
}

/* ASHA's promotion; writes the configuration and its new rung. */
static int halving_promote(halving_state *s, size_t *cfg, int *level)
{
    int k, b;

    for (k = s->top - 1; k >= 0; k--) {
        for (b = 0; b <= k; b++) {
            hv_rung *r = &s->rung[b][k];
            long i = halving_promotable(s, r);

            if (i < 0)
                continue;
            r->r[i].promoted = 1;
            *cfg = r->r[i].cfg;
            *level = k + 1;
            return 1;
        }
    }
    return 0;
}

/* Marks the told result of cfg at its rung promoted. */
static void halving_mark_promoted(halving_state *s, size_t cfg)
{
    const hv_config *e = &s->cfgs[cfg];
    hv_rung *r = &s->rung[e->bracket][e->level];

    for (size_t i = 0; i < r->n; i++)
        if (r->r[i].cfg == cfg)
            r->r[i].promoted = 1;
}

/*
 * The relaxed promotion once nothing new can start: the best told success
 * at the highest rung below K, else the earliest configuration still
 * pending (speculative).  Returns 1 with *cfg and *level set, or 0.
 */
static int halving_promote_rest(halving_state *s, size_t *cfg, int *level)
{
    long told = -1, pending = -1;

    for (size_t i = 0; i < s->n_cfgs; i++) {
        const hv_config *e = &s->cfgs[i];

        if (e->bracket < 0 || e->failed || e->level >= s->top)
            continue;
        if (e->told_level < e->level) {
            pending = pending < 0 ? (long)i : pending;
            continue;
        }
        if (told < 0 || e->level > s->cfgs[told].level ||
            (e->level == s->cfgs[told].level && e->last > s->cfgs[told].last))
            told = (long)i;
    }
    if (told >= 0)
        halving_mark_promoted(s, (size_t)told);
    else if (pending < 0)
        return 0;
    *cfg = (size_t)(told >= 0 ? told : pending);
    *level = s->cfgs[*cfg].level + 1;
    return 1;
}

/* The bracket a new configuration joins: the least filled for its weight. */
static int halving_bracket(const halving_state *s)
{
    int b, best = 0;

    for (b = 1; b <= s->top; b++)
        if ((double)(s->started[b] + 1) * s->weight[best] <
            (double)(s->started[best] + 1) * s->weight[b])
            best = b;
    return best;
}

/* ---- new configurations -------------------------------------------------------- */

/* The next random point nobody started, or AML_EXHAUSTED after HV_TRIES repeats. */
static int halving_draw(halving_state *s, const aml_space *space, aml_rng *rng,
                        aml_config *out)
{
    int attempt, rc;

    for (attempt = 0; attempt < HV_TRIES; attempt++) {
        if ((rc = aml_search_random.ask(s->random, space, (long)s->n_drawn++, rng, out)) <
            0)
            return rc;
        if (halving_find(s, out, aml_config_hash(out)) == s->n_cfgs)
            return AML_OK;
        aml_config_dispose(out);
    }
    if (s->n_points > HV_ENUM_MAX)
        return AML_EXHAUSTED;
    for (uint64_t k = 0, start = aml_rng_below(rng, s->n_points); k < s->n_points; k++) {
        if ((rc = aml_space_point(space, (start + k) % s->n_points, out)) < 0)
            return rc;
        if (halving_find(s, out, aml_config_hash(out)) == s->n_cfgs)
            return AML_OK;
        aml_config_dispose(out);
    }
    return AML_EXHAUSTED;
}

/* The model of the highest rung with enough successes, or NULL. */
static void *halving_model(const halving_state *s)
{
    for (int k = s->top; k >= 0 && s->bayes; k--)
        if (aml_bayes_n_ok(s->models[k]) >= s->min_obs)
            return s->models[k];
    return NULL;
}

/* BOHB's start: the model's proposal, with the trials not told yet as lies. */
static int halving_model_ask(halving_state *s, void *model, const aml_space *space,
                             long trial, aml_rng *rng, aml_config *out)
{
    int rc = AML_OK;

    aml_bayes_pending_clear(model);
    for (long t = s->n_told; rc == AML_OK && t < trial; t++)
        if ((size_t)t < s->n_trials && s->trials[t].valid)
            rc = aml_bayes_pending_add(model, space, t, &s->cfgs[s->trials[t].cfg].c);
    if (rc == AML_OK)
        rc = aml_bayes_model_ask(model, space, trial, rng, out);
    aml_bayes_pending_clear(model);
    if (rc == AML_OK && halving_find(s, out, aml_config_hash(out)) < s->n_cfgs) {
        aml_config_dispose(out); /* the model wants a point already started */
        rc = AML_EXHAUSTED;
    }
    return rc;
}

/* A configuration nobody started yet; AML_EXHAUSTED when there is none. */
static int halving_sample(halving_state *s, const aml_space *space, long trial,
                          aml_rng *rng, aml_config *out)
{
    void *model;
    int rc;

    if (s->n_points != UINT64_MAX && s->n_cfgs >= s->n_points)
        return AML_EXHAUSTED;
    if (s->bayes && aml_rng_uniform(rng) >= HV_RANDOM_FRACTION &&
        (model = halving_model(s)) &&
        (rc = halving_model_ask(s, model, space, trial, rng, out)) != AML_EXHAUSTED)
        return rc;
    return halving_draw(s, space, rng, out);
}

/* ---- ask and tell -------------------------------------------------------------- */

static int halving_note_trial(halving_state *s, long trial, size_t cfg, int level)
{
    if ((size_t)trial >= s->n_trials) {
        size_t n = (size_t)trial + 1, cap = s->n_trials ? s->n_trials : 64;
        hv_trial *p;

        while (cap < n)
            cap *= 2;
        if (!(p = aml_reallocarray(s->trials, cap, sizeof(*p))))
            return AML_ENOMEM;
        memset(p + s->n_trials, 0, (cap - s->n_trials) * sizeof(*p));
        s->trials = p;
        s->n_trials = cap;
    }
    s->trials[trial].cfg = cfg;
    s->trials[trial].level = level;
    s->trials[trial].valid = 1;
    return AML_OK;
}

/* Starts the new configuration `fresh` (taken) in its bracket. */
static int halving_start(halving_state *s, aml_config *fresh, size_t *cfg, int *level)
{
    int b = halving_bracket(s);
    long i = halving_add(s, fresh, aml_config_hash(fresh), b, b);

    aml_config_dispose(fresh);
    if (i < 0)
        return (int)i;
    s->started[b]++;
    *cfg = (size_t)i;
    *level = b;
    return AML_OK;
}

static int halving_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                       aml_config *out)
{
    halving_state *s = state;
    aml_config fresh = {0};
    size_t cfg = 0;
    int level = 0, rc;

    assert(trial >= 0);
    if ((size_t)trial < s->n_trials && s->trials[trial].valid)
        return aml_error_set(AML_EINVAL, "halving: trial %ld was proposed already",
                             trial);
    if (!halving_promote(s, &cfg, &level)) {
        rc = halving_sample(s, space, trial, rng, &fresh);
        if (rc < 0)
            return rc;
        if (rc == AML_OK && (rc = halving_start(s, &fresh, &cfg, &level)) < 0)
            return rc;
        if (rc == AML_EXHAUSTED && !halving_promote_rest(s, &cfg, &level))
            return AML_EXHAUSTED;
    }
    s->cfgs[cfg].level = level;
    if ((rc = halving_note_trial(s, trial, cfg, level)) < 0 ||
        (rc = aml_config_copy(out, &s->cfgs[cfg].c)) < 0)
        return rc;
    out->resource = level == s->top ? 0.0 : s->fraction[level];
    return AML_OK;
}

/* The rung of a resource told without a proposal: the top unless it matches one. */
static int halving_level_of(const halving_state *s, double resource)
{
    for (int k = 0; k < s->top; k++)
        if (resource == s->fraction[k])
            return k;
    return s->top;
}

/* A told configuration this search did not propose (a seed). */
static long halving_foreign(halving_state *s, const aml_config *c, int ok, int *level)
{
    uint64_t hash = aml_config_hash(c);
    size_t i = halving_find(s, c, hash);

    *level = halving_level_of(s, c->resource);
    if (i == s->n_cfgs) {
        long r = halving_add(s, c, hash, -1, s->top);

        if (r < 0)
            return r;
        i = (size_t)r;
    }
    s->cfgs[i].failed |= !ok;
    return (long)i;
}

static void halving_tell(void *state, const aml_space *space, const aml_config *c,
                         double score, int ok)
{
    halving_state *s = state;
    long trial = s->n_told++;
    hv_result res = {0};
    hv_config *e;
    int level;
    long i;

    ok = ok && isfinite(score);
    if ((size_t)trial < s->n_trials && s->trials[trial].valid) {
        i = (long)s->trials[trial].cfg;
        level = s->trials[trial].level;
    } else if ((i = halving_foreign(s, c, ok, &level)) < 0) {
        return; /* out of memory: tell cannot fail, the result is dropped */
    }
    e = &s->cfgs[i];
    if (s->bayes)
        aml_search_bayes.tell(s->models[level], space, c, score, ok);
    if (e->bracket < 0)
        return;
    res.cfg = (size_t)i;
    res.trial = trial;
    res.score = ok ? score : 0.0;
    res.ok = ok;
    res.promoted = e->level > level;
    e->failed |= !ok;
    if (level >= e->told_level) {
        e->told_level = level;
        e->last = res.score;
    }
    halving_rung_add(&s->rung[e->bracket][level], &res); /* dropped when out of memory */
}

const aml_search_type aml_search_halving = {
    .name = "halving",
    .state_size = sizeof(halving_state),
    .init = NULL,
    .ask = halving_ask,
    .tell = halving_tell,
    .dispose = halving_dispose,
    .init_with = halving_init,
};

const aml_search_type aml_search_bohb = {
    .name = "bohb",
    .state_size = sizeof(halving_state),
    .init = NULL,
    .ask = halving_ask,
    .tell = halving_tell,
    .dispose = halving_dispose,
    .init_with = bohb_init,
};
