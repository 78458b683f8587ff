/*
 * export_c.c - a fitted model as one dependency-free C source file (see
 * export_c.h).
 *
 * The file holds, in order: a comment documenting the model and the
 * prediction function; the schema (input names and types, class labels,
 * each input's missing-value tokens, the decimal mark); the field parser
 * (export_c_main.inc: frame.c's rules); for every pipeline of every member
 * its preprocessing (aml_prep_emit_c) and its learner (the learner's
 * emit_c slot); the stack's parts when there is one; the combination,
 * written as aml_model_predict computes it; automl_predict; and under
 * AUTOML_MAIN the CSV program.
 *
 * Exactness.  The prediction is built from the same operations in the same
 * order as the library's: fold pipelines are summed in order and divided
 * by their count, members are weighted and divided by the weight sum
 * computed here exactly as aml_ensemble_average computes it, a stack's
 * layer-1 outputs are averaged in learner order.  So the output is the
 * library's to the last bit wherever every learner's emit_c is (trees,
 * forests, boosting, kNN, naive Bayes), and within rounding (about 1e-14
 * relative; the tests allow 1e-12) where a learner's predict sums through
 * BLAS (linear models, SVMs, MLP, and stacks over them): the program's
 * printed values may then differ from automl predict's in the last digit.
 *
 * Strings of the model (names, labels, tokens) are written as escaped C
 * literals, and into comments only after "*" "/" and line breaks are
 * made harmless, so no column name can break the file.
 */
#include "export_c.h"
#include "aml.h"
#include "cgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_c_main.inc"

/* A pipeline's function names: NAME_prep and NAME. */
#define EXPORT_NAME 64

static const char *const export_default_missing[] = {"", "NA", "?"};

/* Writes s into a comment: no comment end, no line break. */
static void export_comment_text(aml_cgen *g, const char *s)
{
    for (; *s; s++) {
        if (*s == '*' && s[1] == '/')
            aml_cgen_printf(g, "* ");
        else if (*s == '\n' || *s == '\r')
            aml_cgen_printf(g, " ");
        else
            aml_cgen_printf(g, "%c", *s);
    }
}

/* The model's input schema: the first member's first pipeline's inputs. */
static const aml_prep *export_schema(const aml_model *m)
{
    const aml_pipeline *p = aml_model_member_pipe(m, 0, 0);

    return p ? p->prep : NULL;
}

/* ---------------------------------------------------------------- header */

static void export_doc_members(const aml_model *m, aml_cgen *g)
{
    int i;

    for (i = 0; i < aml_model_n_members(m); i++) {
        aml_cgen_printf(g, " *   %d. trial %ld, %s (", i + 1,
                        aml_model_member_trial(m, i), aml_model_member_learner(m, i));
        export_comment_text(g, aml_model_member_params(m, i));
        aml_cgen_printf(g, "), CV score %.6g, weight %.6g, %d pipeline%s\n",
                        aml_model_member_score(m, i), aml_model_member_weight(m, i),
                        aml_model_member_n_pipes(m, i),
                        aml_model_member_n_pipes(m, i) == 1 ? ""
                                                            : "s (fold models averaged)");
    }
    if (aml_model_stack(m))
        aml_cgen_printf(
            g, " *   combined by a stack of %zu meta-learner(s), %d layer(s)%s\n",
            aml_stack_n_meta(aml_model_stack(m)), aml_stack_layers(aml_model_stack(m)),
            aml_stack_passthrough(aml_model_stack(m)) ? ", inputs passed through" : "");
    else if (aml_model_n_members(m) > 1)
        aml_cgen_printf(g, " *   combined by their weighted average\n");
}

static void export_doc_model(const aml_model *m, aml_cgen *g)
{
    int k;

    aml_cgen_printf(
        g,
        "/*\n * An automl model (ensemble method: %s) exported as C (automl %s)."
        "\n *\n * Task: %s.  Target: ",
        aml_model_method(m), AML_VERSION,
        aml_model_task(m) == AML_TASK_CLASSIFICATION ? "classification" : "regression");
    export_comment_text(g, aml_model_target(m));
    if (aml_model_task(m) == AML_TASK_CLASSIFICATION) {
        aml_cgen_printf(g, ".\n * Classes (the order of the outputs):");
        for (k = 0; k < aml_model_n_classes(m); k++) {
            aml_cgen_printf(g, "%s", k ? ", " : " ");
            export_comment_text(g, aml_model_class(m, k));
        }
    }
    aml_cgen_printf(g, ".\n * Metric: %s, cross-validated score %.6g.\n * Members:\n",
                    aml_model_metric(m), aml_model_score(m));
    export_doc_members(m, g);
}

