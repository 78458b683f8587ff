/*
 * spec.c - reading and checking the YAML study specification.
 *
 * The whole file is loaded with libyaml's document API (yaml_parser_load),
 * which keeps every node's start mark, and is then walked once against the
 * schema below.  The walk is driven by the schema, never by the document's
 * shape, so it has fixed depth: aliases are resolved by libyaml (an alias
 * is the anchored node itself, reported at the anchor's position) and even
 * a self-referencing alias cannot make the walk recurse.
 *
 * Every mistake stops the load with one message "PATH:LINE:COL: message"
 * (1-based, PATH as the caller gave it) and AML_EINVAL, so the CLI can
 * print it before any data is read.  libyaml accepts duplicate keys, so a
 * first pass checks every mapping in the document for them, including
 * mappings the schema does not read.
 *
 * Scalars follow a small fixed rule instead of YAML 1.1's implicit typing:
 * a plain (unquoted) scalar that strtoll or strtod reads whole is a number
 * (an int when strtoll does), anything quoted is text, and words such as
 * yes/no/on stay words; only boolean fields read true/false/yes/no/on/off.
 * A plain scalar that is empty, "~" or "null" is "nothing".
 *
 * Schema (keys exactly these):
 *   study: NAME                      required
 *   data: {train: FILE, target: COLUMN, task: classification|regression,
 *          drop: [COLUMN...], missing: [TOKEN...] | {COLUMN|"*": [TOKEN...]},
 *          categorical: [COLUMN...], keep: [COLUMN...],
 *          delimiter: "," | ";" | "|" | tab, decimal: "." | ","}
 *                                    train and target required
 *   cv: {kind: kfold|stratified|repeated|group|time_series|holdout,
 *        folds: INT >= 2, stratified: BOOL, seed: UINT, repeats: INT >= 1,
 *        group: COLUMN, order: COLUMN, fraction: REAL in (0, 1)}
 *   preprocess: {KEY: DOMAIN, ...}  keys of aml_prep_params (learners/prep.h)
 *   metric: NAME from vocab->metrics
 *   search: {strategy: NAME from vocab->strategies, trials: INT >= 0,
 *            parallel: 0..1024, seed: UINT, grid: INT >= 2,
 *            time_budget: DURATION, patience: INT >= 1, trial_timeout: DURATION,
 *            eta: INT in [2, 100], min_resource: REAL in (0, 1],
 *            sampler: random|bayes          (these three: halving and bohb only)
 *            seed_configs: [{learner: LEARNER, PARAM: VALUE, ...}, ...]}
 *   learners: {LEARNER: nothing | {} | {PARAM: DOMAIN, ...}}   required, non-empty
 *   store: FILE                      required
 *   output: FILE
 * where DURATION is a number of seconds > 0 or a number with a unit s, m or h
 * ("90s", "10m", "1.5h"), and DOMAIN is a scalar (fixed), a list or
 * {choice: [...]} (choice), or {uniform|log_uniform|int|int_log: [lo, hi], grid: N}.
 * Learners and their parameters are checked against the aml_param_def tables of the
 * vocabulary's learner types with aml_param_check (learner.h, defined in
 * learners/learner.c: whatever links aml_space must link aml_learners after it).
 *
 * Dimensions: a learner listed with nothing or {} searches every parameter
 * it declares (words over all their choices, numbers over [search_lo,
 * search_hi], on a log scale when search_log, fixed when search_lo ==
 * search_hi); otherwise only the listed parameters become dimensions and
 * the rest keep the learner's defaults.  Every `preprocess:` key becomes a
 * dimension named "preprocess.KEY" of every learner, read with the same
 * domain rules against the aml_prep_params table, so strategies search
 * preprocessing with no change.  Float and INT_LOG ranges get
 * search.grid grid points and INT ranges every integer, unless the range
 * mapping says grid: N.  When data.task is given, a learner that cannot do
 * that task is refused here; otherwise the caller checks after inferring it.
 */
#include "spec.h"
#include "outfile.h"
#include "aml.h"
#include "prep.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define SPEC_MSG_MAX 900  /* one message, before the PATH:LINE:COL prefix */
#define SPEC_LIST_MAX 512 /* a list of allowed names inside a message */
#define SPEC_GRID_DEFAULT 5
/* Largest magnitude an int bound may have: every integer up to it is a double. */
#define SPEC_INT_MAX 9007199254740992.0

typedef struct spec_ctx {
    const char *path; /* as the caller gave it, for messages */
    char *dir;        /* directory of the spec, NULL when path has no '/' */
    const aml_spec_vocab *vocab;
    yaml_document_t doc;
    int loaded; /* doc holds a document to delete */
    aml_spec *spec;
    int grid;               /* search.grid: points per float range */
    const char *dim_prefix; /* prepended to dimension names ("preprocess.") */
    aml_space *prep;        /* the preprocess: dimensions, copied to every learner */
    yaml_node_t *seeds;     /* search.seed_configs, read once the learners are */
    /* A stored spec text, read back rather than run: its store and output are
     * not checked for writing (a store may be read where it cannot be written). */
    int stored;
} spec_ctx;

/* The value nodes of one mapping key, with the key node for messages. */
typedef struct spec_entry {
    yaml_node_t *key, *val;
} spec_entry;

static const char *const spec_root_keys[] = {"study",      "data",     "cv",    "metric",
                                             "search",     "learners", "store", "output",
                                             "preprocess", "ensemble", NULL};
static const char *const spec_data_keys[] = {
    "train",       "target", "task",      "drop",    "missing",
    "categorical", "keep",   "delimiter", "decimal", NULL};
static const char *const spec_cv_keys[] = {
    "kind", "folds", "stratified", "seed", "repeats", "group", "order", "fraction", NULL};
/* In aml_cv_kind order from AML_CV_KFOLD. */
static const char *const spec_cv_kinds[] = {
    "kfold", "stratified", "repeated", "group", "time_series", "holdout", NULL};
/* The preprocess: keys, checked and searched like a learner's parameters. */
static const aml_learner_type spec_prep_type = {
    .name = "preprocess",
    .tasks = AML_TASK_BIT(AML_TASK_CLASSIFICATION) | AML_TASK_BIT(AML_TASK_REGRESSION),
    .params = aml_prep_params,
};
static const char *const spec_search_keys[] = {
    "strategy",    "trials",       "parallel",       "seed", "grid",
    "time_budget", "patience",     "trial_timeout",  "eta",  "min_resource",
    "sampler",     "seed_configs", "defaults_first", NULL};
/* search.sampler, in aml_search_sampler order from 1. */
static const char *const spec_samplers[] = {"random", "bayes", NULL};
/* Rungs successive halving keeps at most (HV_MAX_RUNGS in search/halving.c). */
#define SPEC_MAX_RUNGS 16
/* Domain keys in aml_domain order from CHOICE on, then the grid option. */
static const char *const spec_domain_keys[] = {"choice",  "uniform", "log_uniform", "int",
                                               "int_log", "grid",    NULL};
static const char *const spec_tasks[] = {"classification", "regression", NULL};
static const char *const spec_ensemble_keys[] = {
    "method",      "size",  "candidates", "layers", "meta", "final",
    "passthrough", "refit", "fallback",   "bags",   NULL};
/* In aml_ensemble_method order. */
static const char *const spec_ensemble_methods[] = {"selection", "stacking", "voting",
                                                    "none", NULL};

/* ---- messages ---------------------------------------------------------- */

static int spec_fail_mark(const spec_ctx *c, yaml_mark_t m, const char *fmt, ...)
    AML_PRINTF(3, 4);
static int spec_fail(const spec_ctx *c, const yaml_node_t *n, const char *fmt, ...)
    AML_PRINTF(3, 4);

static int spec_vfail(const spec_ctx *c, yaml_mark_t m, const char *fmt, va_list ap)
{
    char msg[SPEC_MSG_MAX];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    return aml_error_set(AML_EINVAL, "%s:%zu:%zu: %s", c->path, m.line + 1, m.column + 1,
                         msg);
}

static int spec_fail_mark(const spec_ctx *c, yaml_mark_t m, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = spec_vfail(c, m, fmt, ap);
    va_end(ap);
    return rc;
}

static int spec_fail(const spec_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = spec_vfail(c, n->start_mark, fmt, ap);
    va_end(ap);
    return rc;
}

/* Appends ", word" (or "word" first) to a list being written into buf. */
static void spec_join(char *buf, size_t len, size_t *used, const char *word)
{
    int n;

    if (*used >= len)
        return;
    n = snprintf(buf + *used, len - *used, "%s%s", *used ? ", " : "", word);
    if (n > 0)
        *used += (size_t)n;
}

static const char *spec_join_words(char *buf, size_t len, const char *const *words)
{
    size_t used = 0;

    buf[0] = '\0';
    for (; words && *words; words++)
        spec_join(buf, len, &used, *words);
    return buf;
}

/* ---- scalars ----------------------------------------------------------- */

static const char *spec_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static int spec_is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A plain empty, "~" or "null" scalar: the key was given no value. */
static int spec_is_null(const yaml_node_t *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    const char *const *p;

    if (!spec_is_plain(n))
        return 0;
    for (p = nulls; *p; p++)
        if (strcmp(spec_text(n), *p) == 0)
            return 1;
    return 0;
}

/* How a node looks, for "must be X, not Y" messages. */
static const char *spec_describe(const yaml_node_t *n, char *buf, size_t len)
{
    char shown[AML_QUOTE_MAX + 4];

    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (n->type != YAML_SCALAR_NODE || spec_is_null(n))
        return "nothing";
    snprintf(buf, len, "'%s'", aml_quote_short(spec_text(n), shown));
    return buf;
}

/*
 * Reads a plain scalar as a number: an INT when strtoll reads it whole, else
 * a REAL when strtod does.  Returns 0 (out untouched) for anything else,
 * including quoted scalars and the words inf, nan and hex forms, which
 * strtod would otherwise accept.
 */
static int spec_number(const yaml_node_t *n, aml_value *out)
{
    const char *s, *p;
    char *end;
    long long i;
    double x;

    if (!spec_is_plain(n))
        return 0;
    s = p = spec_text(n);
    if (*p == '+' || *p == '-')
        p++;
    if (!(isdigit((unsigned char)p[0]) ||
          (p[0] == '.' && isdigit((unsigned char)p[1]))) ||
        strpbrk(p, "xX"))
        return 0;
    memset(out, 0, sizeof(*out));
    errno = 0;
    i = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0) {
        out->kind = AML_VAL_INT;
        out->i = i;
        return 1;
    }
    x = strtod(s, &end);
    if (*end != '\0' || !isfinite(x))
        return 0;
    out->kind = AML_VAL_REAL;
    out->real = x;
    return 1;
}

/* ---- mappings ---------------------------------------------------------- */

static yaml_node_t *spec_node(spec_ctx *c, int id)
{
    return yaml_document_get_node(&c->doc, id);
}

/* Looks `key` up in mapping m; both entry nodes are NULL when absent. */
static spec_entry spec_get(spec_ctx *c, yaml_node_t *m, const char *key)
{
    spec_entry e = {NULL, NULL};
    yaml_node_pair_t *p;

    for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = spec_node(c, p->key);

        if (k->type == YAML_SCALAR_NODE && strcmp(spec_text(k), key) == 0) {
            e.key = k;
            e.val = spec_node(c, p->value);
            return e;
        }
    }
    return e;
}

static int spec_find_word(const char *const *words, const char *w)
{
    for (; words && *words; words++)
        if (strcmp(*words, w) == 0)
            return 1;
    return 0;
}

