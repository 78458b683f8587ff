/*
 * grid.c - exhaustive grid search over the cartesian product of every
 * dimension's grid points.
 *
 * The grid is the baseline that Bergstra and Bengio ("Random search for
 * hyper-parameter optimization", JMLR 13, 2012) compare random search
 * against: deterministic and complete, but its size is the product of the
 * per-dimension counts.  Learners take turns: trial t goes to the next
 * learner in space order that still has points left, so a grid capped by
 * search.trials covers every learner evenly instead of spending the whole
 * budget on the first one.  Within a learner the dimensions form a
 * mixed-radix number whose LAST dimension varies fastest, so its k-th point
 * decodes by repeated division.
 *
 * init counts the points first (saturating) and refuses a grid above
 * AML_SEARCH_GRID_MAX before allocating anything, then caches every
 * dimension's grid values once, so ask never allocates beyond the
 * configuration it returns.  The cache holds the sum, not the product, of
 * the per-dimension counts.  A proposal is a pure function of the trial
 * number (see grid_locate), so trials may be asked in any order and a
 * resumed search asks only the trials it still needs.
 */
#include "search.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>

#include "aml.h"

/* The cached grid values of one dimension. */
typedef struct grid_axis {
    aml_value *points;
    size_t n;
} grid_axis;

typedef struct grid_state {
    uint64_t total;           /* points in the whole grid */
    uint64_t *learner_points; /* points per learner */
    size_t *first_axis;       /* index in axes of each learner's first dimension */
    grid_axis *axes;          /* every dimension of every learner, in space order */
    size_t n_axes;
} grid_state;