static void export_doc_inputs(const aml_model *m, const aml_prep *s, aml_cgen *g)
{
    size_t i;

    aml_cgen_printf(g,
                    " *\n * Input columns, in the order of automl_predict's fields:\n");
    for (i = 0; i < aml_prep_n_inputs(s); i++) {
        aml_cgen_printf(g, " *   %3zu  ", i);
        export_comment_text(g, aml_prep_input_name(s, i));
        aml_cgen_printf(g, "  (%s)\n",
                        aml_prep_input_type(s, i) == AML_COL_NUMERIC ? "numeric"
                                                                     : "categorical");
    }
    aml_cgen_printf(
        g,
        " * Numbers use the decimal mark '%c'; the missing-value tokens of each\n"
        " * column are in automl_miss (trimmed of spaces and tabs).\n",
        aml_model_decimal(m));
}

static const char export_doc_api[] =
    " *\n"
    " * int automl_predict(const char *const *fields, double *out);\n"
    " *   fields: automl_n_inputs strings, one per input column above, in that\n"
    " *   order, as a CSV reader gives them (quotes removed); NULL is missing.\n"
    " *   A numeric field must be a missing-value token or a finite number\n"
    " *   (digits, sign, decimal mark, exponent), read with strtod: keep the\n"
    " *   program in the \"C\" locale for LC_NUMERIC (the default).  A\n"
    " *   categorical field is matched to the training levels exactly; an\n"
    " *   unseen level is handled as automl does.\n"
    " *   out: automl_n_outputs values: the probability of each class, in the\n"
    " *   order of automl_class_labels, or the predicted value.\n"
    " *   Returns 0, or -1 when a numeric field is not a number.\n"
    " * The same outputs as `automl predict`: bit for bit where every learner\n"
    " * is exported bit for bit (trees, forests, AdaBoost, gradient boosting,\n"
    " * naive Bayes, and kNN except when two training rows are within rounding\n"
    " * of the same distance to a query: automl may order such a near tie by\n"
    " * its BLAS form of the distance).  Where a learner's predict sums through\n"
    " * BLAS (logistic regression, ridge, lasso, elastic net, linear and kernel\n"
    " * SVM, MLP, and ensembles or stacks holding one) the sums here run in\n"
    " * another order: outputs agree to about 1e-14 relative, so a printed\n"
    " * value (%.15g, probabilities %.10g) may differ in its last digit, and\n"
    " * a label only when two classes tie to that precision.\n"
    " *\n"
    " * Build: cc -O2 -c FILE.c (library), or as a program that reads a CSV\n"
    " * (header row; columns found by name) on stdin and writes what `automl\n"
    " * predict MODEL DATA.csv [--proba]` writes:\n"
    " *   cc -O2 -DAUTOML_MAIN -o predict FILE.c -lm && ./predict [--proba] < DATA.csv\n"
    " * (-DAUTOML_EXACT also prints every output with %.17g.)\n"
    " */\n"
    "#include <math.h>\n"
    "#include <stddef.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "\n";

/* ---------------------------------------------------------------- schema */