static int word_index(const char *const *words, const char *w)
{
    int i;

    for (i = 0; words[i]; i++)
        if (strcmp(words[i], w) == 0)
            return i;
    return -1;
}

/* Fails on the first key of m that is not in `allowed`; `where` names m. */
static int spec_check_keys(spec_ctx *c, yaml_node_t *m, const char *const *allowed,
                           const char *where)
{
    char list[SPEC_LIST_MAX];
    yaml_node_pair_t *p;

    for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = spec_node(c, p->key);

        if (!spec_find_word(allowed, spec_text(k)))
            return spec_fail(c, k, "unknown key '%s'%s%s; allowed keys: %s", spec_text(k),
                             where ? " in " : "", where ? where : "",
                             spec_join_words(list, sizeof(list), allowed));
    }
    return AML_OK;
}

/* Checks one mapping: every key a scalar, no key twice. */
static int spec_check_mapping(spec_ctx *c, yaml_node_t *m)
{
    char desc[64];
    yaml_node_pair_t *p, *q;

    for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = spec_node(c, p->key);

        if (k->type != YAML_SCALAR_NODE)
            return spec_fail(c, k, "a key must be a name, not %s",
                             spec_describe(k, desc, sizeof(desc)));
        for (q = m->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *first = spec_node(c, q->key);

            if (first->type == YAML_SCALAR_NODE &&
                strcmp(spec_text(first), spec_text(k)) == 0)
                return spec_fail(c, k, "duplicate key '%s' (first given at line %zu)",
                                 spec_text(k), first->start_mark.line + 1);
        }
    }
    return AML_OK;
}

/* libyaml keeps duplicate keys; check every mapping of the document. */
static int spec_check_mappings(spec_ctx *c)
{
    yaml_node_t *n;
    int rc;

    for (n = c->doc.nodes.start; n < c->doc.nodes.top; n++)
        if (n->type == YAML_MAPPING_NODE && (rc = spec_check_mapping(c, n)) < 0)
            return rc;
    return AML_OK;
}

static int spec_expect_map(spec_ctx *c, const spec_entry *e)
{
    char desc[64];

    if (e->val->type == YAML_MAPPING_NODE)
        return AML_OK;
    return spec_fail(c, e->val, "'%s' must be a mapping, not %s", spec_text(e->key),
                     spec_describe(e->val, desc, sizeof(desc)));
}

/* Like spec_get, but a missing key is an error pointing at the mapping. */
static int spec_require(spec_ctx *c, yaml_node_t *m, const char *key, const char *where,
                        spec_entry *out)
{
    *out = spec_get(c, m, key);
    if (out->val)
        return AML_OK;
    return spec_fail(c, m, "missing required key '%s'%s%s", key, where ? " in " : "",
                     where ? where : "");
}

static aml_spec_pos spec_pos(const yaml_node_t *n)
{
    aml_spec_pos p = {(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};

    return p;
}

/* ---- typed fields ------------------------------------------------------ */

/* Copies a non-empty scalar; `noun` says what was expected ("a file name"). */
static int spec_get_text(spec_ctx *c, const spec_entry *e, const char *noun, char **out)
{
    char desc[64];

    if (e->val->type != YAML_SCALAR_NODE || spec_is_null(e->val) || !*spec_text(e->val))
        return spec_fail(c, e->val, "'%s' must be %s, not %s", spec_text(e->key), noun,
                         spec_describe(e->val, desc, sizeof(desc)));
    *out = aml_strdup(spec_text(e->val));
    return *out ? AML_OK : AML_ENOMEM;
}

/* An integer field in [lo, hi]; a real with no fraction (5.0) counts as one. */
static int spec_get_int(spec_ctx *c, const spec_entry *e, long long lo, long long hi,
                        long long *out)
{
    char desc[64];
    aml_value v;

    if (!spec_number(e->val, &v) ||
        (v.kind == AML_VAL_REAL &&
         (v.real != floor(v.real) || fabs(v.real) > SPEC_INT_MAX)))
        return spec_fail(c, e->val, "'%s' must be an integer, not %s", spec_text(e->key),
                         spec_describe(e->val, desc, sizeof(desc)));
    *out = v.kind == AML_VAL_INT ? v.i : (long long)v.real;
    if (*out < lo)
        return spec_fail(c, e->val, "'%s' must be at least %lld, not %lld",
                         spec_text(e->key), lo, *out);
    if (*out > hi)
        return spec_fail(c, e->val, "'%s' must be at most %lld, not %lld",
                         spec_text(e->key), hi, *out);
    return AML_OK;
}

/* A seed: any integer in [0, 2^64). */
static int spec_get_seed(spec_ctx *c, const spec_entry *e, unsigned long long *out)
{
    char desc[64];
    const char *s = spec_text(e->val);
    char *end;

    if (spec_is_plain(e->val) && isdigit((unsigned char)s[0])) {
        errno = 0;
        *out = strtoull(s, &end, 10);
        if (*end == '\0' && errno == 0)
            return AML_OK;
    }
    return spec_fail(c, e->val, "'%s' must be a whole number from 0 to %llu, not %s",
                     spec_text(e->key), ULLONG_MAX,
                     spec_describe(e->val, desc, sizeof(desc)));
}

static int spec_get_bool(spec_ctx *c, const spec_entry *e, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};
    char desc[64];
    int i;

    for (i = 0; e->val->type == YAML_SCALAR_NODE && yes[i]; i++) {
        if (strcasecmp(spec_text(e->val), yes[i]) == 0 ||
            strcasecmp(spec_text(e->val), no[i]) == 0) {
            *out = strcasecmp(spec_text(e->val), yes[i]) == 0;
            return AML_OK;
        }
    }
    return spec_fail(c, e->val, "'%s' must be true or false, not %s", spec_text(e->key),
                     spec_describe(e->val, desc, sizeof(desc)));
}

/* A name that must be one of `words`; `plural` names the list in the message. */
static int spec_get_word(spec_ctx *c, const spec_entry *e, const char *const *words,
                         const char *plural, char **out)
{
    char list[SPEC_LIST_MAX];
    int rc;

    if ((rc = spec_get_text(c, e, "a name", out)) < 0)
        return rc;
    if (spec_find_word(words, *out))
        return AML_OK;
    rc = spec_fail(c, e->val, "unknown %s '%s'; known %s: %s", spec_text(e->key), *out,
                   plural, spec_join_words(list, sizeof(list), words));
    free(*out);
    *out = NULL;
    return rc;
}

/* A list of text items; `allow_empty` admits quoted "" items. */
static int spec_get_list(spec_ctx *c, const spec_entry *e, int allow_empty, char ***out,
                         size_t *n_out)
{
    yaml_node_item_t *it, *start = e->val->data.sequence.items.start;
    size_t n = 0;
    char desc[64];

    if (e->val->type != YAML_SEQUENCE_NODE)
        return spec_fail(c, e->val, "'%s' must be a list, like [a, b], not %s",
                         spec_text(e->key), spec_describe(e->val, desc, sizeof(desc)));
    *out =
        aml_calloc((size_t)(e->val->data.sequence.items.top - start) + 1, sizeof(char *));
    if (!*out)
        return AML_ENOMEM;
    for (it = start; it < e->val->data.sequence.items.top; it++) {
        yaml_node_t *item = spec_node(c, *it);

        if (item->type != YAML_SCALAR_NODE || spec_is_null(item) ||
            (!allow_empty && !*spec_text(item)))
            return spec_fail(c, item, "each item of '%s' must be a name, not %s",
                             spec_text(e->key), spec_describe(item, desc, sizeof(desc)));
        (*out)[n] = aml_strdup(spec_text(item));
        if (!(*out)[n])
            return AML_ENOMEM;
        *n_out = ++n;
    }
    return AML_OK;
}

/* A path relative to the spec's directory (absolute paths kept as given). */
static int spec_get_path(spec_ctx *c, const spec_entry *e, char **out)
{
    char *given = NULL;
    size_t len;
    int rc;

    if ((rc = spec_get_text(c, e, "a file name", &given)) < 0)
        return rc;
    if (given[0] == '/' || !c->dir) {
        *out = given;
        return AML_OK;
    }
    len = strlen(c->dir) + strlen(given) + 2;
    *out = aml_malloc(len);
    if (*out)
        snprintf(*out, len, "%s/%s", c->dir, given);
    free(given);
    return *out ? AML_OK : AML_ENOMEM;
}

/*
 * The file a path names, as an absolute path with its directory resolved
 * (the file itself need not exist yet).  Fails when the directory does not
 * exist.
 */
static int spec_canonical(const char *path, char *out, size_t n)
{
    char dir[PATH_MAX], real[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;

    if (slash)
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) ? (int)(slash - path) : 1,
                 path);
    else
        snprintf(dir, sizeof(dir), ".");
    if (!realpath(dir, real))
        return -1;
    return snprintf(out, n, "%s/%s", real, base) < (int)n ? 0 : -1;
}

/* The output must be a file a rename may replace (space/outfile.h). */
static int spec_check_replaceable(spec_ctx *c, const spec_entry *e, const char *path)
{
    char *target = NULL, why[512];
    int rc = aml_outfile_target(path, &target);

    free(target);
    if (rc == AML_ENOMEM || rc == AML_OK)
        return rc;
    /* The message lives in the slot spec_fail writes: copy it out first. */
    snprintf(why, sizeof(why), "%s", aml_error_message());
    return spec_fail(c, e->val, "output: %s", why);
}

/*
 * Checks, before any work, a file the run will write (store or output): its
 * directory exists and is writable, it is not a directory, and it is none of
 * the files the run reads or the other file it writes, so a typo cannot
 * overwrite the training data, the spec or the trials.
 */
static int spec_check_written(spec_ctx *c, const spec_entry *e, const char *path,
                              const char *what)
{
    const aml_spec *s = c->spec;
    char me[PATH_MAX], other[PATH_MAX];
    const char *const others[3][2] = {
        {s->train, "the training data"},
        {c->path, "the spec itself"},
        {strcmp(what, "output") == 0 ? s->store : NULL, "the store"}};
    struct stat st;
    size_t i;

    if (c->stored)
        return AML_OK;
    if (spec_canonical(path, me, sizeof(me)) < 0)
        return spec_fail(c, e->val, "%s '%s': its directory does not exist", what,
                         spec_text(e->val));
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return spec_fail(c, e->val, "%s '%s' is a directory", what, spec_text(e->val));
    if (strcmp(what, "output") == 0 && spec_check_replaceable(c, e, path) < 0)
        return AML_EINVAL;
    *strrchr(me, '/') = '\0';
    if (access(me, W_OK) != 0)
        return spec_fail(c, e->val, "%s '%s': cannot write in directory %s", what,
                         spec_text(e->val), me);
    me[strlen(me)] = '/';
    for (i = 0; i < 3; i++)
        if (others[i][0] && spec_canonical(others[i][0], other, sizeof(other)) == 0 &&
            strcmp(me, other) == 0)
            return spec_fail(c, e->val, "%s '%s' is %s: it would be overwritten", what,
                             spec_text(e->val), others[i][1]);
    return AML_OK;
}

/* ---- sections ---------------------------------------------------------- */

static int spec_read_train(spec_ctx *c, const spec_entry *e)
{
    aml_spec *s = c->spec;
    struct stat st;
    int rc;

    if ((rc = spec_get_path(c, e, &s->train)) < 0)
        return rc;
    s->pos_train = spec_pos(e->val);
    if (stat(s->train, &st) != 0)
        return spec_fail(c, e->val, "data file '%s' not found (looked for '%s')",
                         spec_text(e->val), s->train);
    if (S_ISDIR(st.st_mode))
        return spec_fail(c, e->val, "data file '%s' is a directory", spec_text(e->val));
    return AML_OK;
}

