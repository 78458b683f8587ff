/*
 * learner.c - the generic learner layer: argument checks and dispatch
 * through the type table, parameter validation against the type's
 * declared parameters, and the common header of a saved learner.
 */
#include "learner.h"
#include "aml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const aml_param_def *aml_learner_param_find(const aml_learner_type *type, const char *name)
{
    const aml_param_def *d;

    for (d = type->params; d && d->name; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

static const char *param_check_number(const aml_param_def *def, double x, char *buf,
                                      size_t buflen)
{
    if (isnan(x))
        snprintf(buf, buflen, "'%s' must be a number", def->name);
    else if (def->kind == AML_VAL_INT && x != floor(x))
        snprintf(buf, buflen, "'%s' must be an integer, not %g", def->name, x);
    else if (x < def->lo || (def->lo_open && x == def->lo))
        snprintf(buf, buflen, "'%s' must be %s %g, not %g", def->name,
                 def->lo_open ? ">" : ">=", def->lo, x);
    else if (x > def->hi)
        snprintf(buf, buflen, "'%s' must be <= %g, not %g", def->name, def->hi, x);
    else
        return NULL;
    return buf;
}

static const char *param_check_word(const aml_param_def *def, const char *s, char *buf,
                                    size_t buflen)
{
    const char *const *c;
    size_t used;

    for (c = def->choices; c && *c; c++)
        if (strcmp(*c, s) == 0)
            return NULL;
    used = (size_t)snprintf(buf, buflen, "'%s' must be one of", def->name);
    for (c = def->choices; c && *c && used < buflen; c++)
        used += (size_t)snprintf(buf + used, buflen - used, "%s %s",
                                 c == def->choices ? "" : ",", *c);
    if (used < buflen)
        snprintf(buf + used, buflen - used, ", not '%s'", s);
    return buf;
}

static const char *param_check_mixed(const aml_param_def *def, const aml_value *v,
                                     char *buf, size_t buflen)
{
    const char *const *c;
    size_t used;

    used = (size_t)snprintf(buf, buflen, "'%s' takes a number or one of", def->name);
    for (c = def->choices; *c && used < buflen; c++)
        used += (size_t)snprintf(buf + used, buflen - used, "%s %s",
                                 c == def->choices ? "" : ",", *c);
    if (used < buflen)
        snprintf(buf + used, buflen - used, ", not '%s'", v->str);
    return buf;
}

const char *aml_param_check(const aml_param_def *def, const aml_value *v, char *buf,
                            size_t buflen)
{
    if (def->check)
        return def->check(def, v, buf, buflen);
    if (def->kind == AML_VAL_STR) {
        if (v->kind != AML_VAL_STR) {
            snprintf(buf, buflen, "'%s' takes a word, not a number", def->name);
            return buf;
        }
        return param_check_word(def, v->str, buf, buflen);
    }
    if (v->kind == AML_VAL_STR && def->choices) /* a number, or one of these words */
        return param_check_word(def, v->str, buf, buflen) ? param_check_mixed(def, v, buf,
                                                                               buflen)
                                                          : NULL;
    if (v->kind == AML_VAL_STR) {
        snprintf(buf, buflen, "'%s' takes a number, not '%s'", def->name, v->str);
        return buf;
    }
    return param_check_number(def, aml_value_as_real(v), buf, buflen);
}

int aml_learner_new(aml_learner **out, const aml_learner_type *type, aml_task task)
{
    *out = NULL;
    if (!(type->tasks & AML_TASK_BIT(task)))
        return aml_error_set(AML_EINVAL, "learner '%s' does not support %s", type->name,
                             task == AML_TASK_CLASSIFICATION ? "classification"
                                                             : "regression");
    return type->create(out, type, task);
}

int aml_learner_set_param(aml_learner *l, const char *name, const aml_value *v)
{
    const aml_param_def *def = aml_learner_param_find(l->type, name);
    char buf[256];
    aml_value conv = *v;

    if (!def)
        return aml_error_set(AML_EINVAL, "learner '%s' has no parameter '%s'",
                             l->type->name, name);
    if (aml_param_check(def, v, buf, sizeof(buf)))
        return aml_error_set(AML_EINVAL, "%s: %s", l->type->name, buf);

    /* Hand the learner the kind it declared, so it never converts. */
    if (def->kind == AML_VAL_REAL && v->kind == AML_VAL_INT) {
        conv.kind = AML_VAL_REAL;
        conv.real = (double)v->i;
    } else if (def->kind == AML_VAL_INT && v->kind == AML_VAL_REAL) {
        conv.kind = AML_VAL_INT;
        conv.i = (long long)v->real;
    }
    return l->type->set_param(l, name, &conv);
}

int aml_learner_fit(aml_learner *l, const aml_matrix *X, const double *y, const double *w,
                    int n_classes, aml_rng *rng, int threads)
{
    if (X->rows == 0)
        return aml_error_set(AML_EINVAL, "cannot fit '%s' on zero rows", l->type->name);
    if (l->task == AML_TASK_CLASSIFICATION && n_classes < 2)
        return aml_error_set(AML_EINVAL, "classification needs at least two classes");
    return l->type->fit(l, X, y, w, n_classes, rng, threads > 0 ? threads : 1);
}

int aml_learner_predict(const aml_learner *l, const aml_matrix *X, double *out)
{
    if (X->cols != l->n_features)
        return aml_error_set(AML_EINVAL, "'%s' was fitted on %zu features, got %zu",
                             l->type->name, l->n_features, X->cols);
    return l->type->predict(l, X, out);
}

int aml_importance_linear(const aml_learner *l, const double *W, int k, size_t stride,
                          double *out)
{
    size_t j, p = l->n_features;
    double s = 0.0;
    int c;

    if (!W)
        return aml_error_set(AML_EINVAL, "%s: importance before fit", l->type->name);
    memset(out, 0, p * sizeof(double));
    for (c = 0; c < k; c++)
        for (j = 0; j < p; j++)
            out[j] += fabs(W[(size_t)c * stride + j]);
    for (j = 0; j < p; j++)
        s += out[j];
    for (j = 0; j < p && s > 0.0; j++)
        out[j] /= s;
    return AML_OK;
}

int aml_learner_importance(const aml_learner *l, double *out)
{
    if (!l->type->importance)
        return aml_error_set(AML_EINVAL, "learner '%s' has no feature importance",
                             l->type->name);
    return l->type->importance(l, out);
}

int aml_emit_c_linear(aml_cgen *g, const char *fn, const char *who, const double *coef,
                      size_t p, double intercept)
{
    char c[64], b[64];

    aml_cgen_name(g, "coef", c, sizeof(c));
    aml_cgen_name(g, "intercept", b, sizeof(b));
    aml_cgen_doubles(g, c, coef, p);
    aml_cgen_doubles(g, b, &intercept, 1);
    return aml_cgen_printf(g,
                           "/* %s over %zu features. */\n"
                           "static void %s(const double *x, double *out)\n{\n"
                           "    double s = 0.0;\n    size_t j;\n\n"
                           "    for (j = 0; j < %zu; j++)\n"
                           "        s += x[j] * %s[j];\n"
                           "    out[0] = s + %s[0];\n}\n\n",
                           who, p, fn, p, c, b);
}

int aml_learner_emit_c(const aml_learner *l, aml_cgen *g, const char *fn)
{
    if (!l->type->emit_c)
        return aml_error_set(AML_EINVAL, "learner '%s' cannot be exported to C",
                             l->type->name);
    return l->type->emit_c(l, g, fn);
}

int aml_learner_outputs(const aml_learner *l)
{
    return l->task == AML_TASK_CLASSIFICATION ? l->n_classes : 1;
}

int aml_learner_save(const aml_learner *l, aml_writer *w)
{
    aml_put_str(w, l->type->name);
    aml_put_u32(w, (uint32_t)l->task);
    aml_put_u32(w, (uint32_t)l->n_classes);
    aml_put_u64(w, (uint64_t)l->n_features);
    if (w->failed)
        return AML_ENOMEM;
    return l->type->save(l, w);
}

int aml_learner_load_with(aml_learner **out, const aml_learner_type *type, aml_task task,
                          aml_reader *r, int (*load_state)(aml_learner *l, aml_reader *r))
{
    aml_learner *l = NULL;
    int rc;

    *out = NULL;
    if ((rc = type->create(&l, type, task)) < 0)
        return rc;
    if ((rc = load_state(l, r)) < 0) {
        type->free(l);
        return rc;
    }
    *out = l;
    return AML_OK;
}

int aml_learner_load(aml_learner **out, aml_reader *r)
{
    char *name = NULL;
    const aml_learner_type *type;
    uint32_t task, n_classes;
    uint64_t n_features;
    int rc;

    *out = NULL;
    if ((rc = aml_get_str(r, &name)) < 0)
        return rc;
    type = name ? aml_learner_type_find(name) : NULL;
    if (!type) {
        rc = aml_error_set(AML_EFORMAT, "unknown learner '%s' in model", name ? name : "");
        free(name);
        return rc;
    }
    free(name);
    if ((rc = aml_get_u32(r, &task)) < 0 || (rc = aml_get_u32(r, &n_classes)) < 0 ||
        (rc = aml_get_u64(r, &n_features)) < 0)
        return rc;
    if (task > AML_TASK_REGRESSION || n_classes > 1u << 20 || n_features > 1u << 30)
        return aml_error_set(AML_EFORMAT, "corrupt learner header in model");
    if ((rc = type->load(out, type, (aml_task)task, r)) < 0)
        return rc;
    (*out)->task = (aml_task)task;
    (*out)->n_classes = (int)n_classes;
    (*out)->n_features = (size_t)n_features;
    return AML_OK;
}

void aml_learner_free(aml_learner *l)
{
    if (l)
        l->type->free(l);
}
