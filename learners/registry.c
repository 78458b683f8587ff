/*
 * registry.c - the list of built-in learner types.
 *
 * Adding a learner means writing its file and adding one line here; no
 * other code names individual learners.
 */
#include "learner.h"

#include <string.h>

extern const aml_learner_type aml_learner_logistic_regression;
extern const aml_learner_type aml_learner_ridge;
extern const aml_learner_type aml_learner_knn;
extern const aml_learner_type aml_learner_decision_tree;

const aml_learner_type *const aml_learner_types[] = {
    &aml_learner_logistic_regression,
    &aml_learner_ridge,
    &aml_learner_knn,
    &aml_learner_decision_tree,
    NULL,
};

const aml_learner_type *aml_learner_type_find(const char *name)
{
    size_t i;

    for (i = 0; aml_learner_types[i]; i++)
        if (strcmp(aml_learner_types[i]->name, name) == 0)
            return aml_learner_types[i];
    return NULL;
}