static int spec_read_task(spec_ctx *c, const spec_entry *e)
{
    char *word = NULL;
    int rc;

    if ((rc = spec_get_word(c, e, spec_tasks, "tasks", &word)) < 0)
        return rc;
    c->spec->task = strcmp(word, "regression") == 0 ? AML_SPEC_TASK_REGRESSION
                                                    : AML_SPEC_TASK_CLASSIFICATION;
    c->spec->pos_task = spec_pos(e->val);
    free(word);
    return AML_OK;
}

/* One `COLUMN: [TOKEN...]` entry of a data.missing mapping. */
static int spec_read_colmissing(spec_ctx *c, const spec_entry *e)
{
    aml_spec *s = c->spec;
    aml_spec_colmissing *cm;

    if (strcmp(spec_text(e->key), "*") == 0)
        return spec_get_list(c, e, 1, &s->missing, &s->n_missing);
    cm = &s->col_missing[s->n_col_missing];
    if (!(cm->column = aml_strdup(spec_text(e->key))))
        return AML_ENOMEM;
    s->n_col_missing++;
    return spec_get_list(c, e, 1, &cm->tokens, &cm->n_tokens);
}

/*
 * data.missing: a list (every column) or a mapping from column name to its
 * own list, with "*" for the columns not named (defaults "", NA, ?).
 */
static int spec_read_missing(spec_ctx *c, const spec_entry *e)
{
    yaml_node_pair_t *p, *start = e->val->data.mapping.pairs.start;
    int rc;

    c->spec->pos_missing = spec_pos(e->val);
    if (e->val->type != YAML_MAPPING_NODE)
        return spec_get_list(c, e, 1, &c->spec->missing, &c->spec->n_missing);
    c->spec->col_missing =
        aml_calloc((size_t)(e->val->data.mapping.pairs.top - start) + 1,
                   sizeof(aml_spec_colmissing));
    if (!c->spec->col_missing)
        return AML_ENOMEM;
    for (p = start; p < e->val->data.mapping.pairs.top; p++) {
        spec_entry ce = {spec_node(c, p->key), spec_node(c, p->value)};

        if ((rc = spec_read_colmissing(c, &ce)) < 0)
            return rc;
    }
    return AML_OK;
}

/* data.delimiter: one of , ; | TAB (also spelled "tab" or "\t"). */
static int spec_read_delimiter(spec_ctx *c, const spec_entry *e)
{
    static const char *const words[] = {",", ";", "|", "\t", "tab", NULL};
    static const char chars[] = {',', ';', '|', '\t', '\t'};
    char desc[64];
    int i;

    for (i = 0; e->val->type == YAML_SCALAR_NODE && words[i]; i++) {
        if (strcmp(spec_text(e->val), words[i]) == 0) {
            c->spec->delimiter = chars[i];
            return AML_OK;
        }
    }
    return spec_fail(c, e->val, "'delimiter' must be \",\", \";\", \"|\" or tab, not %s",
                     spec_describe(e->val, desc, sizeof(desc)));
}

static int spec_read_decimal(spec_ctx *c, const spec_entry *e)
{
    char desc[64];

    if (e->val->type == YAML_SCALAR_NODE &&
        (strcmp(spec_text(e->val), ".") == 0 || strcmp(spec_text(e->val), ",") == 0)) {
        c->spec->decimal = spec_text(e->val)[0];
        return AML_OK;
    }
    return spec_fail(c, e->val, "'decimal' must be \".\" or \",\", not %s",
                     spec_describe(e->val, desc, sizeof(desc)));
}

/* A column list of data: (drop, categorical, keep) and where it was written. */
static int spec_read_columns(spec_ctx *c, yaml_node_t *data, const char *key, char ***out,
                             size_t *n, aml_spec_pos *pos)
{
    spec_entry e = spec_get(c, data, key);

    if (!e.val)
        return AML_OK;
    *pos = spec_pos(e.val);
    return spec_get_list(c, &e, 0, out, n);
}

static int spec_read_data_options(spec_ctx *c, yaml_node_t *data)
{
    aml_spec *s = c->spec;
    spec_entry e;
    int rc;

    if ((rc = spec_read_columns(c, data, "drop", &s->drop, &s->n_drop, &s->pos_drop)) <
            0 ||
        (rc = spec_read_columns(c, data, "categorical", &s->categorical,
                                &s->n_categorical, &s->pos_categorical)) < 0 ||
        (rc = spec_read_columns(c, data, "keep", &s->keep, &s->n_keep, &s->pos_keep)) < 0)
        return rc;
    if ((e = spec_get(c, data, "missing")).val && (rc = spec_read_missing(c, &e)) < 0)
        return rc;
    if ((e = spec_get(c, data, "delimiter")).val && (rc = spec_read_delimiter(c, &e)) < 0)
        return rc;
    if ((e = spec_get(c, data, "decimal")).val && (rc = spec_read_decimal(c, &e)) < 0)
        return rc;
    if (s->decimal == ',' && s->delimiter == ',')
        return spec_fail(c, e.val, "with decimal commas the delimiter cannot be ','");
    return AML_OK;
}

static int spec_read_data(spec_ctx *c, const spec_entry *data)
{
    aml_spec *s = c->spec;
    spec_entry e;
    int rc;

    if ((rc = spec_expect_map(c, data)) < 0 ||
        (rc = spec_check_keys(c, data->val, spec_data_keys, "'data'")) < 0)
        return rc;
    if ((rc = spec_require(c, data->val, "train", "'data'", &e)) < 0 ||
        (rc = spec_read_train(c, &e)) < 0)
        return rc;
    if ((rc = spec_require(c, data->val, "target", "'data'", &e)) < 0 ||
        (rc = spec_get_text(c, &e, "a column name", &s->target)) < 0)
        return rc;
    s->pos_target = spec_pos(e.val);
    if ((e = spec_get(c, data->val, "task")).val && (rc = spec_read_task(c, &e)) < 0)
        return rc;
    return spec_read_data_options(c, data->val);
}

/* cv.fraction: a number strictly between 0 and 1. */
static int spec_read_fraction(spec_ctx *c, const spec_entry *e)
{
    char desc[64];
    aml_value v;

    if (spec_number(e->val, &v) && aml_value_as_real(&v) > 0 &&
        aml_value_as_real(&v) < 1) {
        c->spec->fraction = aml_value_as_real(&v);
        return AML_OK;
    }
    return spec_fail(c, e->val, "'fraction' must be a number between 0 and 1, not %s",
                     spec_describe(e->val, desc, sizeof(desc)));
}

/* A key that only one kind of plan reads. */
static int spec_cv_key_for(spec_ctx *c, yaml_node_t *cv, const char *key,
                           aml_cv_kind kind)
{
    spec_entry e = spec_get(c, cv, key);

    if (!e.key || c->spec->cv_kind == kind)
        return AML_OK;
    return spec_fail(c, e.key, "'%s' applies to cv.kind %s only", key,
                     spec_cv_kinds[kind - 1]);
}

/* kind, stratified and the keys each kind needs agree. */
static int spec_check_cv(spec_ctx *c, yaml_node_t *cv, const spec_entry *kind,
                         const spec_entry *strat)
{
    aml_spec *s = c->spec;
    int rc;

    if (kind->key && strat->key)
        return spec_fail(c, strat->key, "give cv.kind or cv.stratified, not both");
    if (s->cv_kind == AML_CV_GROUP && !s->cv_group)
        return spec_fail(c, kind->val, "cv.kind group needs cv.group: COLUMN");
    if (s->cv_kind == AML_CV_TIME_SERIES && !s->cv_order)
        return spec_fail(c, kind->val, "cv.kind time_series needs cv.order: COLUMN");
    if ((rc = spec_cv_key_for(c, cv, "group", AML_CV_GROUP)) < 0 ||
        (rc = spec_cv_key_for(c, cv, "order", AML_CV_TIME_SERIES)) < 0 ||
        (rc = spec_cv_key_for(c, cv, "repeats", AML_CV_REPEATED)) < 0 ||
        (rc = spec_cv_key_for(c, cv, "fraction", AML_CV_HOLDOUT)) < 0)
        return rc;
    if (kind->val || strat->val)
        s->pos_cv_kind = spec_pos(kind->val ? kind->val : strat->val);
    if (strat->key)
        s->cv_kind = s->stratified ? AML_CV_AUTO : AML_CV_KFOLD;
    s->stratified = s->cv_kind == AML_CV_AUTO || s->cv_kind == AML_CV_STRATIFIED ||
                    s->cv_kind == AML_CV_REPEATED || s->cv_kind == AML_CV_HOLDOUT;
    return AML_OK;
}

static int spec_read_cv_columns(spec_ctx *c, yaml_node_t *cv)
{
    aml_spec *s = c->spec;
    spec_entry e;
    int rc;

    if ((e = spec_get(c, cv, "group")).val) {
        if ((rc = spec_get_text(c, &e, "a column name", &s->cv_group)) < 0)
            return rc;
        s->pos_cv_group = spec_pos(e.val);
    }
    if ((e = spec_get(c, cv, "order")).val) {
        if ((rc = spec_get_text(c, &e, "a column name", &s->cv_order)) < 0)
            return rc;
        s->pos_cv_order = spec_pos(e.val);
    }
    return AML_OK;
}

static int spec_read_cv(spec_ctx *c, const spec_entry *cv)
{
    aml_spec *s = c->spec;
    spec_entry e, kind, strat;
    char *word = NULL;
    long long v;
    int rc;

    if ((rc = spec_expect_map(c, cv)) < 0 ||
        (rc = spec_check_keys(c, cv->val, spec_cv_keys, "'cv'")) < 0)
        return rc;
    if ((kind = spec_get(c, cv->val, "kind")).val) {
        if ((rc = spec_get_word(c, &kind, spec_cv_kinds, "kinds", &word)) < 0)
            return rc;
        s->cv_kind = (aml_cv_kind)(AML_CV_KFOLD + word_index(spec_cv_kinds, word));
        free(word);
    }
    if ((e = spec_get(c, cv->val, "folds")).val) {
        if ((rc = spec_get_int(c, &e, 2, INT_MAX, &v)) < 0)
            return rc;
        s->folds = (int)v;
        s->pos_folds = spec_pos(e.val);
    }
    if ((strat = spec_get(c, cv->val, "stratified")).val &&
        (rc = spec_get_bool(c, &strat, &s->stratified)) < 0)
        return rc;
    if ((e = spec_get(c, cv->val, "repeats")).val) {
        if ((rc = spec_get_int(c, &e, 1, 1000, &v)) < 0)
            return rc;
        s->repeats = (int)v;
    }
    if ((e = spec_get(c, cv->val, "fraction")).val &&
        (rc = spec_read_fraction(c, &e)) < 0)
        return rc;
    if ((rc = spec_read_cv_columns(c, cv->val)) < 0)
        return rc;
    if ((e = spec_get(c, cv->val, "seed")).val &&
        (rc = spec_get_seed(c, &e, &s->cv_seed)) < 0)
        return rc;
    return spec_check_cv(c, cv->val, &kind, &strat);
}

