/*
 * model_job.h - building the model of a study and writing it, shared by
 * `automl run` (at the end of a search) and `automl export` (any time later).
 */
#ifndef AML_CLI_MODEL_JOB_H
#define AML_CLI_MODEL_JOB_H

#include "dataset.h"
#include "metric.h"
#include "spec.h"
#include "store.h"

typedef struct cli_model_job {
    const aml_spec *spec;
    const aml_dataset *data;
    const aml_space *space; /* the spec's, trimmed to the task (cli_check_task) */
    const aml_metric *metric;
    aml_store *store;
    long long study_id;
    long trial;      /* >= 0: that trial alone */
    const char *out; /* NULL: score and store the ensemble only */
    int format_c;    /* write C source instead of a model file */
    int threads;
    int save_row;    /* record the ensemble in the store */
    const char *cmd; /* names every error ("automl: CMD: ..."); NULL: run's bare ones */
} cli_model_job;

/* Runs the ensemble stage, prints what it built, writes it.  Returns 0 or a CLI exit
 * code. */
int cli_build_and_write(const cli_model_job *j);

/* cmd_run.c: the names the spec may use, and the checks that need the data. */
int cli_spec_vocab(aml_spec_vocab *v, const char **metrics, size_t n_metrics,
                   const char **strategies, size_t n_strategies);
int cli_check_task(const aml_spec *s, aml_space *space, const aml_dataset *d,
                   const aml_metric **metric);

#endif
