/*
 * value.h - a hyperparameter value and a named parameter.
 *
 * These are the words the search space, the strategies and the learners
 * exchange: a strategy proposes a list of aml_param, the runner hands each
 * one to the learner's set_param by name.  Strings inside values are
 * borrowed from whoever built the value (the search space or a learner's
 * parameter table) and must outlive it.
 */
#ifndef AML_VALUE_H
#define AML_VALUE_H

typedef enum aml_vkind {
    AML_VAL_REAL = 0, /* a floating-point number */
    AML_VAL_INT = 1,  /* an integer (stored exactly in a long long) */
    AML_VAL_STR = 2,  /* a word from a fixed set of choices */
} aml_vkind;

typedef struct aml_value {
    aml_vkind kind;
    double real;     /* AML_VAL_REAL */
    long long i;     /* AML_VAL_INT */
    const char *str; /* AML_VAL_STR, borrowed */
} aml_value;

typedef struct aml_param {
    const char *name; /* borrowed */
    aml_value value;
} aml_param;

/* The value as a double: reals as is, integers converted, strings NaN. */
double aml_value_as_real(const aml_value *v);

#endif