/* Reads "90", "1.5", "90s", "10m" or "2h" as seconds; 0 when it is none of these. */
static int spec_duration_text(const char *s, double *out)
{
    static const struct {
        char unit;
        double seconds;
    } units[] = {{'s', 1.0}, {'m', 60.0}, {'h', 3600.0}};
    const char *p = s + (s[0] == '-' || s[0] == '+');
    char *end;
    double x;

    /* A digit first keeps out inf and nan; no x keeps out hex, which strtod reads. */
    if ((!isdigit((unsigned char)p[0]) &&
         !(p[0] == '.' && isdigit((unsigned char)p[1]))) ||
        strpbrk(p, "xX"))
        return 0;
    errno = 0;
    x = strtod(s, &end);
    if (errno != 0 || !isfinite(x))
        return 0;
    if (*end == '\0') {
        *out = x;
        return 1;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (end[0] == units[i].unit && end[1] == '\0') {
            *out = x * units[i].seconds;
            return isfinite(*out);
        }
    return 0;
}

/* A duration field (time_budget, trial_timeout): seconds > 0. */
static int spec_get_duration(spec_ctx *c, const spec_entry *e, double *out)
{
    char desc[64];

    if (!spec_is_plain(e->val) || !spec_duration_text(spec_text(e->val), out))
        return spec_fail(c, e->val,
                         "'%s' must be a duration (seconds, or a number with s, m or h "
                         "as in 90s, 10m, 2h), not %s",
                         spec_text(e->key), spec_describe(e->val, desc, sizeof(desc)));
    if (*out <= 0.0)
        return spec_fail(c, e->val, "'%s' must be more than 0 seconds, not %s",
                         spec_text(e->key), spec_text(e->val));
    return AML_OK;
}

/* The budget keys of `search:` other than trials. */
static int spec_read_budget(spec_ctx *c, yaml_node_t *search)
{
    aml_spec *s = c->spec;
    spec_entry e;
    long long v;
    int rc;

    if ((e = spec_get(c, search, "time_budget")).val &&
        (rc = spec_get_duration(c, &e, &s->time_budget)) < 0)
        return rc;
    if ((e = spec_get(c, search, "trial_timeout")).val &&
        (rc = spec_get_duration(c, &e, &s->trial_timeout)) < 0)
        return rc;
    if ((e = spec_get(c, search, "patience")).val) {
        if ((rc = spec_get_int(c, &e, 1, LONG_MAX, &v)) < 0)
            return rc;
        s->patience = (long)v;
    }
    return AML_OK;
}

/* min_resource: a number in (0, 1] that leaves at most SPEC_MAX_RUNGS rungs. */
static int spec_read_min_resource(spec_ctx *c, const spec_entry *e)
{
    double eta = c->spec->eta > 0 ? c->spec->eta : 3.0, r;
    char desc[64];
    aml_value v;
    int rungs;

    if (!spec_number(e->val, &v) || !((r = aml_value_as_real(&v)) > 0 && r <= 1))
        return spec_fail(c, e->val,
                         "'min_resource' must be a number more than 0 and at most 1, "
                         "not %s",
                         spec_describe(e->val, desc, sizeof(desc)));
    rungs = (int)floor(log(1.0 / r) / log(eta) + 1e-9) + 1;
    if (rungs > SPEC_MAX_RUNGS)
        return spec_fail(c, e->val,
                         "'min_resource' %g with eta %g makes %d rungs; at most %d", r,
                         eta, rungs, SPEC_MAX_RUNGS);
    c->spec->min_resource = r;
    return AML_OK;
}

/* search.eta, search.min_resource and search.sampler: halving and bohb only. */
static int spec_read_halving(spec_ctx *c, yaml_node_t *search)
{
    static const char *const keys[] = {"eta", "min_resource", "sampler", NULL};
    aml_spec *s = c->spec;
    int bohb = strcmp(s->strategy, "bohb") == 0, rc, k;
    char *word = NULL;
    spec_entry e;
    long long v;

    for (k = 0; keys[k]; k++)
        if ((e = spec_get(c, search, keys[k])).key && !bohb &&
            strcmp(s->strategy, "halving") != 0)
            return spec_fail(c, e.key, "'%s' applies to strategy halving or bohb, not %s",
                             keys[k], s->strategy);
    if ((e = spec_get(c, search, "eta")).val) {
        if ((rc = spec_get_int(c, &e, 2, 100, &v)) < 0)
            return rc;
        s->eta = (double)v;
    }
    if ((e = spec_get(c, search, "min_resource")).val &&
        (rc = spec_read_min_resource(c, &e)) < 0)
        return rc;
    if (!(e = spec_get(c, search, "sampler")).val)
        return AML_OK;
    if ((rc = spec_get_word(c, &e, spec_samplers, "samplers", &word)) < 0)
        return rc;
    s->sampler = word_index(spec_samplers, word) + 1;
    free(word);
    if (bohb && s->sampler == 1)
        return spec_fail(c, e.val,
                         "strategy bohb samples with bayes; use strategy halving for "
                         "sampler random");
    return AML_OK;
}

/* search.seed_configs (kept for after the learners) and search.defaults_first. */
static int spec_read_seed_keys(spec_ctx *c, yaml_node_t *search)
{
    aml_spec *s = c->spec;
    char desc[64];
    spec_entry e;
    int rc;

    if ((e = spec_get(c, search, "seed_configs")).val) {
        if (e.val->type != YAML_SEQUENCE_NODE && !spec_is_null(e.val))
            return spec_fail(c, e.val,
                             "'seed_configs' must be a list of mappings like "
                             "{learner: knn, k: 5}, not %s",
                             spec_describe(e.val, desc, sizeof(desc)));
        c->seeds = e.val->type == YAML_SEQUENCE_NODE ? e.val : NULL;
    }
    if ((e = spec_get(c, search, "defaults_first")).val) {
        if ((rc = spec_get_bool(c, &e, &s->defaults_first)) < 0)
            return rc;
        if (s->defaults_first && strcmp(s->strategy, "grid") == 0)
            return spec_fail(c, e.key,
                             "'defaults_first' does not apply to strategy grid, "
                             "which visits its points in order");
    }
    return AML_OK;
}

static int spec_read_search(spec_ctx *c, const spec_entry *search)
{
    aml_spec *s = c->spec;
    spec_entry e;
    long long v;
    int rc;

    if ((rc = spec_expect_map(c, search)) < 0 ||
        (rc = spec_check_keys(c, search->val, spec_search_keys, "'search'")) < 0)
        return rc;
    if ((e = spec_get(c, search->val, "strategy")).val) {
        free(s->strategy);
        s->strategy = NULL;
        if ((rc = spec_get_word(c, &e, c->vocab->strategies, "strategies",
                                &s->strategy)) < 0)
            return rc;
        s->pos_strategy = spec_pos(e.val);
    }
    if ((e = spec_get(c, search->val, "trials")).val) {
        if ((rc = spec_get_int(c, &e, 1, LONG_MAX, &v)) < 0)
            return rc;
        s->trials = (long)v;
    }
    if ((e = spec_get(c, search->val, "parallel")).val) {
        if ((rc = spec_get_int(c, &e, 0, AML_SPEC_MAX_PARALLEL, &v)) < 0)
            return rc;
        s->parallel = (int)v;
    }
    if ((e = spec_get(c, search->val, "seed")).val &&
        (rc = spec_get_seed(c, &e, &s->seed)) < 0)
        return rc;
    if ((e = spec_get(c, search->val, "grid")).val) {
        if ((rc = spec_get_int(c, &e, 2, INT_MAX, &v)) < 0)
            return rc;
        c->grid = (int)v;
    }
    if ((rc = spec_read_halving(c, search->val)) < 0)
        return rc;
    if ((rc = spec_read_seed_keys(c, search->val)) < 0)
        return rc;
    return spec_read_budget(c, search->val);
}

/* ---- learners and their parameters ------------------------------------ */

/* Adds a dimension at the parameter's position; grid < 0 picks the default. */
static int spec_add_dim(spec_ctx *c, aml_space_learner *l, const yaml_node_t *at,
                        const char *name, aml_domain domain, aml_vkind kind, double lo,
                        double hi, const aml_value *values, size_t n, int grid)
{
    char full[256];
    aml_dim *d;

    if (c->dim_prefix) {
        snprintf(full, sizeof(full), "%s%s", c->dim_prefix, name);
        name = full;
    }
    d = aml_space_add_dim(l, name, domain, kind, lo, hi, values, n);
    if (!d)
        return aml_error_code() < 0 ? aml_error_code() : AML_ENOMEM;
    if (grid < 0)
        grid = domain == AML_DOM_INT ? 0 : c->grid;
    d->grid = grid;
    d->line = (int)at->start_mark.line + 1;
    d->col = (int)at->start_mark.column + 1;
    return AML_OK;
}

/* Converts a checked number to the kind the parameter declares. */
static void spec_to_kind(aml_vkind kind, aml_value *v)
{
    if (kind == AML_VAL_REAL && v->kind == AML_VAL_INT) {
        v->real = (double)v->i;
        v->kind = AML_VAL_REAL;
    } else if (kind == AML_VAL_INT && v->kind == AML_VAL_REAL) {
        v->i = (long long)v->real;
        v->kind = AML_VAL_INT;
    }
}

/* Reads one scalar as a value of the parameter, checked by aml_param_check. */
static int spec_param_value(spec_ctx *c, const aml_learner_type *t,
                            const aml_param_def *def, const yaml_node_t *n,
                            aml_value *out)
{
    char buf[256], desc[64];
    const char *err;

    if (n->type != YAML_SCALAR_NODE || spec_is_null(n))
        return spec_fail(c, n, "%s: a value of '%s' must be a single value, not %s",
                         t->name, def->name, spec_describe(n, desc, sizeof(desc)));
    memset(out, 0, sizeof(*out));
    if (def->kind == AML_VAL_STR || !spec_number(n, out)) {
        out->kind = AML_VAL_STR;
        out->str = spec_text(n);
    }
    err = aml_param_check(def, out, buf, sizeof(buf));
    if (err)
        return spec_fail(c, n, "%s: %s", t->name, err);
    if (def->kind == AML_VAL_INT && out->kind == AML_VAL_REAL &&
        fabs(out->real) > SPEC_INT_MAX)
        return spec_fail(c, n, "%s: '%s' is too large for an integer: %s", t->name,
                         def->name, spec_text(n));
    spec_to_kind(def->kind, out);
    return AML_OK;
}

static int spec_value_equal(const aml_value *a, const aml_value *b)
{
    if (a->kind == AML_VAL_STR)
        return strcmp(a->str, b->str) == 0;
    return aml_value_as_real(a) == aml_value_as_real(b);
}

/* A list of values: a CHOICE dimension (duplicates refused). */
static int spec_read_choice(spec_ctx *c, const aml_learner_type *t,
                            const aml_param_def *def, aml_space_learner *l,
                            const yaml_node_t *at, yaml_node_t *seq)
{
    yaml_node_item_t *start = seq->data.sequence.items.start;
    size_t n = (size_t)(seq->data.sequence.items.top - start), i, j;
    aml_value *vals;
    int rc = AML_OK;

    if (n == 0)
        return spec_fail(c, seq, "%s: empty choice list for '%s'", t->name, def->name);
    if (!(vals = aml_calloc(n, sizeof(*vals))))
        return AML_ENOMEM;
    for (i = 0; i < n && rc == AML_OK; i++) {
        yaml_node_t *item = spec_node(c, start[i]);

        rc = spec_param_value(c, t, def, item, &vals[i]);
        for (j = 0; j < i && rc == AML_OK; j++)
            if (spec_value_equal(&vals[i], &vals[j]))
                rc = spec_fail(c, item, "%s: '%s' lists '%s' twice", t->name, def->name,
                               spec_text(item));
    }
    if (rc == AML_OK)
        rc = spec_add_dim(c, l, at, def->name, AML_DOM_CHOICE, def->kind, 0, 0, vals, n,
                          -1);
    free(vals);
    return rc;
}

/* One bound of a range: a number, whole for integer domains. */
static int spec_bound(spec_ctx *c, const aml_param_def *def, const yaml_node_t *n,
                      int int_domain, double *out)
{
    char desc[64];
    aml_value v;

    if (!spec_number(n, &v))
        return spec_fail(c, n, "a bound of '%s' must be a number, not %s", def->name,
                         spec_describe(n, desc, sizeof(desc)));
    *out = aml_value_as_real(&v);
    if (int_domain && (*out != floor(*out) || fabs(*out) > SPEC_INT_MAX))
        return spec_fail(c, n,
                         "a bound of the integer range of '%s' must be an integer, "
                         "not %s",
                         def->name, spec_text(n));
    return AML_OK;
}

/* Checks one end of a range against the parameter's valid values. */
static int spec_bound_valid(spec_ctx *c, const aml_learner_type *t,
                            const aml_param_def *def, const yaml_node_t *n, double x,
                            int int_domain)
{
    char buf[256];
    const char *err;
    aml_value v;

    memset(&v, 0, sizeof(v));
    v.kind = int_domain ? AML_VAL_INT : AML_VAL_REAL;
    v.i = (long long)x;
    v.real = x;
    err = aml_param_check(def, &v, buf, sizeof(buf));
    return err ? spec_fail(c, n, "%s: %s", t->name, err) : AML_OK;
}

/* Refuses domains the parameter's kind cannot take, at the domain key. */
static int spec_range_kind(spec_ctx *c, const aml_learner_type *t,
                           const aml_param_def *def, aml_domain dom,
                           const yaml_node_t *dkey)
{
    if (def->kind == AML_VAL_STR)
        return spec_fail(c, dkey,
                         "%s: '%s' takes words: give a list of choices, not a range",
                         t->name, def->name);
    if (def->kind == AML_VAL_INT &&
        (dom == AML_DOM_UNIFORM || dom == AML_DOM_LOG_UNIFORM))
        return spec_fail(c, dkey,
                         "%s: '%s' is an integer parameter: use int or int_log, "
                         "not %s",
                         t->name, def->name, spec_text(dkey));
    return AML_OK;
}

/* [lo, hi] of a UNIFORM, LOG_UNIFORM, INT or INT_LOG domain. */
static int spec_read_range(spec_ctx *c, const aml_learner_type *t,
                           const aml_param_def *def, aml_space_learner *l,
                           const yaml_node_t *at, aml_domain dom, const spec_entry *e,
                           int grid)
{
    int is_int = dom == AML_DOM_INT || dom == AML_DOM_INT_LOG;
    int is_log = dom == AML_DOM_LOG_UNIFORM || dom == AML_DOM_INT_LOG;
    ptrdiff_t items =
        e->val->type != YAML_SEQUENCE_NODE
            ? -1
            : e->val->data.sequence.items.top - e->val->data.sequence.items.start;
    yaml_node_t *lo_n, *hi_n;
    double lo, hi;
    char desc[64];
    int rc;

    if ((rc = spec_range_kind(c, t, def, dom, e->key)) < 0)
        return rc;
    if (items != 2) {
        const char *what = spec_describe(e->val, desc, sizeof(desc));

        if (items >= 0) {
            snprintf(desc, sizeof(desc), "%d item%s", (int)items, items == 1 ? "" : "s");
            what = desc;
        }
        return spec_fail(c, e->val, "'%s' takes [lo, hi], two numbers, not %s",
                         spec_text(e->key), what);
    }
    lo_n = spec_node(c, e->val->data.sequence.items.start[0]);
    hi_n = spec_node(c, e->val->data.sequence.items.start[1]);
    if ((rc = spec_bound(c, def, lo_n, is_int, &lo)) < 0 ||
        (rc = spec_bound(c, def, hi_n, is_int, &hi)) < 0)
        return rc;
    if (lo >= hi)
        return spec_fail(c, e->val, "the range of '%s' needs lo < hi, not [%g, %g]",
                         def->name, lo, hi);
    if (is_log && lo <= 0)
        return spec_fail(c, lo_n, "the %s range of '%s' needs lo > 0, not %g",
                         spec_text(e->key), def->name, lo);
    if ((rc = spec_bound_valid(c, t, def, lo_n, lo, is_int)) < 0 ||
        (rc = spec_bound_valid(c, t, def, hi_n, hi, is_int)) < 0)
        return rc;
    return spec_add_dim(c, l, at, def->name, dom, is_int ? AML_VAL_INT : AML_VAL_REAL, lo,
                        hi, NULL, 0, grid);
}

/* Finds the one domain key of a {domain: ..., grid: N} mapping. */
static int spec_domain_key(spec_ctx *c, const aml_param_def *def, yaml_node_t *m,
                           spec_entry *out, aml_domain *dom)
{
    int i;

    out->key = NULL;
    for (i = 0; spec_domain_keys[i + 1]; i++) { /* every key but the last, grid */
        spec_entry e = spec_get(c, m, spec_domain_keys[i]);

        if (!e.key)
            continue;
        if (out->key)
            return spec_fail(c, e.key, "'%s' has two domains, '%s' and '%s'; give one",
                             def->name, spec_text(out->key), spec_text(e.key));
        *out = e;
        *dom = (aml_domain)(AML_DOM_CHOICE + i);
    }
    if (!out->key)
        return spec_fail(c, m,
                         "the domain of '%s' needs one of choice, uniform, "
                         "log_uniform, int, int_log",
                         def->name);
    return AML_OK;
}

/* A mapping domain: {choice: [...]} or {RANGE: [lo, hi], grid: N}. */
static int spec_read_domain(spec_ctx *c, const aml_learner_type *t,
                            const aml_param_def *def, aml_space_learner *l,
                            const yaml_node_t *at, yaml_node_t *m)
{
    char where[128], desc[64];
    spec_entry e = {NULL, NULL}, g;
    aml_domain dom = AML_DOM_CHOICE;
    long long grid = -1;
    int rc;

    snprintf(where, sizeof(where), "the domain of '%s'", def->name);
    if ((rc = spec_check_keys(c, m, spec_domain_keys, where)) < 0 ||
        (rc = spec_domain_key(c, def, m, &e, &dom)) < 0)
        return rc;
    if ((g = spec_get(c, m, "grid")).key) {
        if (dom == AML_DOM_CHOICE)
            return spec_fail(c, g.key, "'grid' applies to ranges, not to a choice");
        if ((rc = spec_get_int(c, &g, 2, INT_MAX, &grid)) < 0)
            return rc;
    }
    if (dom != AML_DOM_CHOICE)
        return spec_read_range(c, t, def, l, at, dom, &e, (int)grid);
    if (e.val->type != YAML_SEQUENCE_NODE)
        return spec_fail(c, e.val, "'choice' takes a list of values, not %s",
                         spec_describe(e.val, desc, sizeof(desc)));
    return spec_read_choice(c, t, def, l, at, e.val);
}

/* One `PARAM: DOMAIN` entry of a learner. */
static int spec_read_param(spec_ctx *c, const aml_learner_type *t, aml_space_learner *l,
                           const spec_entry *e)
{
    const aml_param_def *def, *p;
    char list[SPEC_LIST_MAX];
    size_t used = 0;
    aml_value v;
    int rc;

    def = aml_learner_param_find(t, spec_text(e->key));
    if (!def) {
        list[0] = '\0';
        for (p = t->params; p && p->name; p++)
            spec_join(list, sizeof(list), &used, p->name);
        return spec_fail(c, e->key, "unknown parameter '%s' for %s; its parameters: %s",
                         spec_text(e->key), t->name, used ? list : "(none)");
    }
    if (e->val->type == YAML_SEQUENCE_NODE)
        return spec_read_choice(c, t, def, l, e->key, e->val);
    if (e->val->type == YAML_MAPPING_NODE)
        return spec_read_domain(c, t, def, l, e->key, e->val);
    if (spec_is_null(e->val))
        return spec_fail(c, e->key,
                         "%s: '%s' has no value; give a value, a list of "
                         "choices or a range",
                         t->name, def->name);
    if ((rc = spec_param_value(c, t, def, e->val, &v)) < 0)
        return rc;
    return spec_add_dim(c, l, e->key, def->name, AML_DOM_FIXED, def->kind,
                        aml_value_as_real(&v), aml_value_as_real(&v), &v, 1, -1);
}

/* Every word a string parameter accepts, as a CHOICE dimension. */
static int spec_default_choice(spec_ctx *c, aml_space_learner *l, const yaml_node_t *at,
                               const aml_param_def *def)
{
    aml_value *vals;
    size_t n = 0, i;
    int rc;

    while (def->choices && def->choices[n])
        n++;
    if (!(vals = aml_calloc(n, sizeof(*vals))))
        return AML_ENOMEM;
    for (i = 0; i < n; i++) {
        vals[i].kind = AML_VAL_STR;
        vals[i].str = def->choices[i];
    }
    rc =
        spec_add_dim(c, l, at, def->name, AML_DOM_CHOICE, AML_VAL_STR, 0, 0, vals, n, -1);
    free(vals);
    return rc;
}

/* The default search dimension of one parameter (learner listed without any). */
static int spec_default_dim_add(spec_ctx *c, const aml_learner_type *t,
                                aml_space_learner *l, const yaml_node_t *at,
                                const aml_param_def *def)
{
    aml_value fixed;
    char buf[256];

    if (def->kind == AML_VAL_STR)
        return spec_default_choice(c, l, at, def);
    if (def->search_lo != def->search_hi) {
        aml_domain dom = def->kind == AML_VAL_INT
                             ? (def->search_log ? AML_DOM_INT_LOG : AML_DOM_INT)
                             : (def->search_log ? AML_DOM_LOG_UNIFORM : AML_DOM_UNIFORM);

        return spec_add_dim(c, l, at, def->name, dom, def->kind, def->search_lo,
                            def->search_hi, NULL, 0, -1);
    }
    memset(&fixed, 0, sizeof(fixed));
    fixed.kind = def->kind;
    fixed.real = def->search_lo;
    fixed.i = (long long)def->search_lo;
    if (aml_param_check(def, &fixed, buf, sizeof(buf)))
        return aml_error_set(AML_EINVAL, "learner %s declares a bad search range: %s",
                             t->name, buf);
    return spec_add_dim(c, l, at, def->name, AML_DOM_FIXED, def->kind, def->search_lo,
                        def->search_hi, &fixed, 1, -1);
}

/* Marks the new dimension as the learner's default, so a task may drop it later. */
static int spec_default_dim(spec_ctx *c, const aml_learner_type *t, aml_space_learner *l,
                            const yaml_node_t *at, const aml_param_def *def)
{
    int rc;

    if (def->no_search) /* the learner keeps its default */
        return AML_OK;
    rc = spec_default_dim_add(c, t, l, at, def);

    if (rc == AML_OK)
        l->dims[l->n_dims - 1].implicit = 1;
    return rc;
}

static const aml_learner_type *spec_find_learner(spec_ctx *c, const char *name)
{
    const aml_learner_type *const *t;

    for (t = c->vocab->learners; t && *t; t++)
        if (strcmp((*t)->name, name) == 0)
            return *t;
    return NULL;
}

static int spec_unknown_learner(spec_ctx *c, const yaml_node_t *key)
{
    const aml_learner_type *const *t;
    char list[SPEC_LIST_MAX];
    size_t used = 0;

    list[0] = '\0';
    for (t = c->vocab->learners; t && *t; t++)
        spec_join(list, sizeof(list), &used, (*t)->name);
    return spec_fail(c, key, "unknown learner '%s'; known learners: %s", spec_text(key),
                     list);
}

/* Parameters of one learner: every entry, or every declared one by default. */
static int spec_read_params(spec_ctx *c, const aml_learner_type *t, aml_space_learner *l,
                            const spec_entry *e)
{
    yaml_node_pair_t *p;
    const aml_param_def *def;
    int rc;

    if (e->val->type == YAML_SCALAR_NODE ||
        e->val->data.mapping.pairs.start == e->val->data.mapping.pairs.top) {
        for (def = t->params; def && def->name; def++)
            if ((rc = spec_default_dim(c, t, l, e->key, def)) < 0)
                return rc;
        return AML_OK;
    }
    for (p = e->val->data.mapping.pairs.start; p < e->val->data.mapping.pairs.top; p++) {
        spec_entry pe = {spec_node(c, p->key), spec_node(c, p->value)};

        if ((rc = spec_read_param(c, t, l, &pe)) < 0)
            return rc;
    }
    return AML_OK;
}

static int spec_read_learner(spec_ctx *c, const spec_entry *e)
{
    const aml_learner_type *t = spec_find_learner(c, spec_text(e->key));
    aml_space_learner *l;
    char desc[64];

    if (!t)
        return spec_unknown_learner(c, e->key);
    if (c->spec->task != AML_SPEC_TASK_INFER && !(t->tasks & AML_TASK_BIT(c->spec->task)))
        return spec_fail(c, e->key, "learner '%s' does not support %s", t->name,
                         spec_tasks[c->spec->task]);
    if (e->val->type == YAML_SEQUENCE_NODE ||
        (e->val->type == YAML_SCALAR_NODE && !spec_is_null(e->val)))
        return spec_fail(c, e->val,
                         "learner '%s' takes a mapping of parameters (or "
                         "nothing, for its default ranges), not %s",
                         t->name, spec_describe(e->val, desc, sizeof(desc)));
    if (!(l = aml_space_add_learner(c->spec->space, t->name)))
        return AML_ENOMEM;
    l->line = (int)e->key->start_mark.line + 1;
    l->col = (int)e->key->start_mark.column + 1;
    return spec_read_params(c, t, l, e);
}

static int spec_read_learners(spec_ctx *c, const spec_entry *learners)
{
    yaml_node_pair_t *p;
    int rc;

    if (spec_is_null(learners->val) || (learners->val->type == YAML_MAPPING_NODE &&
                                        learners->val->data.mapping.pairs.start ==
                                            learners->val->data.mapping.pairs.top))
        return spec_fail(c, learners->val, "'learners' must name at least one learner");
    if ((rc = spec_expect_map(c, learners)) < 0)
        return rc;
    for (p = learners->val->data.mapping.pairs.start;
         p < learners->val->data.mapping.pairs.top; p++) {
        spec_entry e = {spec_node(c, p->key), spec_node(c, p->value)};

        if ((rc = spec_read_learner(c, &e)) < 0)
            return rc;
    }
    return AML_OK;
}

/* ---- search.seed_configs ------------------------------------------------ */

static void spec_seed_dispose(aml_spec_seed *sd)
{
    for (size_t i = 0; i < sd->n_params; i++) {
        free((char *)sd->params[i].name);
        if (sd->params[i].value.kind == AML_VAL_STR)
            free((char *)sd->params[i].value.str);
    }
    free(sd->params);
    free(sd->param_pos);
    free(sd->learner);
}

/* The parameter definition a seed key names: the learner's, or a preprocess key's. */
static int spec_seed_def(spec_ctx *c, const aml_learner_type *t, const yaml_node_t *key,
                         const aml_learner_type **owner, const aml_param_def **def)
{
    const char *name = spec_text(key);
    size_t skip = sizeof(AML_PREP_PREFIX) - 1;
    char list[SPEC_LIST_MAX];
    size_t used = 0;

    *owner = t;
    if (strncmp(name, AML_PREP_PREFIX, skip) == 0) {
        *owner = &spec_prep_type;
        name += skip;
    }
    if ((*def = aml_learner_param_find(*owner, name)))
        return AML_OK;
    list[0] = '\0';
    for (const aml_param_def *p = (*owner)->params; p && p->name; p++)
        spec_join(list, sizeof(list), &used, p->name);
    return spec_fail(c, key,
                     "seed configuration: unknown parameter '%s' for %s; its "
                     "parameters: %s",
                     spec_text(key), (*owner)->name, used ? list : "(none)");
}

/* Reads one `KEY: VALUE` of a seed configuration into sd->params[sd->n_params]. */
static int spec_seed_param(spec_ctx *c, const aml_learner_type *t, aml_spec_seed *sd,
                           const spec_entry *e)
{
    const aml_learner_type *owner;
    const aml_param_def *def;
    aml_param *p = &sd->params[sd->n_params];
    aml_value v;
    int rc;

    if ((rc = spec_seed_def(c, t, e->key, &owner, &def)) < 0 ||
        (rc = spec_param_value(c, owner, def, e->val, &v)) < 0)
        return rc;
    if (!(p->name = aml_strdup(spec_text(e->key))))
        return AML_ENOMEM;
    p->value = v;
    sd->param_pos[sd->n_params++] = spec_pos(e->key);
    if (v.kind == AML_VAL_STR && !(p->value.str = aml_strdup(v.str)))
        return AML_ENOMEM;
    return AML_OK;
}

/* One entry of search.seed_configs. */
static int spec_read_seed(spec_ctx *c, yaml_node_t *m, aml_spec_seed *sd)
{
    size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
    const aml_learner_type *t;
    spec_entry e;
    int rc;

    sd->pos = spec_pos(m);
    if ((rc = spec_require(c, m, "learner", "a seed configuration", &e)) < 0 ||
        (rc = spec_get_text(c, &e, "a learner name", &sd->learner)) < 0)
        return rc;
    if (!(t = spec_find_learner(c, sd->learner)))
        return spec_unknown_learner(c, e.val);
    sd->type = t;
    if (!(sd->params = aml_calloc(n, sizeof(*sd->params))) ||
        !(sd->param_pos = aml_calloc(n, sizeof(*sd->param_pos))))
        return AML_ENOMEM;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
         p++) {
        spec_entry pe = {spec_node(c, p->key), spec_node(c, p->value)};

        if (strcmp(spec_text(pe.key), "learner") != 0 &&
            (rc = spec_seed_param(c, t, sd, &pe)) < 0)
            return rc;
    }
    return AML_OK;
}