static int export_names(const aml_model *m, const aml_prep *s, aml_cgen *g)
{
    size_t i, n = aml_prep_n_inputs(s);
    int k, nc = aml_model_task(m) == AML_TASK_CLASSIFICATION ? aml_model_n_classes(m) : 0;

    aml_cgen_printf(g,
                    "#define AUTOML_N_INPUTS %zu\n#define AUTOML_N_OUTPUTS %d\n"
                    "#define AUTOML_N_CLASSES %d\n#define AUTOML_DECIMAL '%c'\n\n"
                    "int automl_predict(const char *const *fields, double *out);\n"
                    "const int automl_n_inputs = AUTOML_N_INPUTS;\n"
                    "const int automl_n_outputs = AUTOML_N_OUTPUTS;\n"
                    "const char *const automl_target = ",
                    n, aml_model_outputs(m), nc, aml_model_decimal(m));
    aml_cgen_string(g, aml_model_target(m));
    aml_cgen_printf(g, ";\n/* Class labels (classification), in output order. */\n"
                       "const char *const automl_class_labels[] = {");
    for (k = 0; k < nc; k++) {
        aml_cgen_string(g, aml_model_class(m, k));
        aml_cgen_printf(g, ", ");
    }
    aml_cgen_printf(g, "NULL};\nconst char *const automl_input_names[] = {");
    for (i = 0; i < n; i++) {
        aml_cgen_printf(g, "%s", i % 4 ? " " : "\n    ");
        aml_cgen_string(g, aml_prep_input_name(s, i));
        aml_cgen_printf(g, ",");
    }
    aml_cgen_printf(g, " NULL};\nstatic const int automl_input_numeric[] = {");
    for (i = 0; i < n; i++)
        aml_cgen_printf(g, "%s%d,", i % 16 ? " " : "\n    ",
                        aml_prep_input_type(s, i) == AML_COL_NUMERIC);
    return aml_cgen_printf(g, " 0};\n\n");
}

/* The tokens that mean "missing" in column `name`: its own list, else the file's. */
static void export_tokens_of(const aml_csv_options *o, const char *name,
                             const char *const **tokens, size_t *n)
{
    size_t i;

    *tokens = o->missing ? o->missing : export_default_missing;
    *n = o->missing ? o->n_missing : 3;
    for (i = 0; i < o->n_col_missing; i++)
        if (o->col_missing[i].name && strcmp(o->col_missing[i].name, name) == 0) {
            *tokens = o->col_missing[i].tokens;
            *n = o->col_missing[i].n_tokens;
            return;
        }
}

/* Every input's tokens in one array; input i's are automl_miss[at[i] .. at[i+1]). */
static int export_missing(const aml_model *m, const aml_prep *s, aml_cgen *g)
{
    size_t i, t, n = aml_prep_n_inputs(s), total = 0;
    int *at = aml_mallocarray(n + 1, sizeof(int));
    aml_csv_options o = {0};

    if (!at)
        return AML_ENOMEM;
    aml_model_csv_options(m, &o);
    aml_cgen_printf(g, "static const char *const automl_miss[] = {");
    for (i = 0; i < n; i++) {
        const char *const *tokens;
        size_t nt;

        export_tokens_of(&o, aml_prep_input_name(s, i), &tokens, &nt);
        at[i] = (int)total;
        for (t = 0; t < nt; t++, total++) {
            aml_cgen_printf(g, "%s", total % 6 ? " " : "\n    ");
            aml_cgen_string(g, tokens[t]);
            aml_cgen_printf(g, ",");
        }
    }
    at[n] = (int)total;
    aml_cgen_printf(g, " NULL};\n");
    aml_cgen_ints(g, "automl_miss_at", at, n + 1);
    free(at);
    return aml_cgen_printf(g, "\n");
}

/* ------------------------------------------------------------- pipelines */

/* col[i]: the model input that feeds input i of prep p, by name. */
static int export_columns(const aml_prep *schema, const aml_prep *p, size_t *col)
{
    size_t i, j;

    for (i = 0; i < aml_prep_n_inputs(p); i++) {
        for (j = 0; j < aml_prep_n_inputs(schema); j++)
            if (strcmp(aml_prep_input_name(p, i), aml_prep_input_name(schema, j)) == 0 &&
                aml_prep_input_type(p, i) == aml_prep_input_type(schema, j))
                break;
        if (j == aml_prep_n_inputs(schema))
            return aml_error_set(AML_EINVAL, "C export: input '%s' is not in the model",
                                 aml_prep_input_name(p, i));
        col[i] = j;
    }
    return AML_OK;
}

/* A preprocessing function NAME_prep reading the model's inputs. */
static int export_prep(const aml_prep *schema, const aml_prep *p, aml_cgen *g,
                       const char *name)
{
    size_t *col = aml_calloc(aml_prep_n_inputs(p) + 1, sizeof(size_t));
    char fn[EXPORT_NAME + 8];
    int rc;

    if (!col)
        return AML_ENOMEM;
    snprintf(fn, sizeof(fn), "%s_prep", name);
    if ((rc = export_columns(schema, p, col)) == AML_OK)
        rc = aml_prep_emit_c(p, g, fn, col);
    free(col);
    return rc;
}