static uint64_t grid_mul_sat(uint64_t a, uint64_t b)
{
    if (a != 0 && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

static uint64_t grid_add_sat(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static uint64_t grid_learner_size(const aml_space_learner *l)
{
    uint64_t n = 1;
    size_t j;

    for (j = 0; j < l->n_dims; j++)
        n = grid_mul_sat(n, (uint64_t)aml_dim_grid(&l->dims[j], NULL));
    return n;
}

uint64_t aml_search_grid_size(const aml_space *space)
{
    uint64_t total = 0;
    size_t i;

    assert(space);
    for (i = 0; i < space->n_learners; i++)
        total = grid_add_sat(total, grid_learner_size(&space->learners[i]));
    return total;
}

static void grid_dispose(void *state)
{
    grid_state *g = state;
    size_t i;

    for (i = 0; g->axes && i < g->n_axes; i++)
        free(g->axes[i].points);
    free(g->axes);
    free(g->first_axis);
    free(g->learner_points);
    g->axes = NULL;
    g->first_axis = NULL;
    g->learner_points = NULL;
    g->n_axes = 0;
}

/* Refuses grids that are too big to enumerate, or that have an empty dimension. */
static int grid_check(const aml_space *space, uint64_t total)
{
    size_t i, j;

    if (total == UINT64_MAX)
        return aml_error_set(AML_EINVAL,
                             "grid has more than %" PRIu64 " points; cap it with "
                             "search.trials or use random search",
                             UINT64_MAX);
    if (total > AML_SEARCH_GRID_MAX)
        return aml_error_set(AML_EINVAL,
                             "grid has %" PRIu64 " points; cap it with search.trials "
                             "or use random search",
                             total);

    /* An empty dimension would silently drop its whole learner from the grid. */
    for (i = 0; i < space->n_learners; i++) {
        const aml_space_learner *l = &space->learners[i];

        for (j = 0; j < l->n_dims; j++)
            if (aml_dim_grid(&l->dims[j], NULL) == 0)
                return aml_error_set(AML_EINVAL, "%s.%s has no grid points", l->name,
                                     l->dims[j].name);
    }
    return 0;
}

/* Caches the grid values of every dimension; the counts were checked by grid_check. */
static int grid_fill_axes(grid_state *g, const aml_space *space)
{
    size_t i, j, a = 0;

    for (i = 0; i < space->n_learners; i++) {
        const aml_space_learner *l = &space->learners[i];

        g->first_axis[i] = a;
        g->learner_points[i] = grid_learner_size(l);
        for (j = 0; j < l->n_dims; j++, a++) {
            grid_axis *x = &g->axes[a];

            x->n = aml_dim_grid(&l->dims[j], NULL);
            x->points = aml_mallocarray(x->n, sizeof(*x->points));
            if (!x->points)
                return AML_ENOMEM;
            aml_dim_grid(&l->dims[j], x->points);
        }
    }
    assert(a == g->n_axes);
    return 0;
}

static int grid_init(void *state, const aml_space *space, uint64_t seed)
{
    grid_state *g = state;
    size_t i;
    int rc;

    g->total = aml_search_grid_size(space);
    if ((rc = grid_check(space, g->total)) < 0)
        return rc;

    for (i = 0; i < space->n_learners; i++)
        g->n_axes += space->learners[i].n_dims;
    g->learner_points = aml_calloc(space->n_learners, sizeof(*g->learner_points));
    g->first_axis = aml_calloc(space->n_learners, sizeof(*g->first_axis));
    g->axes = aml_calloc(g->n_axes ? g->n_axes : 1, sizeof(*g->axes));
    if (!g->learner_points || !g->first_axis || !g->axes) {
        rc = AML_ENOMEM;
        goto fail;
    }
    if ((rc = grid_fill_axes(g, space)) < 0)
        goto fail;
    return 0;

fail:
    grid_dispose(g);
    return rc;
}

/* Writes point `k` of learner `l`'s sub-grid into the initialised config c. */
static void grid_decode(const grid_state *g, const aml_space_learner *l, size_t learner,
                        uint64_t k, aml_config *c)
{
    size_t j;

    /* Mixed-radix digits, least significant (last dimension) first. */
    for (j = l->n_dims; j-- > 0;) {
        const grid_axis *x = &g->axes[g->first_axis[learner] + j];

        c->params[j].name = l->dims[j].name;
        c->params[j].value = x->points[k % x->n];
        k /= x->n;
    }
    assert(k == 0);
}

/*
 * Maps trial t to (learner, point k of its sub-grid) under taking turns.
 * Round r gives one point to every learner with more than r points, in
 * space order; between two consecutive distinct point counts the set of
 * learners still taking part is fixed, so whole stretches of rounds are
 * skipped at once: O(learners^2) per ask, whatever the grid size.
 */
static void grid_locate(const grid_state *g, size_t n_learners, uint64_t t, size_t *out_l,
                        uint64_t *out_k)
{
    uint64_t round = 0;

    for (;;) {
        uint64_t next = UINT64_MAX, active = 0, span;
        size_t l;

        for (l = 0; l < n_learners; l++) {
            if (g->learner_points[l] > round) {
                active++;
                if (g->learner_points[l] < next)
                    next = g->learner_points[l];
            }
        }
        assert(active > 0);
        span = (next - round) * active; /* trials until a learner runs out */
        if (t < span) {
            uint64_t nth = t % active;

            for (l = 0; l < n_learners; l++)
                if (g->learner_points[l] > round && nth-- == 0)
                    break;
            *out_l = l;
            *out_k = round + t / active;
            return;
        }
        t -= span;
        round = next;
    }
}

static int grid_ask(void *state, const aml_space *space, long trial, aml_rng *rng,
                    aml_config *out)
{
    const grid_state *g = state;
    uint64_t k;
    size_t l;
    int rc;

    AML_UNUSED(rng);
    if (trial < 0 || (uint64_t)trial >= g->total)
        return AML_EXHAUSTED;
    grid_locate(g, space->n_learners, (uint64_t)trial, &l, &k);
    if ((rc = aml_config_init(out, space, l)) < 0)
        return rc;
    grid_decode(g, &space->learners[l], l, k, out);
    return 0;
}

const aml_search_type aml_search_grid = {
    .name = "grid",
    .state_size = sizeof(grid_state),
    .init = grid_init,
    .ask = grid_ask,
    .tell = NULL,
    .dispose = grid_dispose,
};