/* search.seed_configs' items into c->spec->seeds (room for them is there). */
static int spec_read_seed_list(spec_ctx *c)
{
    yaml_node_item_t *it;
    char desc[64];
    int rc;

    for (it = c->seeds->data.sequence.items.start; it < c->seeds->data.sequence.items.top;
         it++) {
        yaml_node_t *item = spec_node(c, *it);

        if (item->type != YAML_MAPPING_NODE)
            return spec_fail(c, item,
                             "each item of 'seed_configs' must be a mapping like "
                             "{learner: knn, k: 5}, not %s",
                             spec_describe(item, desc, sizeof(desc)));
        rc = spec_read_seed(c, item, &c->spec->seeds[c->spec->n_seeds++]);
        if (rc < 0)
            return rc;
    }
    return AML_OK;
}

/* Defaults first: a seed naming no parameter for each learner, in spec order. */
static int spec_add_default_seeds(spec_ctx *c)
{
    const aml_space *space = c->spec->space;

    for (size_t li = 0; li < space->n_learners; li++) {
        aml_spec_seed *sd = &c->spec->seeds[c->spec->n_seeds++];

        if (!(sd->learner = aml_strdup(space->learners[li].name)))
            return AML_ENOMEM;
        sd->type = spec_find_learner(c, sd->learner);
        sd->pos = (aml_spec_pos){space->learners[li].line, space->learners[li].col};
        sd->is_default = 1;
    }
    return AML_OK;
}

