/*
 * study.h - what `automl run` checks before it continues a study: the
 * canonical text of the search and what changed in it.
 */
#ifndef AML_CLI_STUDY_H
#define AML_CLI_STUDY_H

#include <stddef.h>

#include "dataset.h"
#include "metric.h"
#include "spec.h"

/*
 * The canonical text of everything that decides which trials a study runs
 * and what they score: the training file's bytes (hashed), the target,
 * task, dropped columns and missing tokens, the CV plan, the metric, the
 * strategy and its seed, and every learner with its parameter domains.
 * One `key: value` line each, so two texts compare line by line.  Not in
 * it: the budget (raising it continues a study), `parallel` (scores do not
 * depend on it), paths of the store and the model, comments, layout.
 * *out is malloc'd; *hash is its FNV-1a 64 as 16 hex digits.
 */
int cli_study_canonical(const aml_spec *spec, const aml_dataset *d, const aml_metric *m,
                        char **out, char hash[17]);

/*
 * Describes how `now` differs from `before` (both canonical texts) in
 * `buf`: up to three changed, added or removed lines, "key: old -> new".
 * Returns the number of differing lines (0: same search).
 */
int cli_study_diff(const char *before, const char *now, char *buf, size_t len);

#endif
