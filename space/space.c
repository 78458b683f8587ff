/*
 * space.c - the search space: building it, sampling it, enumerating its
 * grid, and the configurations (points) drawn from it.
 *
 * A space is small (a handful of learners with a handful of dimensions
 * each) and is built once per study, so it is kept as plain growable
 * arrays; nothing here is on a hot path except aml_dim_sample, which does
 * no allocation.  Pointers returned by aml_space_add_learner and
 * aml_space_add_dim point into those arrays and are valid only until the
 * next add on the same owner.
 *
 * Sampling choices (each draws from the caller's generator only, so a
 * proposal depends on the (seed, trial) stream alone):
 *   UNIFORM      lo + u (hi - lo), u uniform in [0, 1).
 *   LOG_UNIFORM  exp(U(log lo, log hi)), clamped to [lo, hi] against rounding.
 *   INT          lo + an unbiased integer below hi - lo + 1: each integer
 *                of [lo, hi] is equally likely.
 *   INT_LOG      floor(exp(U(log lo, log(hi + 1)))), clamped to [lo, hi]:
 *                integer k receives the log-measure of [k, k + 1), so the
 *                density is the continuous log-uniform one discretised by
 *                flooring, and lo and hi are both reachable.  (Optuna rounds
 *                over [lo - 0.5, hi + 0.5] instead, which needs lo >= 1 too
 *                but gives lo a larger share; flooring is simpler to state.)
 *
 * Grid choices (aml_dim_grid): every choice; for reals `grid` points from
 * lo to hi inclusive, evenly spaced (geometrically for LOG_UNIFORM), or the
 * one point lo when lo == hi (a grid must not list a value twice); for
 * integer ranges every integer, unless `grid` > 0 and the range holds more
 * than `grid` integers, in which case `grid` evenly (INT) or geometrically
 * (INT_LOG) spaced points are rounded to integers and repeats dropped.
 * aml_space_add_dim gives INT ranges grid 0 (every integer, as the header
 * promises) and the other ranges AML_DIM_GRID_DEFAULT.
 */
#include "space.h"
#include "aml.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Points per float (and INT_LOG) range when nobody says otherwise. */
#define AML_DIM_GRID_DEFAULT 5

aml_space *aml_space_new(void)
{
    return aml_calloc(1, sizeof(aml_space));
}

static void space_value_dispose(aml_value *v)
{
    if (v->kind == AML_VAL_STR)
        free((char *)v->str);
}

static void space_dim_dispose(aml_dim *d)
{
    size_t i;

    for (i = 0; i < d->n_choices; i++)
        space_value_dispose(&d->choices[i]);
    free(d->choices);
    free(d->name);
}

void aml_space_remove_dim(aml_space_learner *l, size_t j)
{
    assert(j < l->n_dims);
    space_dim_dispose(&l->dims[j]);
    memmove(&l->dims[j], &l->dims[j + 1], (l->n_dims - j - 1) * sizeof(*l->dims));
    l->n_dims--;
}

void aml_space_free(aml_space *s)
{
    size_t i, j;

    if (!s)
        return;
    for (i = 0; i < s->n_learners; i++) {
        aml_space_learner *l = &s->learners[i];

        for (j = 0; j < l->n_dims; j++)
            space_dim_dispose(&l->dims[j]);
        free(l->dims);
        free(l->name);
    }
    free(s->learners);
    free(s);
}

aml_space_learner *aml_space_add_learner(aml_space *s, const char *name)
{
    aml_space_learner *grown, *l;
    char *copy = aml_strdup(name);

    if (!copy)
        return NULL;
    grown = aml_reallocarray(s->learners, s->n_learners + 1, sizeof(*grown));
    if (!grown) {
        free(copy);
        return NULL;
    }
    s->learners = grown;
    l = &s->learners[s->n_learners++];
    memset(l, 0, sizeof(*l));
    l->name = copy;
    return l;
}