/* Member i: its pipelines, then member_i(num, cat, out) averaging them in order. */
static int export_member(const aml_model *m, const aml_prep *schema, aml_cgen *g, int i)
{
    int j, n = aml_model_member_n_pipes(m, i), K = aml_model_outputs(m), rc;
    char name[EXPORT_NAME];
    size_t width = 1;

    for (j = 0; j < n; j++) {
        const aml_pipeline *p = aml_model_member_pipe(m, i, j);

        snprintf(name, sizeof(name), "member%d_%d", i, j);
        if ((rc = export_prep(schema, p->prep, g, name)) < 0 ||
            (rc = aml_learner_emit_c(p->learner, g, name)) < 0)
            return rc;
        if (aml_prep_width(p->prep) > width)
            width = aml_prep_width(p->prep);
    }
    aml_cgen_printf(g,
                    "static void member%d(const double *num, const char *const *cat, "
                    "double *out)\n{\n    double x[%zu], tmp[%d];\n    int c;\n\n"
                    "    (void)tmp, (void)c;\n"
                    "    member%d_0_prep(num, cat, x);\n    member%d_0(x, out);\n",
                    i, width, K, i, i);
    for (j = 1; j < n; j++)
        aml_cgen_printf(g,
                        "    member%d_%d_prep(num, cat, x);\n    member%d_%d(x, tmp);\n"
                        "    for (c = 0; c < %d; c++)\n        out[c] += tmp[c];\n",
                        i, j, i, j, K);
    if (n > 1)
        aml_cgen_printf(
            g, "    for (c = 0; c < %d; c++)\n        out[c] /= (double)%d;\n", K, n);
    return aml_cgen_printf(g, "}\n\n");
}

/* -------------------------------------------------------------- combining */

/* The members' weighted average, as aml_ensemble_average: zero weights skipped. */
static int export_average(const aml_model *m, aml_cgen *g)
{
    int i, n = aml_model_n_members(m), K = aml_model_outputs(m);
    double wsum = 0.0, *w = aml_mallocarray((size_t)n + 1, sizeof(double));
    if (!w)
        return AML_ENOMEM;
    for (i = 0; i < n; i++)
        wsum += (w[i] = aml_model_member_weight(m, i));
    aml_cgen_doubles(g, "automl_weight", w, (size_t)n);
    free(w);
    aml_cgen_doubles(g, "automl_wsum", &wsum, 1);
    aml_cgen_printf(
        g,
        "static void automl_combine(const double *num, const char *const *cat, "
        "double *out)\n{\n    double part[%d];\n"
        "    int c;\n\n    for (c = 0; c < %d; c++)\n        out[c] = 0;\n",
        K, K);
    for (i = 0; i < n; i++)
        if (aml_model_member_weight(m, i) != 0.0)
            aml_cgen_printf(
                g,
                "    member%d(num, cat, part);\n    for (c = 0; c < %d; c++)\n"
                "        out[c] += automl_weight[%d] * part[c];\n",
                i, K, i);
    return aml_cgen_printf(
        g, "    for (c = 0; c < %d; c++)\n        out[c] /= automl_wsum[0];\n}\n\n", K);
}

/* The stack's learners: layer-1 over Z (members' outputs) and passthrough inputs. */
static int export_stack_parts(const aml_stack *st, const aml_prep *schema, aml_cgen *g)
{
    char name[EXPORT_NAME];
    size_t i;
    int rc;

    if (aml_stack_passthrough(st) &&
        (rc = export_prep(schema, aml_stack_prep(st), g, "stack_pass")) < 0)
        return rc;
    for (i = 0; i < aml_stack_n_meta(st); i++) {
        snprintf(name, sizeof(name), "stack_meta%zu", i);
        if ((rc = aml_learner_emit_c(aml_stack_meta(st, i), g, name)) < 0)
            return rc;
    }
    if (aml_stack_layers(st) == 2)
        return aml_learner_emit_c(aml_stack_final(st), g, "stack_final");
    return AML_OK;
}