/*
 * search.seed_configs, read after the learners (checked against the space),
 * then the defaults when the search starts with them.
 */
static int spec_read_seeds(spec_ctx *c)
{
    size_t n = 0;
    aml_config *cfgs = NULL;
    int rc;

    if (c->seeds)
        n = (size_t)(c->seeds->data.sequence.items.top -
                     c->seeds->data.sequence.items.start);
    if (aml_spec_defaults_first(c->spec))
        n += c->spec->space->n_learners;
    if (n && !(c->spec->seeds = aml_calloc(n, sizeof(*c->spec->seeds))))
        return AML_ENOMEM;
    if (c->seeds && (rc = spec_read_seed_list(c)) < 0)
        return rc;
    if (aml_spec_defaults_first(c->spec) && (rc = spec_add_default_seeds(c)) < 0)
        return rc;
    if ((rc = aml_spec_seed_configs(c->spec, c->spec->space, &cfgs, &n)) < 0)
        return rc;
    aml_spec_seed_configs_free(cfgs, n);
    return AML_OK;
}

/* Does dimension d hold v?  Writes the space's own value into out when it does. */
static int spec_dim_holds(const aml_dim *d, const aml_value *v, aml_value *out)
{
    double x;

    if (d->domain == AML_DOM_FIXED || d->domain == AML_DOM_CHOICE) {
        for (size_t i = 0; i < d->n_choices; i++)
            if ((v->kind == AML_VAL_STR) == (d->choices[i].kind == AML_VAL_STR) &&
                spec_value_equal(&d->choices[i], v)) {
                *out = d->choices[i];
                return 1;
            }
        return 0;
    }
    if (v->kind == AML_VAL_STR)
        return 0;
    x = aml_value_as_real(v);
    if (!(x >= d->lo && x <= d->hi))
        return 0;
    if (d->domain == AML_DOM_INT || d->domain == AML_DOM_INT_LOG) {
        if (x != floor(x))
            return 0;
        aml_dim_at(d, 0.0, out); /* the dimension's kind */
        out->i = (long long)x;
        out->real = x;
        return 1;
    }
    memset(out, 0, sizeof(*out));
    out->kind = AML_VAL_REAL;
    out->real = x;
    return 1;
}

static void spec_value_text(const aml_value *v, char *buf, size_t n)
{
    if (v->kind == AML_VAL_STR)
        snprintf(buf, n, "%s", v->str);
    else if (v->kind == AML_VAL_INT)
        snprintf(buf, n, "%lld", v->i);
    else
        snprintf(buf, n, "%g", v->real);
}

/* An unnamed dimension's value: learner t's default when the dimension holds it. */
static void spec_seed_default(const aml_learner_type *t, const aml_dim *d, aml_value *out)
{
    size_t skip = sizeof(AML_PREP_PREFIX) - 1;
    const aml_param_def *def =
        strncmp(d->name, AML_PREP_PREFIX, skip) == 0
            ? aml_learner_param_find(&spec_prep_type, d->name + skip)
            : aml_learner_param_find(t, d->name);

    if (def && spec_dim_holds(d, &def->def, out))
        return;
    if (d->domain == AML_DOM_FIXED || d->domain == AML_DOM_CHOICE)
        *out = d->choices[0];
    else
        aml_dim_at(d, 0.5, out);
}