/* Rejects dimensions that sampling or the grid could not handle. */
static int space_dim_check(const char *name, aml_domain domain, aml_vkind kind, double lo,
                           double hi, size_t n_choices)
{
    int int_range = domain == AML_DOM_INT || domain == AML_DOM_INT_LOG;

    if ((int_range && (kind != AML_VAL_INT || lo != floor(lo) || hi != floor(hi))) ||
        ((domain == AML_DOM_UNIFORM || domain == AML_DOM_LOG_UNIFORM) &&
         kind != AML_VAL_REAL))
        return aml_error_set(AML_EINVAL, "range '%s' does not match its value kind",
                             name);
    switch (domain) {
    case AML_DOM_FIXED:
        if (n_choices != 1)
            return aml_error_set(AML_EINVAL, "fixed dimension '%s' needs one value",
                                 name);
        return AML_OK;
    case AML_DOM_CHOICE:
        if (n_choices == 0)
            return aml_error_set(AML_EINVAL, "choice dimension '%s' has no choices",
                                 name);
        return AML_OK;
    case AML_DOM_LOG_UNIFORM:
    case AML_DOM_INT_LOG:
        if (!(lo > 0))
            return aml_error_set(AML_EINVAL, "log range '%s' needs lo > 0", name);
        /* fall through */
    case AML_DOM_UNIFORM:
    case AML_DOM_INT:
        if (!(lo <= hi) || !isfinite(hi - lo))
            return aml_error_set(AML_EINVAL, "range '%s' needs lo <= hi, both finite",
                                 name);
        return AML_OK;
    }
    return aml_error_set(AML_EINVAL, "dimension '%s' has an unknown domain", name);
}

/* Deep-copies values: strings are duplicated so the space owns them. */
static aml_value *space_values_copy(const aml_value *src, size_t n)
{
    aml_value *dst;
    size_t i;

    if (n == 0)
        return NULL;
    dst = aml_calloc(n, sizeof(*dst));
    if (!dst)
        return NULL;
    for (i = 0; i < n; i++) {
        dst[i] = src[i];
        if (src[i].kind == AML_VAL_STR) {
            dst[i].str = aml_strdup(src[i].str);
            if (!dst[i].str)
                goto fail;
        }
    }
    return dst;
fail:
    while (i-- > 0)
        space_value_dispose(&dst[i]);
    free(dst);
    return NULL;
}

aml_dim *aml_space_add_dim(aml_space_learner *l, const char *name, aml_domain domain,
                           aml_vkind kind, double lo, double hi, const aml_value *choices,
                           size_t n_choices)
{
    aml_dim d, *grown;

    memset(&d, 0, sizeof(d));
    if (space_dim_check(name, domain, kind, lo, hi, n_choices) < 0)
        return NULL;
    if (domain != AML_DOM_FIXED && domain != AML_DOM_CHOICE)
        n_choices = 0;
    d.name = aml_strdup(name);
    d.choices = space_values_copy(choices, n_choices);
    if (!d.name || (n_choices && !d.choices))
        goto fail;
    d.n_choices = n_choices;
    d.domain = domain;
    d.kind = kind;
    d.lo = lo;
    d.hi = hi;
    d.grid = domain == AML_DOM_INT ? 0 : AML_DIM_GRID_DEFAULT;

    grown = aml_reallocarray(l->dims, l->n_dims + 1, sizeof(*grown));
    if (!grown)
        goto fail;
    l->dims = grown;
    l->dims[l->n_dims] = d;
    return &l->dims[l->n_dims++];
fail:
    space_dim_dispose(&d);
    return NULL;
}

/* A number of the range's kind (INT for integer ranges, REAL for the others). */
static void space_number(const aml_dim *d, double x, aml_value *out)
{
    memset(out, 0, sizeof(*out));
    if (d->kind == AML_VAL_INT) {
        out->kind = AML_VAL_INT;
        out->i = (long long)x;
    } else {
        out->kind = AML_VAL_REAL;
        out->real = x;
    }
}

