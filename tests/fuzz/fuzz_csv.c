/*
 * fuzz_csv.c - libFuzzer target for the CSV reader (learners/frame.c).
 *
 * The input is a CSV file; its first byte (when present) picks the
 * options, so one corpus covers delimiter sniffing, decimal commas,
 * per-column missing tokens and forced column types.  Any return code is
 * fine: the reader must only never crash, leak or read out of bounds
 * (AddressSanitizer watches), and a frame it returns must be consistent.
 * Built by tests/fuzz/CMakeLists.txt when AML_FUZZ is on; run by run.sh.
 */
#define _GNU_SOURCE /* fmemopen */
#include "aml.h"
#include "frame.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const tokens[] = {"", "NA", "inf", "nan"};
static const char *const names[] = {"a", "b", "y", "x"};
static const aml_csv_colmissing per_column[] = {{"a", tokens + 2, 2}, {"x", tokens, 1}};

static void options_from(uint8_t b, aml_csv_options *o)
{
    static const char delims[] = {0, ',', ';', '\t', '|'};

    memset(o, 0, sizeof(*o));
    o->delimiter = delims[b % 5];
    o->decimal = (b & 0x08) ? ',' : '.';
    if (o->decimal == ',' && o->delimiter == ',')
        o->delimiter = ';';
    if (b & 0x10) {
        o->missing = tokens;
        o->n_missing = 4;
    }
    if (b & 0x20) {
        o->col_missing = per_column;
        o->n_col_missing = 2;
    }
    if (b & 0x40) {
        o->categorical = names;
        o->n_categorical = 2;
        o->numeric = names + 2;
        o->n_numeric = 2;
    }
    if (b & 0x80) {
        o->only = names + 1;
        o->n_only = 2;
    }
}

/* Every cell of a returned frame is readable and every code is in range. */
static void check_frame(const aml_frame *f)
{
    size_t i, j;

    for (j = 0; j < aml_frame_cols(f); j++) {
        if (aml_frame_type(f, j) == AML_COL_NUMERIC)
            continue;
        for (i = 0; i < aml_frame_rows(f); i++)
            assert(aml_frame_codes(f, j)[i] < (int32_t)aml_frame_n_levels(f, j));
    }
    for (i = 0; i < aml_frame_rows(f); i++)
        assert(aml_frame_line(f, i) >= 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char empty[1];
    aml_csv_options opt;
    aml_frame *f = NULL;
    FILE *fp;

    if (size == 0)
        return 0;
    options_from(data[0], &opt);
    /* fmemopen refuses size 0: an empty file is one byte, read away. */
    fp = size > 1 ? fmemopen((void *)(data + 1), size - 1, "rb")
                  : fmemopen(empty, 1, "rb");
    if (!fp)
        return 0;
    if (size == 1)
        fgetc(fp);
    if (aml_frame_read_stream(&f, fp, "fuzz.csv", &opt) == 0)
        check_frame(f);
    aml_frame_free(f);
    fclose(fp);
    return 0;
}
