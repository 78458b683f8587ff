/*
 * study.c - the canonical text of a study's search and its comparison
 * (see study.h).
 *
 * Why text and not only a hash: a hash says that something changed, the
 * text says what ("learner knn: k int[1, 50] -> k int[1, 30]").  The text
 * is stored with the study (study.spec_canonical) and its hash beside it
 * for quick comparisons in SQL.  The training file is hashed whole with
 * FNV-1a 64 (Fowler, Noll and Vo), which costs one pass over the bytes, far
 * less than one trial.
 */
#include "study.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv_update(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* Hashes a file's bytes; fails with AML_EIO naming it. */
static int hash_file(const char *path, uint64_t *out)
{
    unsigned char buf[1 << 16];
    uint64_t h = FNV_OFFSET;
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return aml_error_set(AML_EIO, "%s: cannot read the training data", path);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        h = fnv_update(h, buf, n);
    fclose(f);
    *out = h;
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static void canon_value(cli_buf *b, const aml_value *v)
{
    if (v->kind == AML_VAL_INT)
        cli_buf_printf(b, "%lld", v->i);
    else if (v->kind == AML_VAL_STR)
        cli_buf_printf(b, "%s", v->str ? v->str : "");
    else
        cli_buf_printf(b, "%.17g", v->real);
}

static void canon_dim(cli_buf *b, const aml_dim *d)
{
    static const char *const domains[] = {"fixed",       "choice", "uniform",
                                          "log_uniform", "int",    "int_log"};
    const char *dom = (unsigned)d->domain < 6 ? domains[d->domain] : "?";

    cli_buf_printf(b, "%s %s[", d->name, dom);
    if (d->domain == AML_DOM_FIXED || d->domain == AML_DOM_CHOICE) {
        for (size_t i = 0; i < d->n_choices; i++) {
            cli_buf_puts(b, i ? ", " : "");
            canon_value(b, &d->choices[i]);
        }
        cli_buf_puts(b, "]");
        return;
    }
    cli_buf_printf(b, "%.17g, %.17g] grid=%d", d->lo, d->hi, d->grid);
}

static void canon_list(cli_buf *b, const char *key, char *const *items, size_t n)
{
    cli_buf_printf(b, "%s: ", key);
    for (size_t i = 0; i < n; i++)
        cli_buf_printf(b, "%s\"%s\"", i ? ", " : "", items[i]);
    cli_buf_puts(b, "\n");
}

/* How the CSV is read and which columns are kept: per-column missing
 * tokens, categorical and kept columns, delimiter and decimal mark. */
static void canon_data_extra(cli_buf *b, const aml_spec *spec)
{
    for (size_t i = 0; i < spec->n_col_missing; i++) {
        char key[300];

        snprintf(key, sizeof(key), "data.missing.%s", spec->col_missing[i].column);
        canon_list(b, key, spec->col_missing[i].tokens, spec->col_missing[i].n_tokens);
    }
    canon_list(b, "data.categorical", spec->categorical, spec->n_categorical);
    canon_list(b, "data.keep", spec->keep, spec->n_keep);
    cli_buf_printf(b, "data.format: delimiter=%d decimal=%d\n", spec->delimiter,
                   spec->decimal);
}

static void canon_space(cli_buf *b, const aml_space *space)
{
    for (size_t i = 0; i < space->n_learners; i++) {
        const aml_space_learner *l = &space->learners[i];

        cli_buf_printf(b, "learner %s:", l->name);
        for (size_t j = 0; j < l->n_dims; j++) {
            cli_buf_puts(b, j ? "; " : " ");
            canon_dim(b, &l->dims[j]);
        }
        cli_buf_puts(b, "\n");
    }
}

/* Halving's options and the seed configurations: lines only when they apply, so
 * the texts of studies that use neither stay as they were. */
static void canon_search_extra(cli_buf *b, const aml_spec *spec)
{
    int bohb = strcmp(spec->strategy, "bohb") == 0;

    /* The values in effect, so a default and the same value written out agree. */
    if (bohb || strcmp(spec->strategy, "halving") == 0)
        cli_buf_printf(b, "search.halving: eta=%.17g min_resource=%.17g sampler=%s\n",
                       spec->eta > 0 ? spec->eta : 3.0,
                       spec->min_resource > 0 ? spec->min_resource : 1.0 / 27.0,
                       spec->sampler == 2 || (bohb && spec->sampler == 0) ? "bayes"
                                                                          : "random");
    /* Stores made before defaults first existed have no such line: their
     * trials came without the defaults, so they must not resume with them. */
    if (aml_spec_defaults_first(spec))
        cli_buf_puts(b, "search.defaults_first: true\n");
    for (size_t i = 0; i < spec->n_seeds; i++) {
        const aml_spec_seed *sd = &spec->seeds[i];

        if (sd->is_default)
            continue;
        cli_buf_printf(b, "search.seed_configs.%zu: %s", i, sd->learner);
        for (size_t k = 0; k < sd->n_params; k++) {
            cli_buf_printf(b, "%s%s=", k ? ", " : " ", sd->params[k].name);
            canon_value(b, &sd->params[k].value);
        }
        cli_buf_puts(b, "\n");
    }
}

int cli_study_canonical(const aml_spec *spec, const aml_dataset *d, const aml_metric *m,
                        char **out, char hash[17])
{
    cli_buf b = {0};
    uint64_t data_hash;
    int rc;

    *out = NULL;
    if ((rc = hash_file(spec->train, &data_hash)) < 0)
        return rc;
    cli_buf_printf(&b, "data.train: %s fnv1a64=%016" PRIx64 "\n", base_name(spec->train),
                   data_hash);
    cli_buf_printf(&b, "data.target: %s\n", spec->target);
    cli_buf_printf(&b, "data.task: %s\n",
                   d->task == AML_TASK_CLASSIFICATION ? "classification" : "regression");
    canon_list(&b, "data.drop", spec->drop, spec->n_drop);
    canon_list(&b, "data.missing", spec->missing, spec->missing ? spec->n_missing : 0);
    canon_data_extra(&b, spec);
    cli_buf_printf(&b, "cv: folds=%d stratified=%d seed=%llu\n", spec->folds,
                   spec->stratified, spec->cv_seed);
    cli_buf_printf(&b, "cv.plan: kind=%d repeats=%d fraction=%.17g group=%s order=%s\n",
                   (int)spec->cv_kind, spec->repeats, spec->fraction,
                   spec->cv_group ? spec->cv_group : "-",
                   spec->cv_order ? spec->cv_order : "-");
    cli_buf_printf(&b, "metric: %s\n", m->name);
    cli_buf_printf(&b, "search: %s seed=%llu\n", spec->strategy, spec->seed);
    canon_search_extra(&b, spec);
    canon_space(&b, spec->space);
    if (!(*out = cli_buf_take(&b)))
        return aml_error_set(AML_ENOMEM, "out of memory");
    snprintf(hash, 17, "%016" PRIx64,
             fnv_update(FNV_OFFSET, (const unsigned char *)*out, strlen(*out)));
    return 0;
}

/* ---- comparing two texts ---------------------------------------------------------- */

/* The line of `text` whose key (up to ": ") is `key`, or NULL. */
static const char *find_line(const char *text, const char *key, size_t key_len)
{
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');

        if (strncmp(p, key, key_len) == 0 && strncmp(p + key_len, ": ", 2) == 0)
            return p;
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

static size_t line_len(const char *line)
{
    const char *end = strchr(line, '\n');

    return end ? (size_t)(end - line) : strlen(line);
}

static size_t key_len(const char *line)
{
    const char *colon = strstr(line, ": ");
    size_t n = line_len(line);

    return colon && (size_t)(colon - line) < n ? (size_t)(colon - line) : n;
}

/* Appends "key: old -> new" (or added/removed) for the first three differences. */
static void note(char *buf, size_t len, int n, const char *old, const char *now)
{
    const char *any = old ? old : now;
    size_t k = key_len(any), used = strlen(buf);
    int ko = old ? (int)line_len(old) - (int)k - 2 : 0;
    int kn = now ? (int)line_len(now) - (int)k - 2 : 0;

    if (n > 3 || used + 1 >= len)
        return;
    snprintf(buf + used, len - used, "%s%.*s: %.*s -> %.*s", used ? "; " : "", (int)k,
             any, old ? ko : 6, old ? old + k + 2 : "(none)", now ? kn : 6,
             now ? now + k + 2 : "(none)");
}

/* Counts (and notes) the lines of `a` that `b` lacks or holds differently. */
static int diff_one_way(const char *a, const char *b, int both, char *buf, size_t len,
                        int n)
{
    for (const char *p = a; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t k = key_len(p);
        const char *q = find_line(b, p, k);

        if (!q ||
            (both && (line_len(p) != line_len(q) || strncmp(p, q, line_len(p)) != 0))) {
            n++;
            note(buf, len, n, both ? p : NULL, both ? q : p);
        }
        p = end ? end + 1 : NULL;
    }
    return n;
}

int cli_study_diff(const char *before, const char *now, char *buf, size_t len)
{
    int n;

    buf[0] = '\0';
    n = diff_one_way(before, now, 1, buf, len, 0);    /* changed or removed */
    return diff_one_way(now, before, 0, buf, len, n); /* added */
}
