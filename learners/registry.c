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
extern const aml_learner_type aml_learner_random_forest, aml_learner_extra_trees;
extern const aml_learner_type aml_learner_adaboost;
extern const aml_learner_type aml_learner_svm;
extern const aml_learner_type aml_learner_naive_bayes;
extern const aml_learner_type aml_learner_mlp;
extern const aml_learner_type aml_learner_gradient_boosting;
extern const aml_learner_type aml_learner_lasso, aml_learner_elastic_net,
    aml_learner_linear_svm;
extern const aml_learner_type aml_learner_bagging;
extern const aml_learner_type aml_learner_boosting;

const aml_learner_type *const aml_learner_types[] = {
    &aml_learner_logistic_regression,
    &aml_learner_ridge,
    &aml_learner_knn,
    &aml_learner_decision_tree,
    &aml_learner_random_forest,
    &aml_learner_extra_trees,
    &aml_learner_adaboost,
    &aml_learner_svm,
    &aml_learner_naive_bayes,
    &aml_learner_mlp,
    &aml_learner_gradient_boosting,
    &aml_learner_lasso,
    &aml_learner_elastic_net,
    &aml_learner_linear_svm,
    &aml_learner_bagging,
    &aml_learner_boosting,
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
