/*
 * model_csv.c - how a model reads new files, for C export (model.h:
 * aml_model_csv_options).  Apart from model.c so that the export's one
 * need of the model's fields does not touch the model's own file; the
 * options are the ones aml_model_read_csv passes to the reader.
 */
#include "model_internal.h"

void aml_model_csv_options(const aml_model *m, aml_csv_options *opt)
{
    static const char *const no_tokens[1] = {NULL};

    opt->decimal = m->decimal == ',' ? ',' : '.';
    opt->col_missing = m->colmiss;
    opt->n_col_missing = m->n_colmiss;
    opt->missing = NULL;
    opt->n_missing = 0;
    if (m->has_missing) {
        opt->missing = m->n_missing ? (const char *const *)m->missing : no_tokens;
        opt->n_missing = m->n_missing;
    }
}