/* Fills configuration cfg of space learner l from seed sd (positions for messages). */
static int spec_seed_fill(const aml_spec *s, const aml_spec_seed *sd,
                          const aml_space_learner *l, aml_config *cfg)
{
    char val[128];
    size_t used = 0;

    for (size_t j = 0; j < l->n_dims; j++) {
        const aml_dim *d = &l->dims[j];
        size_t k;

        cfg->params[j].name = d->name;
        for (k = 0; k < sd->n_params && strcmp(sd->params[k].name, d->name) != 0; k++)
            ;
        if (k == sd->n_params) {
            spec_seed_default(sd->type, d, &cfg->params[j].value);
            continue;
        }
        used++;
        if (!spec_dim_holds(d, &sd->params[k].value, &cfg->params[j].value)) {
            spec_value_text(&sd->params[k].value, val, sizeof(val));
            return aml_error_set(AML_EINVAL,
                                 "%s:%d:%d: seed configuration: %s '%s' = %s is outside "
                                 "the search space (its domain is at line %d)",
                                 s->path, sd->param_pos[k].line, sd->param_pos[k].col,
                                 l->name, d->name, val, d->line);
        }
    }
    for (size_t k = 0; used < sd->n_params && k < sd->n_params; k++) {
        size_t j;

        for (j = 0; j < l->n_dims && strcmp(sd->params[k].name, l->dims[j].name) != 0;
             j++)
            ;
        if (j == l->n_dims)
            return aml_error_set(AML_EINVAL,
                                 "%s:%d:%d: seed configuration: '%s' is not searched for "
                                 "%s in this spec (list it under the learner to name it)",
                                 s->path, sd->param_pos[k].line, sd->param_pos[k].col,
                                 sd->params[k].name, l->name);
    }
    return AML_OK;
}

int aml_spec_defaults_first(const aml_spec *s)
{
    if (s->defaults_first >= 0)
        return s->defaults_first;
    return strcmp(s->strategy, "grid") != 0;
}

/* Is cfgs[n] equal to one of cfgs[0..n-1]? */
static int spec_seed_repeats(const aml_config *cfgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (aml_config_equal(&cfgs[i], &cfgs[n]))
            return 1;
    return 0;
}

/*
 * Seed i of the spec as cfg, a configuration of space: AML_OK, or 1 when
 * it is a default seed of a learner space lacks (cfg untouched).
 */
static int spec_seed_config(const aml_spec *s, size_t i, const aml_space *space,
                            aml_config *cfg)
{
    const aml_spec_seed *sd = &s->seeds[i];
    size_t li;
    int rc;

    for (li = 0;
         li < space->n_learners && strcmp(space->learners[li].name, sd->learner) != 0;
         li++)
        ;
    if (li == space->n_learners && sd->is_default)
        return 1;
    if (li == space->n_learners)
        return aml_error_set(AML_EINVAL,
                             "%s:%d:%d: seed configuration names learner '%s', which "
                             "'learners' does not list",
                             s->path, sd->pos.line, sd->pos.col, sd->learner);
    if ((rc = aml_config_init(cfg, space, li)) < 0)
        return rc;
    return spec_seed_fill(s, sd, &space->learners[li], cfg);
}

int aml_spec_seed_configs(const aml_spec *s, const aml_space *space, aml_config **out,
                          size_t *n)
{
    aml_config *cfgs = NULL;
    size_t i, m = 0;
    int rc = AML_OK;

    *out = NULL;
    *n = 0;
    if (s->n_seeds && !(cfgs = aml_calloc(s->n_seeds, sizeof(*cfgs))))
        return AML_ENOMEM;
    for (i = 0; i < s->n_seeds && rc >= 0; i++) {
        if ((rc = spec_seed_config(s, i, space, &cfgs[m])) != AML_OK)
            continue;
        if (spec_seed_repeats(cfgs, m))
            aml_config_dispose(&cfgs[m]);
        else
            m++;
    }
    if (rc < 0 || m == 0) {
        aml_spec_seed_configs_free(cfgs, s->n_seeds);
        return rc < 0 ? rc : AML_OK;
    }
    *out = cfgs;
    *n = m;
    return AML_OK;
}

void aml_spec_seed_configs_free(aml_config *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++)
        aml_config_dispose(&c[i]);
    free(c);
}

/* ---- preprocess -------------------------------------------------------- */

/* Reads preprocess: into a scratch learner, dimensions named preprocess.KEY. */
/* True when dimension `name` of l may take the word `word`. */
static int spec_dim_has_word(const aml_space_learner *l, const char *name,
                             const char *word)
{
    for (size_t j = 0; j < l->n_dims; j++) {
        const aml_dim *d = &l->dims[j];

        if (strcmp(d->name, name) != 0)
            continue;
        for (size_t i = 0; i < d->n_choices; i++)
            if (d->choices[i].kind == AML_VAL_STR && strcmp(d->choices[i].str, word) == 0)
                return 1;
    }
    return 0;
}

/* impute_value is read by impute: constant only; without it the value would be ignored.
 */
static int spec_check_impute_value(spec_ctx *c, yaml_node_t *pre,
                                   const aml_space_learner *l)
{
    spec_entry e = spec_get(c, pre, "impute_value");

    if (!e.val || spec_dim_has_word(l, AML_PREP_PREFIX "impute", "constant"))
        return AML_OK;
    return spec_fail(c, e.key,
                     "'impute_value' applies to impute: constant only (add constant to "
                     "preprocess.impute)");
}

static int spec_read_preprocess(spec_ctx *c, const spec_entry *pre)
{
    aml_space_learner *l;
    yaml_node_pair_t *p;
    int rc = AML_OK;

    c->spec->pos_preprocess = spec_pos(pre->val);
    if (spec_is_null(pre->val))
        return AML_OK;
    if ((rc = spec_expect_map(c, pre)) < 0)
        return rc;
    if (!(c->prep = aml_space_new()) ||
        !(l = aml_space_add_learner(c->prep, spec_prep_type.name)))
        return AML_ENOMEM;
    c->dim_prefix = AML_PREP_PREFIX;
    for (p = pre->val->data.mapping.pairs.start;
         rc == 0 && p < pre->val->data.mapping.pairs.top; p++) {
        spec_entry e = {spec_node(c, p->key), spec_node(c, p->value)};

        rc = spec_read_param(c, &spec_prep_type, l, &e);
    }
    c->dim_prefix = NULL;
    return rc < 0 ? rc : spec_check_impute_value(c, pre->val, l);
}

/* Appends the preprocess dimensions to every learner of the space. */
static int spec_apply_preprocess(spec_ctx *c)
{
    const aml_space_learner *src;
    size_t i, k;

    if (!c->prep)
        return AML_OK;
    src = &c->prep->learners[0];
    for (i = 0; i < c->spec->space->n_learners; i++) {
        aml_space_learner *l = &c->spec->space->learners[i];

        for (k = 0; k < src->n_dims; k++) {
            const aml_dim *d = &src->dims[k];
            aml_dim *copy = aml_space_add_dim(l, d->name, d->domain, d->kind, d->lo,
                                              d->hi, d->choices, d->n_choices);

            if (!copy)
                return aml_error_code() < 0 ? aml_error_code() : AML_ENOMEM;
            copy->grid = d->grid;
            copy->line = d->line;
            copy->col = d->col;
        }
    }
    return AML_OK;
}

/* ---- the whole document ------------------------------------------------ */

/* ---- ensemble -------------------------------------------------------- */

/* A learner name for a meta-learner: one word of the vocabulary. */
static int spec_meta_name(spec_ctx *c, const yaml_node_t *n, const char *key)
{
    if (spec_find_learner(c, spec_text(n)))
        return AML_OK;
    return spec_fail(c, n, "'%s' names unknown learner '%s'", key, spec_text(n));
}

/* ensemble.meta: one learner name or a list of them. */
static int spec_read_meta(spec_ctx *c, const spec_entry *e)
{
    aml_spec_ensemble *en = &c->spec->ensemble;
    yaml_node_item_t *it;
    int rc;

    if (e->val->type == YAML_SCALAR_NODE) {
        if (!(en->meta = aml_calloc(2, sizeof(char *))))
            return AML_ENOMEM;
        if ((rc = spec_get_text(c, e, "a learner name", &en->meta[0])) < 0)
            return rc;
        en->n_meta = 1;
        if (!(en->meta_pos = aml_calloc(1, sizeof(*en->meta_pos))))
            return AML_ENOMEM;
        en->meta_pos[0] = spec_pos(e->val);
        return spec_meta_name(c, e->val, "meta");
    }
    if ((rc = spec_get_list(c, e, 0, &en->meta, &en->n_meta)) < 0)
        return rc;
    if (en->n_meta == 0)
        return spec_fail(c, e->val, "'meta' must name at least one learner");
    if (!(en->meta_pos = aml_calloc(en->n_meta, sizeof(*en->meta_pos))))
        return AML_ENOMEM;
    it = e->val->data.sequence.items.start;
    for (size_t i = 0; it < e->val->data.sequence.items.top; it++, i++) {
        yaml_node_t *item = spec_node(c, *it);

        if ((rc = spec_meta_name(c, item, "meta")) < 0)
            return rc;
        /* A second copy (same learner, same defaults) would add nothing but a tie. */
        for (size_t j = 0; j < i; j++)
            if (strcmp(en->meta[j], en->meta[i]) == 0)
                return spec_fail(c, item, "'meta' lists '%s' twice", en->meta[i]);
        en->meta_pos[i] = spec_pos(item);
    }
    return AML_OK;
}

static int spec_read_ensemble_ints(spec_ctx *c, yaml_node_t *m)
{
    aml_spec_ensemble *en = &c->spec->ensemble;
    spec_entry e;
    long long v;
    int rc;

    if ((e = spec_get(c, m, "size")).val) {
        if ((rc = spec_get_int(c, &e, 1, 1000, &v)) < 0)
            return rc;
        en->size = (int)v;
    }
    if ((e = spec_get(c, m, "candidates")).val) {
        if ((rc = spec_get_int(c, &e, 1, 100000, &v)) < 0)
            return rc;
        en->candidates = (int)v;
    }
    if ((e = spec_get(c, m, "bags")).val) {
        if ((rc = spec_get_int(c, &e, 1, 1000, &v)) < 0)
            return rc;
        en->bags = (int)v;
    }
    if ((e = spec_get(c, m, "layers")).val) {
        if ((rc = spec_get_int(c, &e, 1, 2, &v)) < 0)
            return rc;
        en->layers = (int)v;
    }
    return AML_OK;
}

/*
 * Keys the method does not read are refused, the same way for every method:
 * the stacking keys under another method, and the keys that shape a
 * combination (size, candidates, fallback) under none, the best trial alone.
 */
static int spec_check_method_keys(spec_ctx *c, yaml_node_t *m)
{
    static const char *const stacking[] = {"layers", "meta", "final", "passthrough",
                                           NULL};
    static const char *const combined[] = {"size", "candidates", "fallback", NULL};
    aml_ensemble_method method = c->spec->ensemble.method;
    spec_entry e;
    int i;

    for (i = 0; method != AML_ENSEMBLE_STACKING && stacking[i]; i++)
        if ((e = spec_get(c, m, stacking[i])).val)
            return spec_fail(c, e.key, "'%s' applies to method stacking only",
                             stacking[i]);
    if (method != AML_ENSEMBLE_SELECTION && (e = spec_get(c, m, "bags")).val)
        return spec_fail(c, e.key, "'bags' applies to method selection only");
    for (i = 0; method == AML_ENSEMBLE_NONE && combined[i]; i++)
        if ((e = spec_get(c, m, combined[i])).val)
            return spec_fail(c, e.key,
                             "'%s' does not apply to method none (the best trial alone)",
                             combined[i]);
    return AML_OK;
}