static double space_clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

void aml_dim_at(const aml_dim *d, double u, aml_value *out)
{
    double x;

    u = u < 0.0 ? 0.0 : (u >= 1.0 ? 0x1.fffffffffffffp-1 : u);
    switch (d->domain) {
    case AML_DOM_FIXED:
        *out = d->choices[0];
        return;
    case AML_DOM_CHOICE:
        *out = d->choices[(size_t)(u * (double)d->n_choices)];
        return;
    case AML_DOM_UNIFORM:
        x = d->lo + u * (d->hi - d->lo);
        break;
    case AML_DOM_LOG_UNIFORM:
        x = exp(log(d->lo) + u * (log(d->hi) - log(d->lo)));
        break;
    case AML_DOM_INT:
        x = d->lo + floor(u * (d->hi - d->lo + 1.0));
        break;
    case AML_DOM_INT_LOG:
        x = floor(exp(log(d->lo) + u * (log(d->hi + 1) - log(d->lo))));
        break;
    default:
        assert(!"unknown domain");
        x = d->lo;
    }
    space_number(d, space_clamp(x, d->lo, d->hi), out);
}

void aml_dim_sample(const aml_dim *d, aml_rng *rng, aml_value *out)
{
    double u, x;

    switch (d->domain) {
    case AML_DOM_FIXED:
        *out = d->choices[0];
        return;
    case AML_DOM_CHOICE:
        *out = d->choices[aml_rng_below(rng, d->n_choices)];
        return;
    case AML_DOM_UNIFORM:
        u = aml_rng_uniform(rng);
        x = d->lo + u * (d->hi - d->lo);
        break;
    case AML_DOM_LOG_UNIFORM:
        u = aml_rng_uniform(rng);
        x = exp(log(d->lo) + u * (log(d->hi) - log(d->lo)));
        break;
    case AML_DOM_INT:
        x = d->lo + (double)aml_rng_below(rng, (uint64_t)(d->hi - d->lo) + 1);
        break;
    case AML_DOM_INT_LOG:
        u = aml_rng_uniform(rng);
        x = floor(exp(log(d->lo) + u * (log(d->hi + 1) - log(d->lo))));
        break;
    default:
        assert(!"unknown domain");
        x = d->lo;
    }
    space_number(d, space_clamp(x, d->lo, d->hi), out);
}

/* Point i of n spread from lo to hi inclusive (geometrically when `geo`). */
static double space_spread(double lo, double hi, size_t i, size_t n, int geo)
{
    double t;

    if (n < 2 || i == 0)
        return lo;
    if (i == n - 1)
        return hi; /* exactly hi: exp(log(hi)) need not be */
    t = (double)i / (double)(n - 1);
    if (geo)
        return exp(log(lo) + t * (log(hi) - log(lo)));
    return lo + t * (hi - lo);
}

/* Integer grid: every integer, or `grid` spread points rounded and deduplicated. */
static size_t space_grid_int(const aml_dim *d, aml_value *out)
{
    double lo = ceil(d->lo), hi = floor(d->hi), prev = NAN, x;
    size_t count = (size_t)(hi - lo) + 1, n = 0, i;

    if (hi < lo)
        return 0;
    if (d->grid <= 0 || count <= (size_t)d->grid) {
        for (i = 0; out && i < count; i++)
            space_number(d, lo + (double)i, &out[i]);
        return count;
    }
    for (i = 0; i < (size_t)d->grid; i++) {
        x = round(space_spread(lo, hi, i, (size_t)d->grid, d->domain == AML_DOM_INT_LOG));
        if (x == prev)
            continue; /* rounding is monotone: repeats are adjacent */
        prev = x;
        if (out)
            space_number(d, x, &out[n]);
        n++;
    }
    return n;
}

