/*
 * cmd_export.c - `automl export`, and the ensemble stage's output that
 * `automl run` shares with it.
 *
 *   automl export DB [--study S] [--trial N | --ensemble [--method M] [--size N]]
 *                 --out FILE [--format model|c]
 *
 * Export reads the spec the study's last run read (its text and path are in
 * the store), reads the training data again, checks that the search it
 * describes is still the one stored (the data file's bytes included), and
 * builds the same model `automl run` would: the spec's ensemble, or one
 * trial.  The model file (or C source) is written to a temporary file and
 * renamed, so a failure leaves nothing half-written.
 */
#include "build.h"
#include "cli.h"
#include "export_c.h"
#include "model_job.h"
#include "runner.h"
#include "study.h"

#include <limits.h>
#include <sys/stat.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* "12 x0.40, 3 x0.20" or "12, 3" (stacking), at most `len` bytes. */
static void export_members_text(char *buf, size_t len, const aml_build_report *r)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < r->n_members && used + 1 < len; i++) {
        const char *sep = i ? ", " : "";
        int n = isfinite(r->member_weights[i])
                    ? snprintf(buf + used, len - used, "%s%ld x%.2f", sep,
                               r->member_trials[i], r->member_weights[i])
                    : snprintf(buf + used, len - used, "%s%ld", sep, r->member_trials[i]);

        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void export_print(const cli_model_job *j, const aml_build_report *r)
{
    char members[512], ens[32], best[32];

    cli_format_score(ens, sizeof(ens), isfinite(r->score), r->score);
    cli_format_score(best, sizeof(best), 1, r->best_trial_score);
    if (r->fallback_from) {
        char e[32], s[32];

        cli_format_score(e, sizeof(e), isfinite(r->ensemble_score), r->ensemble_score);
        cli_format_score(s, sizeof(s), isfinite(r->single_score), r->single_score);
        printf("ensemble: %s scored %s %s, no better than the best single trial chosen "
               "the same way "
               "(%s; both cross-validated with no selection on the scored rows)\n",
               r->fallback_from, j->metric->name, e, s);
    }
    if (strcmp(r->method, "none") == 0) {
        printf("model: trial %ld alone (%s %s)\n", r->member_trials[0], j->metric->name,
               j->trial >= 0 ? ens : best);
        return;
    }
    export_members_text(members, sizeof(members), r);
    printf("ensemble: %s of %zu trial%s (%s)\n", r->method, r->n_members,
           r->n_members == 1 ? "" : "s", members);
    if (isfinite(r->single_score)) {
        char s[32];

        /* The kept ensemble's rival is the honest single-trial estimate, not the
         * best trial's own CV score (the best of many tries on the same rows). */
        cli_format_score(s, sizeof(s), 1, r->single_score);
        printf("  %s %s vs %s for the best single trial chosen the same way (both "
               "cross-validated, no selection on the scored rows), so the ensemble is "
               "kept%s; the best trial %ld scored %s on the rows it was selected on\n",
               j->metric->name, ens, s,
               aml_metric_better(j->metric, r->ensemble_score, r->single_score)
                   ? ""
                   : " (fallback: false)",
               r->best_trial, best);
        return;
    }
    printf(
        "  %s %s (cross-validated, no selection on the scored rows) vs the best single "
        "trial %ld: %s\n",
        j->metric->name, ens, r->best_trial, best);
}

static int export_save_row(const cli_model_job *j, const aml_build_report *r)
{
    aml_ensemble_row row = {0};

    row.method = r->method;
    row.score = r->score;
    row.best_trial_score = r->best_trial_score;
    row.member_trials = r->member_trials;
    row.member_weights = r->member_weights;
    row.n_members = r->n_members;
    row.created_at = aml_now();
    row.fallback_from = r->fallback_from;
    row.fallback_score = r->fallback_from ? r->ensemble_score : NAN;
    row.single_score = r->single_score; /* kept or not: the rival's estimate */
    return aml_store_ensemble_save(j->store, j->study_id, &row);
}

/*
 * The line that says what was written.  Without a refit a member is its
 * trial's cross-validation models, each fitted on its split's training rows
 * only: k of them averaged, or one under holdout (the only plan with a
 * single split, since k-fold plans need two folds or more).
 */
static void export_say_written(const cli_model_job *j, const aml_model *m,
                               const aml_build_report *r)
{
    const char *what = j->format_c ? "C source" : "model";
    const char *each = r->n_members == 1 ? "" : "each ";
    int folds = aml_model_member_n_pipes(m, 0);

    printf("%s: %zu member%s", what, r->n_members, r->n_members == 1 ? "" : "s");
    if (j->spec->ensemble.refit || j->trial >= 0)
        printf(" refitted on %zu rows", j->data->n);
    else if (folds == 1)
        printf(", %sits trial's model fitted on the holdout split's training rows "
               "(not all %zu)",
               each, j->data->n);
    else
        printf(", %sthe average of its trial's %d cross-validation fold models "
               "(each fitted on its fold's training rows, not all %zu)",
               each, folds, j->data->n);
    printf(", written to %s\n", j->out);
}

static int export_write(const cli_model_job *j, aml_model *m, const aml_build_report *r)
{
    const aml_spec *s = j->spec;
    int rc;

    if ((rc = aml_model_set_missing(m, s->missing, s->n_missing)) < 0 ||
        (rc = aml_model_set_reading(m, s->decimal, s->col_missing, s->n_col_missing)) < 0)
        return rc;
    rc = j->format_c ? aml_model_export_c(m, j->out) : aml_model_save(m, j->out);
    if (rc == 0)
        export_say_written(j, m, r);
    return rc;
}

static aml_build_request export_request(const cli_model_job *j,
                                        const aml_spec_ensemble *e)
{
    aml_build_request q = {0};

    q.d = j->data;
    q.space = j->space;
    q.ens = e;
    q.metric = j->metric;
    q.store = j->store;
    q.study_id = j->study_id;
    q.folds = j->spec->folds;
    q.stratified = j->spec->stratified;
    q.cv_seed = j->spec->cv_seed;
    q.seed = j->spec->seed;
    q.threads = j->threads;
    q.trial = j->trial;
    q.no_fit = !j->out;
    return q;
}

/* The ensemble methods' words (spec and --method), in aml_ensemble_method order. */
static const char *const export_methods[] = {"selection", "stacking", "voting", "none",
                                             NULL};

/*
 * The spec's ensemble could not be built: the best trial alone instead, as
 * the search's result stands.  The warning is printed only when that model
 * can be built, since it promises it (with no successful trial, the one
 * error says so).
 */
static int export_fall_back(const cli_model_job *j, aml_model **m, aml_build_report *r,
                            aml_build_request *q)
{
    aml_spec_ensemble none = j->spec->ensemble;
    int method = q->ens->method, rc;
    char *why = aml_strdup(aml_error_message());

    if (!why)
        return AML_ENOMEM;
    aml_build_report_dispose(r);
    none.method = AML_ENSEMBLE_NONE;
    q->ens = &none;
    rc = aml_build_model(m, r, q);
    q->ens = &j->spec->ensemble;
    if (rc == 0)
        cli_error("%s%swarning: no %s ensemble (%s); using the best trial alone",
                  j->cmd ? j->cmd : "", j->cmd ? ": " : "", export_methods[method], why);
    free(why);
    return rc;
}

int cli_build_and_write(const cli_model_job *j)
{
    aml_build_request q = export_request(j, &j->spec->ensemble);
    aml_build_report r;
    aml_model *m = NULL;
    int rc;

    /* The refits get every thread through the learners' own (deterministic)
     * parallelism; BLAS stays on one thread (cli/main.c). */
    rc = aml_build_model(&m, &r, &q);
    if (rc < 0 && j->trial < 0 && q.ens->method != AML_ENSEMBLE_NONE)
        rc = export_fall_back(j, &m, &r, &q);
    if (rc == 0) {
        export_print(j, &r);
        if (j->save_row)
            rc = export_save_row(j, &r);
    }
    if (rc == 0 && j->out)
        rc = export_write(j, m, &r);
    else if (rc == 0) /* run without `output:` (export always has --out) */
        printf("model: not written (the spec names no output file)\n");
    aml_model_free(m);
    aml_build_report_dispose(&r);
    return rc < 0 ? cli_fail_in(j->cmd, rc) : CLI_EXIT_OK;
}

/* ---- automl export ------------------------------------------------------- */

typedef struct export_args {
    const char *db, *study, *out;
    long trial, size; /* size: --size, 0 when not given */
    int ensemble, format_c;
    int method; /* --method as an aml_ensemble_method, -1 when not given */
} export_args;

#define EXPORT_USAGE                                                                     \
    "usage: automl export DB [--study S] [--trial N | --ensemble [--method M] "          \
    "[--size N]] --out FILE [--format model|c]"

static int export_parse_method(export_args *a, const char *v)
{
    for (int i = 0; export_methods[i]; i++)
        if (strcmp(v, export_methods[i]) == 0) {
            a->method = i;
            return 0;
        }
    cli_error("export: unknown --method '%s' (selection, stacking, voting or none)", v);
    return -1;
}

static int export_parse_format(export_args *a, const char *v)
{
    if (strcmp(v, "c") == 0 || strcmp(v, "model") == 0) {
        a->format_c = strcmp(v, "c") == 0;
        return 0;
    }
    cli_error("export: unknown --format '%s' (model or c)", v);
    return -1;
}

static int export_parse_size(export_args *a, const cli_args *c, const char *v)
{
    if (a->size > 0) {
        cli_error("export: --size given twice");
        return -1;
    }
    return cli_parse_count(c, "--size", v, 1000, &a->size); /* it says why */
}

/* One option of argv[c->i]: 1 taken, 0 not an option of export, -1 said why. */
static int export_option(export_args *a, cli_args *c)
{
    const char *v = NULL;
    int rc;

    if (cli_opt(c, "--ensemble", NULL))
        return a->ensemble = 1;
    if (cli_opt(c, "--study", &v))
        rc = (a->study = v) ? 0 : -1;
    else if (cli_opt(c, "--out", &v))
        rc = (a->out = v) ? 0 : -1;
    else if (cli_opt(c, "--trial", &v))
        rc = cli_parse_long(c, "--trial", v, &a->trial);
    else if (cli_opt(c, "--format", &v))
        rc = v ? export_parse_format(a, v) : -1;
    else if (cli_opt(c, "--method", &v))
        rc = v ? export_parse_method(a, v) : -1;
    else if (cli_opt(c, "--size", &v))
        rc = v ? export_parse_size(a, c, v) : -1;
    else
        return 0;
    return rc < 0 ? -1 : 1; /* a missing value: cli_opt said so */
}

static int export_parse(int argc, char **argv, export_args *a)
{
    cli_args c = {argc, argv, 0, "export"};
    int rc;

    memset(a, 0, sizeof(*a));
    a->trial = -1;
    a->method = -1;
    for (c.i = 0; c.i < argc; c.i++) {
        if ((rc = export_option(a, &c)) < 0)
            return -1;
        if (rc > 0)
            continue;
        if (argv[c.i][0] != '-' && !a->db) {
            a->db = argv[c.i];
        } else {
            cli_error("export: unexpected argument '%s' (" EXPORT_USAGE ")", argv[c.i]);
            return -1;
        }
    }
    if (!a->db || !a->out) {
        cli_error("export: %s (" EXPORT_USAGE ")",
                  !a->db ? "which store?" : "--out is required");
        return -1;
    }
    if (a->ensemble && a->trial >= 0) {
        cli_error("export: --trial and --ensemble exclude each other");
        return -1;
    }
    if (a->trial >= 0 && (a->method >= 0 || a->size > 0)) {
        cli_error("export: --method and --size apply to the ensemble, not to --trial");
        return -1;
    }
    if (a->method == AML_ENSEMBLE_NONE && a->size > 0) {
        cli_error(
            "export: --size does not apply to --method none (the best trial alone)");
        return -1;
    }
    return 0;
}

/* What the study remembers of the run that made it. */
typedef struct export_study {
    char *spec_path, *spec_text, *hash;
} export_study;

static int export_study_row(const aml_study_row *row, void *payload)
{
    export_study *e = payload;

    if (!row->spec_path || !row->spec_text)
        return aml_error_set(
            AML_EINVAL,
            "study '%s' was written by an older automl that did not keep "
            "its spec's path; run it again to export it",
            row->name);
    e->spec_path = strdup(row->spec_path);
    e->spec_text = strdup(row->spec_text);
    e->hash = row->spec_hash ? strdup(row->spec_hash) : NULL;
    return e->spec_path && e->spec_text ? 0 : AML_ENOMEM;
}

static void export_study_dispose(export_study *e)
{
    free(e->spec_path);
    free(e->spec_text);
    free(e->hash);
}

/* The canonical search must still be the stored one: same data bytes, same space. */
static int export_check_same(const export_study *e, const aml_spec *spec,
                             const aml_dataset *d, const aml_metric *m)
{
    char *canonical = NULL, hash[17];
    int rc;

    if ((rc = cli_study_canonical(spec, d, m, &canonical, hash)) < 0)
        return rc;
    free(canonical);
    if (e->hash && strcmp(e->hash, hash) != 0)
        return aml_error_set(
            AML_EINVAL,
            "%s: the training data or the search changed since the study "
            "ran; run it again before exporting",
            spec->path);
    return AML_OK;
}

typedef struct export_ctx {
    export_args a;
    export_study st;
    aml_store *store;
    long long study_id;
    aml_spec *spec;
    aml_dataset *data;
    const aml_metric *metric;
} export_ctx;

/* The directory the output goes to must exist and be a directory. */
static int export_check_dir(const char *out)
{
    char *dir = strdup(out), *slash;
    struct stat st;
    int rc = AML_OK;

    if (!dir)
        return aml_error_set(AML_ENOMEM, "out of memory");
    slash = strrchr(dir, '/');
    if (slash) {
        *(slash == dir ? slash + 1 : slash) = '\0';
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            rc = aml_error_set(AML_EINVAL, "--out %s: directory %s does not exist", out,
                               dir);
    }
    free(dir);
    return rc;
}

/*
 * The output must not replace the store, the spec or the training data, and
 * its directory must exist (checked before any refit, which may take long).
 */
static int export_check_out(const export_ctx *x)
{
    const char *keep[] = {x->a.db, x->st.spec_path, x->spec->train};
    char *out = realpath(x->a.out, NULL);
    int rc = AML_OK;

    for (size_t i = 0; out && rc == 0 && i < sizeof(keep) / sizeof(keep[0]); i++) {
        char *other = realpath(keep[i], NULL);

        if (other && strcmp(out, other) == 0)
            rc = aml_error_set(AML_EINVAL, "--out %s would overwrite %s", x->a.out,
                               i == 0   ? "the store"
                               : i == 1 ? "the spec"
                                        : "the training data");
        free(other);
    }
    free(out);
    if (rc == 0)
        rc = export_check_dir(x->a.out);
    return rc == 0 ? cli_check_out(x->a.out) : rc;
}

static int export_load(export_ctx *x)
{
    const char *metrics[32], *strategies[16];
    aml_spec_vocab vocab;
    int rc;

    cli_spec_vocab(&vocab, metrics, 32, strategies, 16);
    if ((rc = aml_store_open(&x->store, x->a.db, 1)) < 0 ||
        (rc = aml_store_study_find(x->store, &x->study_id, x->a.study)) < 0 ||
        (rc = aml_store_study_read(x->store, x->study_id, export_study_row, &x->st)) <
            0 ||
        (rc = aml_spec_load_text(&x->spec, x->st.spec_path, x->st.spec_text, &vocab)) <
            0 ||
        (rc = aml_dataset_load(&x->data, x->spec)) < 0)
        return rc;
    if ((rc = cli_check_task(x->spec, x->spec->space, x->data, &x->metric)) < 0 ||
        (rc = export_check_same(&x->st, x->spec, x->data, x->metric)) < 0)
        return rc;
    return export_check_out(x);
}

int cli_export(int argc, char **argv)
{
    export_ctx x = {0};
    cli_model_job j = {0};
    int rc, code;

    if (export_parse(argc, argv, &x.a) < 0)
        return CLI_EXIT_INPUT;
    if ((rc = export_load(&x)) != 0) {
        code = cli_fail_in("export", rc);
        goto out;
    }
    /* The ensemble asked for now, in place of the spec's (the trials stay). */
    if (x.a.method >= 0)
        x.spec->ensemble.method = (aml_ensemble_method)x.a.method;
    if (x.a.size > 0)
        x.spec->ensemble.size = (int)x.a.size;
    j.spec = x.spec;
    j.data = x.data;
    j.space = x.spec->space;
    j.metric = x.metric;
    j.store = x.store;
    j.study_id = x.study_id;
    j.trial = x.a.trial;
    j.out = x.a.out;
    j.format_c = x.a.format_c;
    j.threads = cli_threads(x.spec->parallel);
    j.cmd = "export";
    code = cli_build_and_write(&j);
out:
    aml_dataset_free(x.data);
    aml_spec_free(x.spec);
    aml_store_free(x.store);
    export_study_dispose(&x.st);
    return code;
}
