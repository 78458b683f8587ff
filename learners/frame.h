/*
 * frame.h - a table read from CSV, stored by column.
 *
 * A column is numeric (doubles, NaN where missing) or categorical (int32
 * codes into a sorted list of level strings, -1 where missing).  Columnar
 * storage keeps a numeric column to 8 bytes a cell and lets preprocessing
 * walk one feature at a time.  The reader uses libcsv for RFC 4180 quoting.
 *
 * Type inference: a column is numeric when every non-missing cell parses
 * completely as a C-locale number, else categorical.  The caller can force
 * columns either way by name (predict time forces the training schema).
 * A column of numbers that also holds "inf", "nan" or "Infinity" (any
 * case, any sign) is an error naming the cell, unless that word is one of
 * the column's missing tokens: such words are how spreadsheets and pandas
 * spell a failed computation, and silently reading the column as text
 * would lose every number in it.  So is a number beyond a double ("1e999").
 *
 * Delimiter: when the options give none, the first lines of the file are
 * sniffed for ',', ';', TAB and '|' (see frame.c).  Decimal commas
 * ("3,5") are read when opt->decimal is ','.
 *
 * Errors name the file, line and column: "data.csv:12:3: message".
 */
#ifndef AML_FRAME_H
#define AML_FRAME_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

typedef enum aml_coltype {
    AML_COL_NUMERIC = 0,
    AML_COL_CATEGORICAL = 1,
} aml_coltype;

typedef struct aml_frame aml_frame;

/* The missing tokens of one column, replacing the file-wide list for it. */
typedef struct aml_csv_colmissing {
    const char *name;
    const char *const *tokens;
    size_t n_tokens;
} aml_csv_colmissing;

typedef struct aml_csv_options {
    /* Tokens read as missing (compared after trimming spaces); NULL means
     * the defaults "", "NA" and "?". */
    const char *const *missing;
    size_t n_missing;
    /* Per-column token lists (by header name); unknown names are ignored. */
    const aml_csv_colmissing *col_missing;
    size_t n_col_missing;
    /* Columns forced categorical / numeric by header name; unknown names are ignored. */
    const char *const *categorical;
    size_t n_categorical;
    const char *const *numeric;
    size_t n_numeric;
    /* When set, only these columns are kept; the names of the others are
     * listed by aml_frame_skipped (predict time reads the model's inputs). */
    const char *const *only;
    size_t n_only;
    char delimiter; /* 0: detect among , ; TAB | */
    char decimal;   /* 0 or '.': "3.5"; ',': "3,5" */
} aml_csv_options;

/*
 * Reads `path` (header row first).  opt may be NULL for defaults.  On
 * success *out is a new frame the caller frees with aml_frame_free().
 * Errors: AML_EIO (cannot open), AML_EFORMAT (empty file, ragged row,
 * duplicate header, a forced-numeric cell that is not a number).
 */
int aml_frame_read_csv(aml_frame **out, const char *path, const aml_csv_options *opt);
/* The same from an open stream; `name` stands for the file in messages. */
int aml_frame_read_stream(aml_frame **out, FILE *fp, const char *name,
                          const aml_csv_options *opt);
/*
 * The delimiter a CSV text most likely uses, from its first lines (buf
 * holds the start of the file): ',' when nothing else is clear.  With
 * decimal ',' never ',': ';' for a header of one column, 0 when the header
 * is separated by ',' only (no delimiter fits; the reader fails).
 */
char aml_csv_sniff(const char *buf, size_t len, char decimal);
void aml_frame_free(aml_frame *f);

size_t aml_frame_rows(const aml_frame *f);
size_t aml_frame_cols(const aml_frame *f);
const char *aml_frame_path(const aml_frame *f);
const char *aml_frame_name(const aml_frame *f, size_t col);
aml_coltype aml_frame_type(const aml_frame *f, size_t col);
/* Index of the column with this header name, or -1. */
long aml_frame_find(const aml_frame *f, const char *name);
/* The 1-based line of the file where data row `row` starts (for messages). */
size_t aml_frame_line(const aml_frame *f, size_t row);

/* Numeric column values, NaN where missing.  Borrowed from the frame. */
const double *aml_frame_real(const aml_frame *f, size_t col);
/* Categorical codes, -1 where missing.  Borrowed from the frame. */
const int32_t *aml_frame_codes(const aml_frame *f, size_t col);
size_t aml_frame_n_levels(const aml_frame *f, size_t col);
/* Levels are sorted by strcmp; borrowed from the frame. */
const char *aml_frame_level(const aml_frame *f, size_t col, size_t level);

/* Columns of the file left out by opt->only, by name, in file order. */
size_t aml_frame_n_skipped(const aml_frame *f);
const char *aml_frame_skipped(const aml_frame *f, size_t i);

/* Removes a column; indices of later columns shift down by one. */
int aml_frame_drop(aml_frame *f, size_t col);
/* Keeps only the rows where keep[row] != 0, in order (line numbers follow). */
int aml_frame_filter_rows(aml_frame *f, const unsigned char *keep);
/*
 * Rearranges the cells of one column: row i takes the value row perm[i]
 * had (perm: a permutation of 0..rows-1).  Permutation importance shuffles
 * a column this way and restores it with the inverse permutation.
 */
int aml_frame_permute_column(aml_frame *f, size_t col, const size_t *perm);

#endif