size_t aml_dim_grid(const aml_dim *d, aml_value *out)
{
    size_t i, n;

    switch (d->domain) {
    case AML_DOM_FIXED:
    case AML_DOM_CHOICE:
        for (i = 0; out && i < d->n_choices; i++)
            out[i] = d->choices[i];
        return d->n_choices;
    case AML_DOM_UNIFORM:
    case AML_DOM_LOG_UNIFORM:
        n = d->grid > 0 && d->hi > d->lo ? (size_t)d->grid : 1;
        for (i = 0; out && i < n; i++)
            space_number(
                d, space_spread(d->lo, d->hi, i, n, d->domain == AML_DOM_LOG_UNIFORM),
                &out[i]);
        return n;
    case AML_DOM_INT:
    case AML_DOM_INT_LOG:
        return space_grid_int(d, out);
    }
    assert(!"unknown domain");
    return 0;
}

int aml_config_init(aml_config *c, const aml_space *s, size_t learner)
{
    const aml_space_learner *l;
    size_t i;

    memset(c, 0, sizeof(*c));
    if (learner >= s->n_learners)
        return aml_error_set(AML_EINVAL, "learner index %zu out of range (%zu learners)",
                             learner, s->n_learners);
    l = &s->learners[learner];
    if (l->n_dims) {
        c->params = aml_calloc(l->n_dims, sizeof(*c->params));
        if (!c->params)
            return AML_ENOMEM;
    }
    c->learner = learner;
    c->n_params = l->n_dims;

    /* Start from a valid point: the first choice or the low end of each range. */
    for (i = 0; i < l->n_dims; i++) {
        const aml_dim *d = &l->dims[i];

        c->params[i].name = d->name;
        if (d->domain == AML_DOM_FIXED || d->domain == AML_DOM_CHOICE)
            c->params[i].value = d->choices[0];
        else
            space_number(d, d->lo, &c->params[i].value);
    }
    return AML_OK;
}

void aml_config_dispose(aml_config *c)
{
    if (!c)
        return;
    free(c->params);
    memset(c, 0, sizeof(*c));
}

/* dst is overwritten, not disposed: the caller disposes any old content first. */
int aml_config_copy(aml_config *dst, const aml_config *src)
{
    memset(dst, 0, sizeof(*dst));
    if (src->n_params) {
        dst->params = aml_mallocarray(src->n_params, sizeof(*dst->params));
        if (!dst->params)
            return AML_ENOMEM;
        memcpy(dst->params, src->params, src->n_params * sizeof(*dst->params));
    }
    dst->learner = src->learner;
    dst->n_params = src->n_params;
    dst->resource = src->resource;
    return AML_OK;
}

static int space_value_equal(const aml_value *a, const aml_value *b)
{
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case AML_VAL_REAL:
        return a->real == b->real;
    case AML_VAL_INT:
        return a->i == b->i;
    case AML_VAL_STR:
        return strcmp(a->str, b->str) == 0;
    }
    return 0;
}

int aml_config_equal(const aml_config *a, const aml_config *b)
{
    size_t i;

    if (a->learner != b->learner || a->n_params != b->n_params)
        return 0;
    for (i = 0; i < a->n_params; i++) {
        if (strcmp(a->params[i].name, b->params[i].name) != 0 ||
            !space_value_equal(&a->params[i].value, &b->params[i].value))
            return 0;
    }
    return 1;
}

static uint64_t space_mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

uint64_t aml_config_hash(const aml_config *c)
{
    uint64_t h = space_mix(0, c->learner), bits;
    const char *p;
    double x;
    size_t i;

    for (i = 0; i < c->n_params; i++) {
        const aml_value *v = &c->params[i].value;

        h = space_mix(h, v->kind);
        if (v->kind == AML_VAL_STR) {
            for (p = v->str; *p; p++)
                h = space_mix(h, (unsigned char)*p);
        } else if (v->kind == AML_VAL_INT) {
            h = space_mix(h, (uint64_t)v->i);
        } else {
            x = v->real == 0.0 ? 0.0 : v->real; /* -0.0 == 0.0 */
            memcpy(&bits, &x, sizeof(bits));
            h = space_mix(h, bits);
        }
    }
    return h;
}

