/*
 * cmd_explain.c - `automl explain MODEL DATA.csv [--repeats R] [--seed S]`.
 *
 * Prints, for every input column of the model, its permutation importance
 * on the labelled DATA.csv (the drop in the model's metric when the column
 * is shuffled: mean and standard deviation over R shuffles, default 5,
 * deterministic for a seed, default 0), sorted from the most important,
 * and, when the model has tree members, their impurity importance mapped
 * back onto the input columns.  The work is in trials/explain.c.
 */
#include "cli.h"
#include "explain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EXPLAIN_DEFAULT_REPEATS 5

typedef struct explain_args {
    const char *model, *data;
    long repeats, seed;
} explain_args;

static int explain_option(explain_args *p, cli_args *a)
{
    const char *v;

    if (cli_opt(a, "--repeats", &v)) {
        return cli_parse_count(a, "--repeats", v, 1000, &p->repeats) < 0 ? -1 : 1;
    }
    if (cli_opt(a, "--seed", &v))
        return cli_parse_long(a, "--seed", v, &p->seed) < 0 ? -1 : 1;
    return 0;
}

static int explain_parse(explain_args *p, int argc, char **argv)
{
    cli_args a = {argc, argv, 0, "explain"};
    const char **const pos[] = {&p->model, &p->data};
    int rc;

    memset(p, 0, sizeof(*p));
    p->repeats = EXPLAIN_DEFAULT_REPEATS;
    for (a.i = 0; a.i < argc; a.i++) {
        if ((rc = explain_option(p, &a)) < 0)
            return -1;
        if (rc == 0 && cli_positional(&a, "explain", pos, 2) < 0)
            return -1;
    }
    if (!p->model || !p->data) {
        cli_error(
            "explain: usage: automl explain MODEL DATA.csv [--repeats R] [--seed S]");
        return -1;
    }
    return 0;
}

static const aml_perm_importance *sort_key;

/* Most important first; ties in schema order. */
static int by_importance(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = sort_key->mean[i], y = sort_key->mean[j];

    if (x != y)
        return x > y ? -1 : 1;
    return (i > j) - (i < j);
}

/* Four decimals, or four significant digits for numbers too large for them. */
static const char *num(char buf[32], double x)
{
    snprintf(buf, 32, fabs(x) < 1e9 || !isfinite(x) ? "%.4f" : "%.4g", x);
    return buf;
}

static void explain_print(const explain_args *a, const aml_perm_importance *p,
                          const double *impurity, int n_trees)
{
    size_t *order = calloc(p->n_inputs + 1, sizeof(size_t)), i, n_inf = 0;
    char base[32], cell[32];
    cli_table *t = cli_table_new(n_trees ? 4 : 3);

    if (!order || !t) {
        free(order);
        cli_table_free(t);
        return;
    }
    for (i = 0; i < p->n_inputs; i++)
        order[i] = i;
    sort_key = p;
    qsort(order, p->n_inputs, sizeof(size_t), by_importance);
    printf("permutation importance on %s (%zu rows, %s %s unshuffled):\n"
           "how much worse %s gets (%s) when one column is shuffled, mean and std "
           "over %d repeats (seed %ld)\n\n",
           a->data, p->rows, p->metric->name, num(base, p->baseline), p->metric->name,
           p->metric->greater_is_better ? "its drop" : "its rise", p->repeats, a->seed);
    cli_table_add(t, "column");
    cli_table_add(t, "importance");
    cli_table_add(t, "std");
    if (n_trees)
        cli_table_add(t, "impurity");
    for (i = 1; i < (size_t)(n_trees ? 4 : 3); i++)
        cli_table_align_right(t, i);
    for (i = 0; i < p->n_inputs; i++) {
        size_t k = order[i];

        cli_table_add(t, "%s", p->names[k]);
        cli_table_add(t, "%s", num(cell, p->mean[k]));
        if (isfinite(p->std[k]))
            cli_table_add(t, "%s", num(cell, p->std[k]));
        else
            cli_table_add(t, "-");
        if (n_trees)
            cli_table_add(t, "%.4f", impurity[k]);
        n_inf += isinf(p->mean[k]) != 0;
    }
    cli_table_print(t, stdout);
    if (n_inf)
        printf("\ninf: with the column shuffled the model's %s is no longer a finite "
               "number\non some repeat (its predictions or their errors overflow: "
               "values far\noutside the training data's range meet in one row)\n",
               p->metric->name);
    if (n_trees)
        printf("\nimpurity: the tree members' own importance (%d member%s), summed\n"
               "over each input column's encoded columns\n",
               n_trees, n_trees == 1 ? "" : "s");
    cli_table_free(t);
    free(order);
}

int cli_explain(int argc, char **argv)
{
    explain_args a;
    aml_perm_importance p = {0};
    aml_model *m = NULL;
    aml_frame *f = NULL;
    double *y = NULL, *impurity = NULL;
    int rc, n_trees = 0, code;

    if (explain_parse(&a, argc, argv) < 0)
        return CLI_EXIT_INPUT;
    if ((rc = aml_model_load(&m, a.model)) < 0)
        return cli_fail(rc);
    if ((rc = aml_explain_read(&f, &y, m, a.data)) < 0 ||
        (rc = aml_explain_permutation(&p, m, f, y, (int)a.repeats, (uint64_t)a.seed)) < 0)
        goto fail;
    if (!(impurity = calloc(aml_explain_n_inputs(m) + 1, sizeof(double)))) {
        rc = AML_ENOMEM;
        goto fail;
    }
    if ((rc = aml_explain_impurity(m, impurity, &n_trees)) < 0)
        goto fail;
    explain_print(&a, &p, impurity, n_trees);
    code = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    goto out;
fail:
    code = cli_fail(rc);
out:
    aml_perm_importance_dispose(&p);
    free(impurity);
    free(y);
    aml_frame_free(f);
    aml_model_free(m);
    return code;
}
