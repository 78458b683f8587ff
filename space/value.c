/*
 * value.c - helpers for aml_value.
 */
#include "value.h"

#include <math.h>

double aml_value_as_real(const aml_value *v)
{
    switch (v->kind) {
    case AML_VAL_REAL:
        return v->real;
    case AML_VAL_INT:
        return (double)v->i;
    case AML_VAL_STR:
        break;
    }
    return NAN;
}