static int spec_read_ensemble(spec_ctx *c, const spec_entry *sec)
{
    aml_spec_ensemble *en = &c->spec->ensemble;
    spec_entry e;
    char *word = NULL;
    int rc;

    if ((rc = spec_expect_map(c, sec)) < 0 ||
        (rc = spec_check_keys(c, sec->val, spec_ensemble_keys, "'ensemble'")) < 0)
        return rc;
    en->pos = spec_pos(sec->key);
    if ((e = spec_get(c, sec->val, "method")).val) {
        if ((rc = spec_get_word(c, &e, spec_ensemble_methods, "methods", &word)) < 0)
            return rc;
        en->method = (aml_ensemble_method)word_index(spec_ensemble_methods, word);
        free(word);
    }
    if ((rc = spec_check_method_keys(c, sec->val)) < 0 ||
        (rc = spec_read_ensemble_ints(c, sec->val)) < 0)
        return rc;
    if ((e = spec_get(c, sec->val, "meta")).val && (rc = spec_read_meta(c, &e)) < 0)
        return rc;
    if ((e = spec_get(c, sec->val, "final")).val &&
        ((rc = spec_get_text(c, &e, "a learner name", &en->final)) < 0 ||
         (rc = spec_meta_name(c, e.val, "final")) < 0))
        return rc;
    if (e.val)
        en->final_pos = spec_pos(e.val);
    if ((e = spec_get(c, sec->val, "final")).val && en->layers != 2)
        return spec_fail(c, e.key, "'final' needs 'layers: 2'");
    if ((e = spec_get(c, sec->val, "passthrough")).val &&
        (rc = spec_get_bool(c, &e, &en->passthrough)) < 0)
        return rc;
    /* The stack's inputs are every row's OOF, which these plans leave unvalidated. */
    if (en->passthrough &&
        (c->spec->cv_kind == AML_CV_HOLDOUT || c->spec->cv_kind == AML_CV_TIME_SERIES))
        return spec_fail(c, e.val,
                         "'passthrough' needs a CV plan that validates every row, "
                         "not %s",
                         c->spec->cv_kind == AML_CV_HOLDOUT ? "holdout" : "time_series");
    if ((e = spec_get(c, sec->val, "refit")).val &&
        (rc = spec_get_bool(c, &e, &en->refit)) < 0)
        return rc;
    if ((e = spec_get(c, sec->val, "fallback")).val &&
        (rc = spec_get_bool(c, &e, &en->fallback)) < 0)
        return rc;
    return AML_OK;
}

static int spec_read_sections(spec_ctx *c, yaml_node_t *root)
{
    aml_spec *s = c->spec;
    spec_entry e;
    int rc;

    if ((e = spec_get(c, root, "cv")).val && (rc = spec_read_cv(c, &e)) < 0)
        return rc;
    if ((e = spec_get(c, root, "metric")).val) {
        if ((rc = spec_get_word(c, &e, c->vocab->metrics, "metrics", &s->metric)) < 0)
            return rc;
        s->pos_metric = spec_pos(e.val);
    }
    if ((e = spec_get(c, root, "search")).val && (rc = spec_read_search(c, &e)) < 0)
        return rc;
    if ((e = spec_get(c, root, "preprocess")).val &&
        (rc = spec_read_preprocess(c, &e)) < 0)
        return rc;
    if ((rc = spec_require(c, root, "learners", NULL, &e)) < 0 ||
        (rc = spec_read_learners(c, &e)) < 0 || (rc = spec_apply_preprocess(c)) < 0 ||
        (rc = spec_read_seeds(c)) < 0)
        return rc;
    if ((rc = spec_require(c, root, "store", NULL, &e)) < 0 ||
        (rc = spec_get_path(c, &e, &s->store)) < 0 ||
        (rc = spec_check_written(c, &e, s->store, "store")) < 0)
        return rc;
    if ((e = spec_get(c, root, "output")).val &&
        ((rc = spec_get_path(c, &e, &s->output)) < 0 ||
         (rc = spec_check_written(c, &e, s->output, "output")) < 0))
        return rc;
    if ((e = spec_get(c, root, "ensemble")).val && (rc = spec_read_ensemble(c, &e)) < 0)
        return rc;
    return AML_OK;
}

static int spec_read_root(spec_ctx *c, yaml_node_t *root)
{
    spec_entry e;
    char desc[64];
    int rc;

    if (root->type != YAML_MAPPING_NODE)
        return spec_fail(c, root,
                         "the spec must be a mapping of keys (study, data, "
                         "learners, store, ...), not %s",
                         spec_describe(root, desc, sizeof(desc)));
    if ((rc = spec_check_keys(c, root, spec_root_keys, NULL)) < 0)
        return rc;
    if ((rc = spec_require(c, root, "study", NULL, &e)) < 0 ||
        (rc = spec_get_text(c, &e, "a name", &c->spec->study)) < 0)
        return rc;
    if ((rc = spec_require(c, root, "data", NULL, &e)) < 0 ||
        (rc = spec_read_data(c, &e)) < 0)
        return rc;
    return spec_read_sections(c, root);
}

/* A reader error carries a byte offset, not a mark: count lines up to it. */
static yaml_mark_t spec_offset_mark(const char *text, size_t len, size_t offset)
{
    yaml_mark_t m = {0, 0, 0};
    size_t i;

    for (i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            m.line++;
            m.column = 0;
        } else {
            m.column++;
        }
    }
    return m;
}

static int spec_syntax_error(spec_ctx *c, const yaml_parser_t *p, const char *text,
                             size_t len)
{
    yaml_mark_t m = p->problem_mark;

    if (p->error == YAML_MEMORY_ERROR)
        return aml_error_set(AML_ENOMEM, "%s: out of memory parsing YAML", c->path);
    if (p->error == YAML_READER_ERROR)
        m = spec_offset_mark(text, len, p->problem_offset);
    if (p->context)
        return spec_fail_mark(c, m, "YAML syntax error: %s (%s that starts at line %zu)",
                              p->problem ? p->problem : "unexpected input", p->context,
                              p->context_mark.line + 1);
    return spec_fail_mark(c, m, "YAML syntax error: %s",
                          p->problem ? p->problem : "unexpected input");
}

/* Parses the text into c->doc; refuses an empty stream and a second document. */
static int spec_parse(spec_ctx *c, const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_document_t extra;
    yaml_mark_t start = {0, 0, 0};
    int rc = AML_OK;

    if (!yaml_parser_initialize(&p))
        return aml_error_set(AML_ENOMEM, "%s: out of memory parsing YAML", c->path);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &c->doc)) {
        rc = spec_syntax_error(c, &p, text, len);
        goto out;
    }
    c->loaded = 1;
    if (!yaml_document_get_root_node(&c->doc)) {
        rc = spec_fail_mark(c, start,
                            "the spec is empty; it needs at least study, data, "
                            "learners and store");
        goto out;
    }
    if (!yaml_parser_load(&p, &extra)) {
        rc = spec_syntax_error(c, &p, text, len);
        goto out;
    }
    if (yaml_document_get_root_node(&extra))
        rc = spec_fail_mark(c, extra.start_mark,
                            "the file holds a second YAML document; "
                            "a spec is one document");
    yaml_document_delete(&extra);
out:
    yaml_parser_delete(&p);
    return rc;
}

/* Reads the whole file into a NUL-terminated buffer (kept as spec->text). */
static int spec_read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0, got;
    char *buf = NULL, *grown;
    int rc = AML_OK;

    if (!f)
        return aml_error_set(AML_EIO, "%s: %s", path, strerror(errno));
    do {
        if (!(grown = aml_reallocarray(buf, cap, 2))) {
            rc = AML_ENOMEM;
            goto out;
        }
        buf = grown;
        cap *= 2;
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0 && !feof(f) && !ferror(f));
    if (ferror(f)) {
        rc = aml_error_set(AML_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

/* The defaults of every optional field (see spec.h). */
static aml_spec *spec_new(const char *path)
{
    aml_spec *s = aml_calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->task = AML_SPEC_TASK_INFER;
    s->folds = 5;
    s->stratified = 1;
    s->repeats = 3;
    s->fraction = 0.2;
    s->ensemble.size = 10;
    s->ensemble.candidates = 50;
    s->ensemble.bags = 20;
    s->ensemble.layers = 1;
    s->ensemble.refit = 1;
    s->ensemble.fallback = 1;
    s->decimal = '.';
    s->parallel = 1;
    s->path = aml_strdup(path);
    s->strategy = aml_strdup("random");
    s->defaults_first = -1;
    s->space = aml_space_new();
    if (!s->path || !s->strategy || !s->space) {
        aml_spec_free(s);
        return NULL;
    }
    return s;
}

static char *spec_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;

    if (!slash)
        return NULL;
    dir = aml_malloc((size_t)(slash - path) + 1);
    if (dir) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    return dir;
}

/* Loads from the file at path, or from text as if read from path. */
static int spec_load(aml_spec **out, const char *path, const char *text,
                     const aml_spec_vocab *vocab)
{
    spec_ctx c;
    size_t len = 0;
    int rc;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    c.path = path;
    c.vocab = vocab;
    c.grid = SPEC_GRID_DEFAULT;
    c.stored = text != NULL;
    if (!(c.spec = spec_new(path)) ||
        (strchr(path, '/') && !(c.dir = spec_dirname(path)))) {
        rc = AML_ENOMEM;
        goto out;
    }
    if (text) {
        len = strlen(text);
        rc = (c.spec->text = aml_strdup(text)) ? AML_OK : AML_ENOMEM;
    } else {
        rc = spec_read_file(path, &c.spec->text, &len);
    }
    if (rc < 0 || (rc = spec_parse(&c, c.spec->text, len)) < 0 ||
        (rc = spec_check_mappings(&c)) < 0 ||
        (rc = spec_read_root(&c, yaml_document_get_root_node(&c.doc))) < 0)
        goto out;
    *out = c.spec;
    c.spec = NULL;
out:
    if (c.loaded)
        yaml_document_delete(&c.doc);
    aml_spec_free(c.spec);
    aml_space_free(c.prep);
    free(c.dir);
    return rc;
}

int aml_spec_load(aml_spec **out, const char *path, const aml_spec_vocab *vocab)
{
    return spec_load(out, path, NULL, vocab);
}

int aml_spec_load_text(aml_spec **out, const char *path, const char *text,
                       const aml_spec_vocab *vocab)
{
    return spec_load(out, path, text, vocab);
}

static void spec_free_list(char **list, size_t n)
{
    size_t i;

    for (i = 0; list && i < n; i++)
        free(list[i]);
    free(list);
}

void aml_spec_free(aml_spec *s)
{
    if (!s)
        return;
    free(s->path);
    free(s->text);
    free(s->study);
    free(s->train);
    free(s->target);
    spec_free_list(s->drop, s->n_drop);
    spec_free_list(s->missing, s->n_missing);
    for (size_t i = 0; s->col_missing && i < s->n_col_missing; i++) {
        free(s->col_missing[i].column);
        spec_free_list(s->col_missing[i].tokens, s->col_missing[i].n_tokens);
    }
    free(s->col_missing);
    spec_free_list(s->categorical, s->n_categorical);
    spec_free_list(s->keep, s->n_keep);
    free(s->cv_group);
    free(s->cv_order);
    free(s->metric);
    free(s->strategy);
    for (size_t i = 0; s->seeds && i < s->n_seeds; i++)
        spec_seed_dispose(&s->seeds[i]);
    free(s->seeds);
    aml_space_free(s->space);
    spec_free_list(s->ensemble.meta, s->ensemble.n_meta);
    free(s->ensemble.meta_pos);
    free(s->ensemble.final);
    free(s->store);
    free(s->output);
    free(s);
}
