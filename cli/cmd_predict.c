/*
 * cmd_predict.c - `automl predict MODEL DATA.csv [--out FILE] [--proba]`.
 *
 * Writes one CSV row per input row: the predicted label (or value) under
 * the target's name, and with --proba one probability column per class.
 * A label with a comma, a quote or a line break is quoted by libcsv's
 * writer, so it stays one field.  With --out the file appears only when complete (a
 * temporary file renamed into place).  Columns the model does not use
 * (the target among them) are read past and named in one note on stderr;
 * a column the model needs and the file lacks is an error naming it.
 * Rows come out in input order, one per input row.
 */
#include "cli.h"
#include "outfile.h"
#include "model.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct predict_args {
    const char *model, *data, *out;
    int proba;
} predict_args;

/* True when both paths name one existing file. */
static int predict_same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static int predict_parse(predict_args *p, int argc, char **argv)
{
    cli_args a = {argc, argv, 0, "predict"};
    const char **const pos[] = {&p->model, &p->data};
    const char *v;

    memset(p, 0, sizeof(*p));
    for (a.i = 0; a.i < argc; a.i++) {
        if (cli_opt(&a, "--out", &v)) {
            if (!v)
                return -1;
            p->out = v;
        } else if (cli_opt(&a, "--proba", NULL)) {
            p->proba = 1;
        } else if (cli_positional(&a, "predict", pos, 2) < 0) {
            return -1;
        }
    }
    if (!p->model || !p->data) {
        cli_error("predict: usage: automl predict MODEL DATA.csv [--out FILE] [--proba]");
        return -1;
    }
    if (p->out &&
        (predict_same_file(p->out, p->data) || predict_same_file(p->out, p->model))) {
        cli_error("predict: --out %s would overwrite the %s it reads", p->out,
                  predict_same_file(p->out, p->data) ? "data" : "model");
        return -1;
    }
    if (p->out && cli_check_out(p->out) < 0) {
        cli_fail_in("predict", AML_EINVAL);
        return -1;
    }
    return 0;
}

/*
 * A prediction that is not a finite number (inputs far outside anything
 * seen in training, such as 1e300, can overflow a model's arithmetic) is a
 * bad-input error naming its line, not a "nan" written as if it were an
 * answer.
 */
static int predict_check_finite(const aml_frame *f, const char *path, const double *pred,
                                size_t count, size_t outs)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(pred[i]))
            return aml_error_set(AML_EINVAL,
                                 "%s:%zu: the model's prediction for this row is %s "
                                 "(are its inputs far outside the training data?)",
                                 path, aml_frame_line(f, i / outs),
                                 isnan(pred[i]) ? "not a number" : "infinite");
    return AML_OK;
}

/* Quotes (through libcsv) only the fields that need it, as most CSV writers do. */
static void predict_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") || s[0] == ' ' || s[0] == '\0')
        csv_fwrite(f, s, strlen(s));
    else
        fputs(s, f);
}

static void predict_header(FILE *f, const aml_model *m, int proba)
{
    char name[1024];
    int k;

    predict_field(f, aml_model_target(m));
    for (k = 0; proba && k < aml_model_n_classes(m); k++) {
        snprintf(name, sizeof(name), "proba_%s", aml_model_class(m, k));
        fputc(',', f);
        predict_field(f, name);
    }
    fputc('\n', f);
}

/* One stderr line naming the input columns the model does not use. */
static void predict_note_skipped(const aml_frame *f, const aml_model *m)
{
    size_t i, n = aml_frame_n_skipped(f);

    if (n == 0)
        return;
    fprintf(stderr, "note: ignoring %zu column%s the model does not use:", n,
            n == 1 ? "" : "s");
    for (i = 0; i < n; i++)
        fprintf(stderr, "%s '%s'%s", i ? "," : "", aml_frame_skipped(f, i),
                strcmp(aml_frame_skipped(f, i), aml_model_target(m)) == 0
                    ? " (the target)"
                    : "");
    fputc('\n', stderr);
}

static int predict_argmax(const double *p, int k)
{
    int j, best = 0;

    for (j = 1; j < k; j++)
        if (p[j] > p[best])
            best = j;
    return best;
}

static void predict_rows(FILE *f, const aml_model *m, const double *pred, size_t n,
                         int proba)
{
    int k = aml_model_outputs(m), j;
    size_t i;

    for (i = 0; i < n; i++) {
        const double *p = pred + i * (size_t)k;

        if (aml_model_task(m) == AML_TASK_REGRESSION) {
            fprintf(f, "%.15g\n", p[0]);
            continue;
        }
        predict_field(f, aml_model_class(m, predict_argmax(p, k)));
        for (j = 0; proba && j < k; j++)
            fprintf(f, ",%.10g", p[j]);
        fputc('\n', f);
    }
}

/* Writes the predictions to path (atomically) or stdout. */
static int predict_write(const predict_args *a, const aml_model *m, const double *pred,
                         size_t n)
{
    aml_outfile o = {0};
    FILE *f = stdout;
    int rc;

    if (a->out) {
        if ((rc = aml_outfile_open(&o, a->out)) < 0)
            return cli_fail(rc);
        f = o.f;
    }
    predict_header(f, m, a->proba);
    predict_rows(f, m, pred, n, a->proba);
    if (!a->out)
        return CLI_EXIT_OK; /* stdout is checked at exit (cli/main.c) */
    if ((rc = aml_outfile_commit(&o, 0)) < 0)
        return cli_fail(rc);
    return CLI_EXIT_OK;
}

int cli_predict(int argc, char **argv)
{
    predict_args a;
    aml_model *m = NULL;
    aml_frame *f = NULL;
    double *pred = NULL;
    size_t n;
    int rc, code;

    if (predict_parse(&a, argc, argv) < 0)
        return CLI_EXIT_INPUT;
    if ((rc = aml_model_load(&m, a.model)) < 0)
        return cli_fail(rc);
    if (a.proba && aml_model_task(m) == AML_TASK_REGRESSION) {
        cli_error("predict: --proba needs a classification model; %s predicts numbers",
                  a.model);
        aml_model_free(m);
        return CLI_EXIT_INPUT;
    }
    if ((rc = aml_model_read_csv(&f, m, a.data)) < 0)
        goto fail;
    predict_note_skipped(f, m);
    n = aml_frame_rows(f);
    if (!(pred = aml_mallocarray(n * (size_t)aml_model_outputs(m), sizeof(double)))) {
        rc = AML_ENOMEM;
        goto fail;
    }
    if ((rc = aml_model_predict(m, f, pred)) < 0 ||
        (rc = predict_check_finite(f, a.data, pred, n * (size_t)aml_model_outputs(m),
                                   (size_t)aml_model_outputs(m))) < 0)
        goto fail;
    code = predict_write(&a, m, pred, n);
    if (code == CLI_EXIT_OK && a.out)
        fprintf(stderr, "wrote %zu predictions to %s\n", n, a.out);
    goto out;
fail:
    code = cli_fail(rc);
out:
    free(pred);
    aml_frame_free(f);
    aml_model_free(m);
    return code;
}