int aml_resource_full(double resource)
{
    return !(resource > 0.0 && resource < 1.0);
}

/* Number of distinct values of a dimension, UINT64_MAX for a real range. */
static uint64_t space_dim_size(const aml_dim *d)
{
    switch (d->domain) {
    case AML_DOM_FIXED:
        return 1;
    case AML_DOM_CHOICE:
        return d->n_choices;
    case AML_DOM_INT:
    case AML_DOM_INT_LOG:
        return d->hi - d->lo < 1e18 ? (uint64_t)(d->hi - d->lo) + 1 : UINT64_MAX;
    default:
        return d->lo == d->hi ? 1 : UINT64_MAX;
    }
}

uint64_t aml_space_size(const aml_space *s)
{
    uint64_t total = 0, prod, n;
    size_t i, j;

    for (i = 0; i < s->n_learners; i++) {
        prod = 1;
        for (j = 0; j < s->learners[i].n_dims; j++) {
            n = space_dim_size(&s->learners[i].dims[j]);
            if (n == UINT64_MAX || prod > (UINT64_MAX - 1) / n)
                return UINT64_MAX;
            prod *= n;
        }
        if (total > UINT64_MAX - 1 - prod)
            return UINT64_MAX;
        total += prod;
    }
    return total;
}

int aml_space_point(const aml_space *s, uint64_t idx, aml_config *out)
{
    size_t i, j;
    uint64_t prod, n;
    int rc;

    for (i = 0; i < s->n_learners; i++) {
        const aml_space_learner *l = &s->learners[i];

        for (prod = 1, j = 0; j < l->n_dims; j++)
            prod *= space_dim_size(&l->dims[j]);
        if (idx < prod)
            break;
        idx -= prod;
    }
    if (i == s->n_learners)
        return aml_error_set(AML_EINVAL, "point %llu is past the end of the space",
                             (unsigned long long)idx);
    if ((rc = aml_config_init(out, s, i)) < 0)
        return rc;
    for (j = 0; j < s->learners[i].n_dims; j++) {
        const aml_dim *d = &s->learners[i].dims[j];

        n = space_dim_size(d);
        out->params[j].name = d->name;
        if (d->domain == AML_DOM_INT || d->domain == AML_DOM_INT_LOG) {
            /* Integer lo + k directly, rather than through rounded unit positions. */
            aml_dim_at(d, 0.0, &out->params[j].value);
            if (out->params[j].value.kind == AML_VAL_INT)
                out->params[j].value.i = (long long)d->lo + (long long)(idx % n);
            else
                out->params[j].value.real = d->lo + (double)(idx % n);
        } else {
            aml_dim_at(d, ((double)(idx % n) + 0.5) / (double)n, &out->params[j].value);
        }
        idx /= n;
    }
    return AML_OK;
}

void aml_config_format(const aml_config *c, char *buf, size_t buflen)
{
    size_t used = 0, i;
    int n;

    if (buflen == 0)
        return;
    buf[0] = '\0';
    for (i = 0; i < c->n_params && used < buflen; i++) {
        const aml_param *p = &c->params[i];
        const char *sep = i ? ", " : "";

        if (p->value.kind == AML_VAL_STR)
            n = snprintf(buf + used, buflen - used, "%s%s=%s", sep, p->name,
                         p->value.str);
        else if (p->value.kind == AML_VAL_INT)
            n = snprintf(buf + used, buflen - used, "%s%s=%lld", sep, p->name,
                         p->value.i);
        else
            n = snprintf(buf + used, buflen - used, "%s%s=%.6g", sep, p->name,
                         p->value.real);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