/* aml_stack_predict for one row: Z, layer 1, then the final learner or the mean. */
static int export_stack(const aml_model *m, const aml_prep *schema, aml_cgen *g)
{
    const aml_stack *st = aml_model_stack(m);
    size_t q = aml_stack_inputs(st), pw = 0, nm = aml_stack_n_meta(st), i;
    int K = aml_model_outputs(m), n = aml_model_n_members(m), j, rc;
    char buf[48];

    snprintf(buf, sizeof(buf), "sum / (double)%zu", nm);
    if ((rc = export_stack_parts(st, schema, g)) < 0)
        return rc;
    if (aml_stack_passthrough(st))
        pw = aml_prep_width(aml_stack_prep(st));
    aml_cgen_printf(
        g,
        "static void automl_combine(const double *num, const char *const *cat, "
        "double *out)\n{\n    double z[%zu], o[%zu];\n    int t;\n\n"
        "    (void)t;\n",
        q + pw + 1, nm * (size_t)K);
    for (j = 0; j < n; j++)
        aml_cgen_printf(g, "    member%d(num, cat, z + %d);\n", j, j * K);
    if (pw)
        aml_cgen_printf(g, "    stack_pass_prep(num, cat, z + %zu);\n", q);
    for (i = 0; i < nm; i++)
        aml_cgen_printf(g, "    stack_meta%zu(z, o + %zu);\n", i, i * (size_t)K);
    if (aml_stack_layers(st) == 2)
        return aml_cgen_printf(g, "    stack_final(o, out);\n}\n\n");
    return aml_cgen_printf(g,
                           "    for (t = 0; t < %d; t++) {\n        double sum = 0;\n"
                           "        size_t j;\n\n"
                           "        for (j = 0; j < %zu; j++)\n"
                           "            sum += o[j * %d + t];\n"
                           "        out[t] = %s;\n    }\n}\n\n",
                           K, nm, K, nm == 1 ? "sum" : buf);
}

static int export_combine(const aml_model *m, const aml_prep *schema, aml_cgen *g)
{
    if (aml_model_stack(m))
        return export_stack(m, schema, g);
    if (aml_model_n_members(m) == 1)
        /* One member predicts through its pipeline directly, as the model does. */
        return aml_cgen_printf(g, "#define automl_combine member0\n\n");
    return export_average(m, g);
}

/* ------------------------------------------------------------------ file */

/* A member of weight 0 in a weighted average adds nothing: it is left out. */
static int export_member_used(const aml_model *m, int i)
{
    return aml_model_stack(m) || aml_model_n_members(m) == 1 ||
           aml_model_member_weight(m, i) != 0.0;
}

static const char export_predict_fn[] =
    "int automl_predict(const char *const *fields, double *out)\n"
    "{\n"
    "    double num[AUTOML_N_INPUTS + 1];\n"
    "    const char *cat[AUTOML_N_INPUTS + 1];\n"
    "\n"
    "    if (automl_parse(fields, num, cat) < 0)\n"
    "        return -1;\n"
    "    automl_combine(num, cat, out);\n"
    "    return 0;\n"
    "}\n"
    "\n";

static int export_write(const aml_model *m, const aml_prep *schema, aml_cgen *g)
{
    int i, rc;

    export_doc_model(m, g);
    export_doc_inputs(m, schema, g);
    aml_cgen_printf(g, "%s", export_doc_api);
    if ((rc = export_names(m, schema, g)) < 0 || (rc = export_missing(m, schema, g)) < 0)
        return rc;
    aml_cgen_printf(g, "%s", export_c_parse);
    for (i = 0; i < aml_model_n_members(m); i++)
        if (export_member_used(m, i) && (rc = export_member(m, schema, g, i)) < 0)
            return rc;
    if ((rc = export_combine(m, schema, g)) < 0)
        return rc;
    aml_cgen_printf(g, "%s", export_predict_fn);
    return aml_cgen_printf(g, "%s", export_c_main);
}

int aml_model_export_c(const aml_model *m, const char *path)
{
    const aml_prep *schema = export_schema(m);
    aml_cgen *g = NULL;
    int rc;

    if (!schema)
        return aml_error_set(AML_EINVAL, "C export: the model has no members");
    if ((rc = aml_cgen_new(&g)) < 0)
        return rc;
    if ((rc = export_write(m, schema, g)) == AML_OK)
        rc = aml_cgen_save(g, path);
    aml_cgen_free(g);
    return rc;
}
