/*
 * fuzz_spec.c - libFuzzer target for the YAML spec parser (space/spec.c).
 *
 * aml_spec_load reads a file, so each input is written to one temporary
 * file per process and loaded with the real vocabulary (every learner,
 * metric and strategy).  Any return code is fine; the parser must only
 * never crash, leak or read out of bounds.  data.train must name an
 * existing file for a spec to get past it: the corpus (run.sh) uses
 * /dev/null-free relative paths to files next to the temporary spec.
 */
#include "aml.h"
#include "learner.h"
#include "metric.h"
#include "search.h"
#include "spec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char spec_path[256];

static void vocab_init(aml_spec_vocab *v)
{
    static const char *metrics[32], *strategies[16];
    size_t i;

    for (i = 0; aml_metrics[i] && i < 31; i++)
        metrics[i] = aml_metrics[i]->name;
    for (i = 0; aml_search_types[i] && i < 15; i++)
        strategies[i] = aml_search_types[i]->name;
    v->learners = aml_learner_types;
    v->metrics = metrics;
    v->strategies = strategies;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aml_spec_vocab v;
    aml_spec *s = NULL;
    FILE *f;

    if (!spec_path[0]) {
        const char *dir = getenv("AML_FUZZ_DIR");

        snprintf(spec_path, sizeof(spec_path), "%s/fuzz_spec_%ld.yaml",
                 dir ? dir : "/tmp", (long)getpid());
    }
    if (!(f = fopen(spec_path, "wb")))
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    vocab_init(&v);
    if (aml_spec_load(&s, spec_path, &v) == 0)
        aml_spec_free(s);
    return 0;
}
