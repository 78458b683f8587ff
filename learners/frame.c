/*
 * frame.c - the CSV reader and the columnar frame (see frame.h).
 *
 * One pass over the file, then one over memory per column.  libcsv (RFC
 * 4180 quoting, CSV_STRICT off) splits the bytes into fields; each field
 * is appended to its column's text arena (one growing buffer of
 * NUL-terminated cells, no per-cell malloc or offset), and each row's
 * start line is kept.  When the file is done, each column in turn is typed
 * and converted to doubles or codes in a single parse, and its arena is
 * freed before the next column is converted, so the peak is the raw text
 * plus one converted column plus the line array.  Measured on a 1M x 10
 * numeric file (84 MB): 99 MB peak resident set.
 *
 * Line numbers.  libcsv reports fields and records but not positions, so
 * the reader feeds it one physical line at a time (a segment ending in CR
 * or LF) and counts lines between calls: callbacks that fire during a
 * segment belong to that line.  A record starts on the first line that
 * holds anything besides blanks while no record is open; a quoted field
 * with line breaks keeps the record open, so its breaks are counted.
 * CRLF counts as one break, a lone CR or LF as one.
 *
 * What libcsv does without CSV_STRICT (checked against libcsv 3.0.3):
 * spaces and tabs around an unquoted field are dropped, quoted fields keep
 * theirs, lines that hold only blanks produce no record (so blank lines
 * anywhere are skipped, as pandas does by default), and a quote inside an
 * unquoted field is kept as text.  A quote left open at end of file would
 * silently swallow the rest of the file, so CSV_STRICT and CSV_STRICT_FINI
 * are switched on just before csv_fini (which only then reports it); they
 * change nothing else at that point.
 *
 * Error columns ("data.csv:LINE:COL") are 1-based field numbers; the line
 * of a cell error is the line where its record starts.
 */
#define _GNU_SOURCE /* strtod_l: number parsing that ignores the global locale */

#include "frame.h"
#include "aml.h"

#include <assert.h>
#include <csv.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes per fread: large enough to amortise calls, small enough to ignore. */
#define FRAME_CHUNK (64 * 1024)

static const char *const frame_default_missing[] = {"", "NA", "?"};

typedef struct frame_col {
    char *name;
    aml_coltype type;
    double *real;   /* numeric: one per row */
    int32_t *codes; /* categorical: one per row */
    char **levels;  /* categorical: sorted by strcmp */
    size_t n_levels;
} frame_col;

struct aml_frame {
    char *path;
    size_t rows, cols;
    char **skipped; /* names of the columns opt->only left out */
    size_t n_skipped;
    size_t *lines; /* start line of each row */
    frame_col *col;
};

/*
 * The raw cells of one column while the file is read, one NUL-terminated
 * text per row, back to back.  Every row has exactly one cell per column
 * (a ragged row is an error), so cell i is found by walking, not stored.
 */
typedef struct cell_text {
    char *text;
    size_t len, cap;
} cell_text;

typedef struct csv_reader {
    const char *path;
    unsigned char delim; /* 0 until sniffed */
    char decimal;
    struct csv_parser parser;
    size_t line;     /* physical line being fed, 1-based */
    int prev_cr;     /* the last segment ended in CR (for CRLF) */
    int in_row;      /* a record has started and not yet ended */
    size_t row_line; /* line where the open record started */
    size_t field;    /* fields seen so far in the open record */
    int have_header;
    size_t header_end; /* line where the header record ended */
    char **names;
    size_t n_names, cap_names;
    cell_text *cells; /* one per column, once the header is known */
    size_t rows, cap_rows;
    size_t *lines;
    int rc; /* first error; stops all further work */
} csv_reader;

/* ---------------------------------------------------------------- frame */

static void frame_col_dispose(frame_col *c)
{
    size_t i;

    free(c->name);
    free(c->real);
    free(c->codes);
    for (i = 0; i < c->n_levels; i++)
        free(c->levels[i]);
    free(c->levels);
    memset(c, 0, sizeof(*c));
}

void aml_frame_free(aml_frame *f)
{
    size_t j;

    if (!f)
        return;
    for (j = 0; j < f->cols; j++)
        frame_col_dispose(&f->col[j]);
    free(f->col);
    for (j = 0; j < f->n_skipped; j++)
        free(f->skipped[j]);
    free(f->skipped);
    free(f->lines);
    free(f->path);
    free(f);
}

size_t aml_frame_n_skipped(const aml_frame *f)
{
    return f->n_skipped;
}

const char *aml_frame_skipped(const aml_frame *f, size_t i)
{
    assert(i < f->n_skipped);
    return f->skipped[i];
}

size_t aml_frame_rows(const aml_frame *f)
{
    return f->rows;
}

size_t aml_frame_cols(const aml_frame *f)
{
    return f->cols;
}

const char *aml_frame_path(const aml_frame *f)
{
    return f->path;
}

const char *aml_frame_name(const aml_frame *f, size_t col)
{
    assert(col < f->cols);
    return f->col[col].name;
}

aml_coltype aml_frame_type(const aml_frame *f, size_t col)
{
    assert(col < f->cols);
    return f->col[col].type;
}

long aml_frame_find(const aml_frame *f, const char *name)
{
    size_t j;

    for (j = 0; j < f->cols; j++)
        if (strcmp(f->col[j].name, name) == 0)
            return (long)j;
    return -1;
}

size_t aml_frame_line(const aml_frame *f, size_t row)
{
    assert(row < f->rows);
    return f->lines[row];
}

const double *aml_frame_real(const aml_frame *f, size_t col)
{
    assert(col < f->cols);
    return f->col[col].real;
}

const int32_t *aml_frame_codes(const aml_frame *f, size_t col)
{
    assert(col < f->cols);
    return f->col[col].codes;
}

size_t aml_frame_n_levels(const aml_frame *f, size_t col)
{
    assert(col < f->cols);
    return f->col[col].n_levels;
}

const char *aml_frame_level(const aml_frame *f, size_t col, size_t level)
{
    assert(col < f->cols && level < f->col[col].n_levels);
    return f->col[col].levels[level];
}

int aml_frame_drop(aml_frame *f, size_t col)
{
    if (col >= f->cols)
        return aml_error_set(AML_EINVAL, "cannot drop column %zu of %zu", col, f->cols);
    frame_col_dispose(&f->col[col]);
    memmove(&f->col[col], &f->col[col + 1], (f->cols - col - 1) * sizeof(*f->col));
    f->cols--;
    return AML_OK;
}

int aml_frame_filter_rows(aml_frame *f, const unsigned char *keep)
{
    size_t i, j, n = 0;

    if (!keep)
        return aml_error_set(AML_EINVAL, "no row mask to filter %s", f->path);
    for (i = 0; i < f->rows; i++) {
        if (!keep[i])
            continue;
        f->lines[n] = f->lines[i];
        for (j = 0; j < f->cols; j++) {
            if (f->col[j].real)
                f->col[j].real[n] = f->col[j].real[i];
            else
                f->col[j].codes[n] = f->col[j].codes[i];
        }
        n++;
    }
    f->rows = n;
    return AML_OK;
}

int aml_frame_permute_column(aml_frame *f, size_t col, const size_t *perm)
{
    frame_col *c;
    size_t i, size;
    void *old;

    if (col >= f->cols || !perm)
        return aml_error_set(AML_EINVAL, "cannot permute column %zu of %zu", col,
                             f->cols);
    for (i = 0; i < f->rows; i++)
        if (perm[i] >= f->rows)
            return aml_error_set(AML_EINVAL, "row %zu outside the frame", perm[i]);
    c = &f->col[col];
    size = c->real ? sizeof(double) : sizeof(int32_t);
    if (!(old = aml_mallocarray(f->rows ? f->rows : 1, size)))
        return AML_ENOMEM;
    memcpy(old, c->real ? (void *)c->real : (void *)c->codes, f->rows * size);
    for (i = 0; i < f->rows; i++) {
        if (c->real)
            c->real[i] = ((const double *)old)[perm[i]];
        else
            c->codes[i] = ((const int32_t *)old)[perm[i]];
    }
    free(old);
    return AML_OK;
}

/* ------------------------------------------------------- reading cells */

/* Appends one cell (len bytes, plus a NUL) to a column's arena. */
static int cell_text_push(cell_text *c, const char *s, size_t len)
{
    if (len >= SIZE_MAX / 2 - c->len)
        return aml_error_set(AML_ENOMEM, "CSV column text too large");
    if (c->cap - c->len < len + 1) {
        size_t cap = c->cap ? c->cap : 256;
        char *p;

        while (cap - c->len < len + 1)
            cap *= 2;
        p = realloc(c->text, cap);
        if (!p)
            return aml_error_set(AML_ENOMEM, "out of memory reading CSV text");
        c->text = p;
        c->cap = cap;
    }
    if (len)
        memcpy(c->text + c->len, s, len);
    c->text[c->len + len] = '\0';
    c->len += len + 1;
    return AML_OK;
}

static void cell_text_dispose(cell_text *c)
{
    free(c->text);
    memset(c, 0, sizeof(*c));
}

/* Makes room for one more data row's line number. */
static int reader_grow_rows(csv_reader *rd)
{
    size_t cap = rd->cap_rows ? rd->cap_rows * 2 : 1024;
    size_t *p;

    if (rd->rows < rd->cap_rows)
        return AML_OK;
    p = aml_reallocarray(rd->lines, cap, sizeof(size_t));
    if (!p)
        return AML_ENOMEM;
    rd->lines = p;
    rd->cap_rows = cap;
    return AML_OK;
}

static int reader_add_name(csv_reader *rd, const char *s, size_t len)
{
    char *name;

    if (rd->n_names == rd->cap_names) {
        size_t cap = rd->cap_names ? rd->cap_names * 2 : 16;
        char **p = aml_reallocarray(rd->names, cap, sizeof(char *));

        if (!p)
            return AML_ENOMEM;
        rd->names = p;
        rd->cap_names = cap;
    }
    name = aml_malloc(len + 1);
    if (!name)
        return AML_ENOMEM;
    memcpy(name, s, len);
    name[len] = '\0';
    rd->names[rd->n_names++] = name;
    return AML_OK;
}

/* Stores one data cell; a NUL byte would end the cell early in the arena. */
static int reader_add_cell(csv_reader *rd, const char *s, size_t len)
{
    int rc = rd->field == 0 ? reader_grow_rows(rd) : AML_OK;

    if (rc < 0)
        return rc;
    if (len && memchr(s, '\0', len))
        return aml_error_set(AML_EFORMAT, "%s:%zu:%zu: NUL byte in a field", rd->path,
                             rd->row_line, rd->field + 1);
    return cell_text_push(&rd->cells[rd->field], s, len);
}

/* libcsv field callback: s holds len bytes (NUL-terminated, may be NULL if empty). */
static void reader_on_field(void *s, size_t len, void *data)
{
    csv_reader *rd = data;
    const char *text = s ? s : "";

    if (rd->rc < 0)
        return;
    if (!rd->have_header)
        rd->rc = reader_add_name(rd, text, s ? len : 0);
    else if (rd->field < rd->n_names)
        rd->rc = reader_add_cell(rd, text, s ? len : 0);
    rd->field++;
}

static int reader_check_names(csv_reader *rd)
{
    size_t i, j;

    /* A nameless column could not be named in the spec nor matched at predict time. */
    for (j = 0; j < rd->n_names; j++)
        if (rd->names[j][0] == '\0')
            return aml_error_set(AML_EFORMAT, "%s:%zu:%zu: column %zu has an empty name",
                                 rd->path, rd->row_line, j + 1, j + 1);
    for (j = 1; j < rd->n_names; j++)
        for (i = 0; i < j; i++)
            if (strcmp(rd->names[i], rd->names[j]) == 0)
                return aml_error_set(AML_EFORMAT,
                                     "%s:%zu:%zu: duplicate column name '%s'", rd->path,
                                     rd->row_line, j + 1, rd->names[j]);
    return AML_OK;
}

static int reader_end_header(csv_reader *rd)
{
    int rc = reader_check_names(rd);

    if (rc < 0)
        return rc;
    rd->cells = aml_calloc(rd->n_names, sizeof(cell_text));
    if (!rd->cells)
        return AML_ENOMEM;
    rd->have_header = 1;
    rd->header_end = rd->line;
    return AML_OK;
}

/* libcsv record callback; c is the terminating byte or -1 at end of file. */
static void reader_on_record(int c, void *data)
{
    csv_reader *rd = data;

    AML_UNUSED(c);
    if (rd->rc < 0)
        return;
    if (!rd->have_header) {
        rd->rc = reader_end_header(rd);
    } else if (rd->field != rd->n_names) {
        rd->rc = aml_error_set(AML_EFORMAT, "%s:%zu:1: expected %zu fields, found %zu",
                               rd->path, rd->row_line, rd->n_names, rd->field);
    } else {
        rd->lines[rd->rows++] = rd->row_line;
    }
    rd->field = 0;
    rd->in_row = 0;
}

/* ------------------------------------------------------ feeding libcsv */

/* A byte that makes a line non-blank (libcsv skips blank lines). */
static int reader_is_content(const csv_reader *rd, unsigned char c)
{
    return c == rd->delim || (c != ' ' && c != '\t');
}

/* Counts the line break that ends segment seg[0..n), if any. */
static void reader_count_break(csv_reader *rd, const unsigned char *seg, size_t n)
{
    unsigned char last = seg[n - 1];

    if (last == '\n' && n == 1 && rd->prev_cr)
        ; /* the LF of a CRLF: already counted at the CR */
    else if (last == '\n' || last == '\r')
        rd->line++;
    rd->prev_cr = last == '\r';
}

static int reader_parse_error(csv_reader *rd)
{
    int e = csv_error(&rd->parser);

    if (e == CSV_EPARSE)
        return aml_error_set(AML_EFORMAT, "%s:%zu:%zu: quoted field is never closed",
                             rd->path, rd->row_line, rd->field + 1);
    return aml_error_set(e == CSV_ENOMEM ? AML_ENOMEM : AML_EFORMAT, "%s:%zu: %s",
                         rd->path, rd->line, csv_strerror(e));
}

/* Feeds one chunk to libcsv a line at a time, so callbacks know their line. */
static int reader_feed(csv_reader *rd, const unsigned char *buf, size_t len)
{
    size_t i = 0;

    while (i < len && rd->rc == 0) {
        size_t end = i;
        int content = 0;

        while (end < len && buf[end] != '\r' && buf[end] != '\n')
            content |= reader_is_content(rd, buf[end++]);
        if (end < len)
            end++;
        if (content && !rd->in_row) {
            rd->in_row = 1;
            rd->row_line = rd->line;
        }
        if (csv_parse(&rd->parser, buf + i, end - i, reader_on_field, reader_on_record,
                      rd) != end - i &&
            rd->rc == 0)
            rd->rc = reader_parse_error(rd);
        reader_count_break(rd, buf + i, end - i);
        i = end;
    }
    return rd->rc;
}

static int reader_read_file(csv_reader *rd, FILE *fp)
{
    unsigned char *buf = aml_malloc(FRAME_CHUNK);
    size_t n, skip = 0;
    int first = 1;

    if (!buf)
        return AML_ENOMEM;
    while (rd->rc == 0 && (n = fread(buf, 1, FRAME_CHUNK, fp)) > 0) {
        /* A UTF-8 byte-order mark would otherwise stick to the first name. */
        skip = first && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        if (first && !rd->delim) {
            rd->delim = (unsigned char)aml_csv_sniff((const char *)buf + skip, n - skip,
                                                     rd->decimal);
            if (!rd->delim) {
                rd->rc = aml_error_set(
                    AML_EFORMAT,
                    "%s:1: the header is separated by ',' but the decimal mark is ','; "
                    "decimal commas need a ';', tab or '|' delimiter (or decimal: '.')",
                    rd->path);
                break;
            }
            csv_set_delim(&rd->parser, rd->delim);
        }
        first = 0;
        reader_feed(rd, buf + skip, n - skip);
    }
    free(buf);
    if (rd->rc == 0 && ferror(fp))
        rd->rc = aml_error_set(AML_EIO, "%s: read error: %s", rd->path, strerror(errno));
    if (rd->rc == 0) {
        csv_set_opts(&rd->parser, CSV_APPEND_NULL | CSV_STRICT | CSV_STRICT_FINI);
        if (csv_fini(&rd->parser, reader_on_field, reader_on_record, rd) != 0 &&
            rd->rc == 0)
            rd->rc = reader_parse_error(rd);
    }
    if (rd->rc == 0 && !rd->have_header)
        rd->rc = aml_error_set(AML_EFORMAT, "%s:1:1: empty file", rd->path);
    if (rd->rc == 0 && rd->rows == 0)
        rd->rc = aml_error_set(AML_EFORMAT, "%s:%zu:1: no data rows", rd->path,
                               rd->header_end + 1);
    return rd->rc;
}

static void reader_dispose(csv_reader *rd)
{
    size_t j;

    for (j = 0; j < rd->n_names; j++) {
        free(rd->names[j]);
        if (rd->cells)
            cell_text_dispose(&rd->cells[j]);
    }
    free(rd->names);
    free(rd->cells);
    free(rd->lines);
}

/* ------------------------------------------------- delimiter sniffing */

static const char frame_delims[] = {',', ';', '\t', '|'};
#define FRAME_N_DELIMS 4
/* Records looked at when sniffing: enough to see a consistent count. */
#define FRAME_SNIFF_RECORDS 10

/*
 * Counts each candidate outside quotes in up to FRAME_SNIFF_RECORDS
 * records of buf; a line break inside quotes does not end a record.
 * count[r][d]; returns the number of complete records (or 1 when the text
 * holds only part of one).
 */
static size_t sniff_count(const char *buf, size_t len,
                          size_t count[FRAME_SNIFF_RECORDS][FRAME_N_DELIMS])
{
    size_t i, r = 0;
    int quoted = 0, content = 0, d;

    memset(count, 0, sizeof(size_t) * FRAME_SNIFF_RECORDS * FRAME_N_DELIMS);
    for (i = 0; i < len && r < FRAME_SNIFF_RECORDS; i++) {
        char ch = buf[i];

        if (ch == '"') {
            quoted = !quoted;
        } else if (!quoted && (ch == '\n' || ch == '\r')) {
            r += content; /* blank lines are no records */
            content = 0;
            continue;
        }
        for (d = 0; !quoted && d < FRAME_N_DELIMS; d++)
            count[r][d] += ch == frame_delims[d];
        content |= ch != ' ';
    }
    return r ? r : 1;
}

/*
 * A delimiter is consistent when every record holds it equally often and
 * at least once.  The consistent candidate with the most fields wins; when
 * none is consistent, the one most frequent in the header; when none
 * appears, ','.  With decimal commas ',' is never the answer, since
 * "1,5;2,5" holds more commas than semicolons: a header with no candidate
 * at all is one column (';', which it does not hold), and a header whose
 * only candidate is ',' is a comma-separated file that decimal commas
 * cannot be read from (0, the caller says so).
 */
char aml_csv_sniff(const char *buf, size_t len, char decimal)
{
    size_t count[FRAME_SNIFF_RECORDS][FRAME_N_DELIMS];
    size_t n = sniff_count(buf, len, count), r, best_n = 0;
    int d, best = -1, consistent, best_cons = 0;

    for (d = 0; d < FRAME_N_DELIMS; d++) {
        if (count[0][d] == 0 || (decimal == ',' && frame_delims[d] == ','))
            continue;
        for (consistent = 1, r = 1; r < n; r++)
            consistent &= count[r][d] == count[0][d];
        if (best < 0 || consistent > best_cons ||
            (consistent == best_cons && count[0][d] > best_n)) {
            best = d;
            best_n = count[0][d];
            best_cons = consistent;
        }
    }
    if (best >= 0)
        return frame_delims[best];
    if (decimal == ',')
        return count[0][0] ? 0 : ';';
    return ',';
}

/* ---------------------------------------------------------- conversion */

/* The options a conversion needs, resolved once per file. */
typedef struct frame_conv {
    const char *const *missing;
    size_t n_missing;
    char decimal;
    locale_t c_locale;
} frame_conv;

/* Strips spaces and tabs at both ends: s[*start .. *end). */
static void trim_span(const char *s, size_t *start, size_t *end)
{
    size_t a = 0, b = strlen(s);

    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    *start = a;
    *end = b;
}

static int is_missing(const frame_conv *cv, const char *s)
{
    size_t a, b, i;

    trim_span(s, &a, &b);
    for (i = 0; i < cv->n_missing; i++) {
        size_t ta, tb;

        trim_span(cv->missing[i], &ta, &tb);
        if (tb - ta == b - a && memcmp(s + a, cv->missing[i] + ta, b - a) == 0)
            return 1;
    }
    return 0;
}

/* parse_number's answer for a number too large for a double. */
#define FRAME_OVERFLOW 2

/* Longest number text the decimal-comma path copies (longer is not a number). */
#define FRAME_NUMBER_MAX 64

/*
 * Parses a whole cell as a finite C-locale number: 1, or 0 for text, or
 * FRAME_OVERFLOW for a number written out in full that overflows a double
 * ("1e999"), which is neither (see try_numeric).  Only digits, signs,
 * the decimal mark and exponents are allowed, so strtod's "inf", "nan"
 * and hex forms stay text: an ID column like "0x1A" is not a number.
 * With decimal commas the cell is copied with ',' turned into '.', and a
 * '.' makes it text (it would be a thousands separator, which we refuse
 * rather than guess).
 */
static int parse_number(const frame_conv *cv, const char *s, double *out)
{
    const char *allowed = cv->decimal == ',' ? "+-,eE" : "+-.eE";
    char copy[FRAME_NUMBER_MAX];
    size_t a, b, i;
    int digit = 0;
    char *end;
    double v;

    trim_span(s, &a, &b);
    for (i = a; i < b; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digit = 1;
        else if (!strchr(allowed, s[i]))
            return 0;
    }
    if (!digit)
        return 0;
    if (cv->decimal == ',') {
        if (b - a >= sizeof(copy))
            return 0;
        for (i = a; i < b; i++)
            copy[i - a] = s[i] == ',' ? '.' : s[i];
        copy[b - a] = '\0';
        s = copy;
        b -= a;
        a = 0;
    }
    v = strtod_l(s + a, &end, cv->c_locale);
    if (end != s + b)
        return 0;
    if (!isfinite(v))
        return FRAME_OVERFLOW;
    *out = v;
    return 1;
}

/* "inf", "-Infinity", "NaN"...: what a number column must not hold unannounced. */
static int is_infnan_word(const char *s)
{
    static const char *const words[] = {"inf", "infinity", "nan"};
    size_t a, b, i;

    trim_span(s, &a, &b);
    if (a < b && (s[a] == '+' || s[a] == '-'))
        a++;
    for (i = 0; i < 3; i++)
        if (strlen(words[i]) == b - a && strncasecmp(s + a, words[i], b - a) == 0)
            return 1;
    return 0;
}

static int name_listed(const char *name, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static int not_number_error(const csv_reader *rd, size_t row, size_t j,
                            const frame_col *col, const char *s, int infnan)
{
    if (infnan == FRAME_OVERFLOW)
        return aml_error_set(AML_EFORMAT,
                             "%s:%zu:%zu: column '%s': '%s' is too large for a number "
                             "(beyond +-1.8e308)",
                             rd->path, rd->lines[row], j + 1, col->name, s);
    if (infnan)
        return aml_error_set(AML_EFORMAT,
                             "%s:%zu:%zu: column '%s': '%s' is not a number; list it "
                             "under data.missing to read it as missing",
                             rd->path, rd->lines[row], j + 1, col->name, s);
    return aml_error_set(AML_EFORMAT, "%s:%zu:%zu: column '%s': '%s' is not a number",
                         rd->path, rd->lines[row], j + 1, col->name, s);
}

/*
 * Converts a column to numbers in one pass.  Returns 1 when every
 * non-missing cell is a number; otherwise 0 with nothing kept, or an error
 * naming the first bad cell for a column forced numeric, or for a column
 * of numbers holding an inf/nan word or a number that overflows (see
 * frame.h): such a cell would otherwise turn the column into text.
 */
static int try_numeric(frame_col *col, const frame_conv *cv, const cell_text *c,
                       const csv_reader *rd, size_t j, int forced)
{
    const char *s = c->text, *infnan = NULL;
    size_t i, infnan_row = 0, numbers = 0;
    int kind = 0, p = 0;

    col->real = aml_mallocarray(rd->rows, sizeof(double));
    if (!col->real)
        return AML_ENOMEM;
    for (i = 0; i < rd->rows; i++, s += strlen(s) + 1) {
        if (is_missing(cv, s)) {
            col->real[i] = NAN;
        } else if ((p = parse_number(cv, s, &col->real[i])) == 1) {
            numbers++;
        } else if (p == FRAME_OVERFLOW || is_infnan_word(s)) {
            if (!infnan) {
                infnan = s;
                infnan_row = i;
                kind = p == FRAME_OVERFLOW ? FRAME_OVERFLOW : 1;
            }
        } else {
            break;
        }
    }
    if (i == rd->rows && !infnan)
        return 1;
    if (infnan && (forced || (i == rd->rows && (numbers > 0 || kind == FRAME_OVERFLOW))))
        return not_number_error(rd, infnan_row, j, col, infnan, kind);
    if (forced)
        return not_number_error(rd, i, j, col, s, 0);
    free(col->real);
    col->real = NULL;
    return 0;
}

/* One non-missing cell while a categorical column is coded. */
typedef struct level_cell {
    const char *text;
    size_t row;
} level_cell;

static int level_cell_cmp(const void *a, const void *b)
{
    return strcmp(((const level_cell *)a)->text, ((const level_cell *)b)->text);
}

/* Sorts the non-missing cells by text; each run of equal texts is one level. */
static int assign_levels(frame_col *col, level_cell *cells, size_t n)
{
    size_t i, k = 0;

    qsort(cells, n, sizeof(*cells), level_cell_cmp);
    for (i = 0; i < n; i++)
        if (i == 0 || strcmp(cells[i].text, cells[i - 1].text) != 0)
            k++;
    col->levels = aml_calloc(k, sizeof(char *));
    if (!col->levels)
        return AML_ENOMEM;
    for (i = 0; i < n; i++) {
        if (i == 0 || strcmp(cells[i].text, cells[i - 1].text) != 0) {
            if (col->n_levels == INT32_MAX)
                return aml_error_set(AML_EFORMAT, "column '%s' has too many levels",
                                     col->name);
            col->levels[col->n_levels] = aml_strdup(cells[i].text);
            if (!col->levels[col->n_levels++])
                return AML_ENOMEM;
        }
        col->codes[cells[i].row] = (int32_t)(col->n_levels - 1);
    }
    return AML_OK;
}

static int convert_categorical(frame_col *col, const frame_conv *cv, const cell_text *c,
                               size_t rows)
{
    const char *s = c->text;
    level_cell *cells;
    size_t i, n = 0;
    int rc;

    col->codes = aml_mallocarray(rows, sizeof(int32_t));
    cells = aml_mallocarray(rows, sizeof(level_cell));
    if (!col->codes || !cells) {
        free(cells);
        return AML_ENOMEM;
    }
    for (i = 0; i < rows; i++, s += strlen(s) + 1) {
        col->codes[i] = -1;
        if (!is_missing(cv, s)) {
            cells[n].text = s;
            cells[n++].row = i;
        }
    }
    rc = assign_levels(col, cells, n);
    free(cells);
    return rc;
}

/* Types and converts column j, then frees its text. */
/* The column's own missing tokens when the options give some for it. */
static void column_missing(frame_conv *cv, const char *name, const aml_csv_options *opt)
{
    size_t i;

    for (i = 0; opt && i < opt->n_col_missing; i++) {
        if (opt->col_missing[i].name && strcmp(opt->col_missing[i].name, name) == 0) {
            cv->missing = opt->col_missing[i].tokens;
            cv->n_missing = opt->col_missing[i].n_tokens;
            return;
        }
    }
}

static int convert_column(frame_col *col, const frame_conv *file_cv, csv_reader *rd,
                          size_t j, const aml_csv_options *opt)
{
    cell_text *c = &rd->cells[j];
    int forced_cat = 0, forced_num = 0, rc = 0;
    frame_conv column_cv = *file_cv, *cv = &column_cv;

    col->name = rd->names[j];
    rd->names[j] = NULL;
    column_missing(cv, col->name, opt);
    if (opt) {
        forced_cat = name_listed(col->name, opt->categorical, opt->n_categorical);
        forced_num = name_listed(col->name, opt->numeric, opt->n_numeric);
    }
    if (!forced_cat)
        rc = try_numeric(col, cv, c, rd, j, forced_num);
    if (rc == 1) {
        col->type = AML_COL_NUMERIC;
        rc = AML_OK;
    } else if (rc == 0) {
        col->type = AML_COL_CATEGORICAL;
        rc = convert_categorical(col, cv, c, rd->rows);
    }
    cell_text_dispose(c);
    return rc;
}

static int frame_build(aml_frame *f, csv_reader *rd, const aml_csv_options *opt)
{
    frame_conv cv;
    size_t j;
    int rc = AML_OK;

    cv.missing = opt && opt->missing ? opt->missing : frame_default_missing;
    cv.n_missing = opt && opt->missing ? opt->n_missing : 3;
    cv.decimal = opt && opt->decimal == ',' ? ',' : '.';
    cv.c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (cv.c_locale == (locale_t)0)
        return aml_error_set(AML_ENOMEM, "cannot create the C locale");
    f->col = aml_calloc(rd->n_names, sizeof(frame_col));
    f->skipped = aml_calloc(rd->n_names, sizeof(char *));
    if (!f->col || !f->skipped)
        rc = AML_ENOMEM;
    for (j = 0; rc == 0 && j < rd->n_names; j++) {
        if (opt && opt->only && !name_listed(rd->names[j], opt->only, opt->n_only)) {
            /* Not wanted: keep the name for the caller's note, free the text. */
            f->skipped[f->n_skipped++] = rd->names[j];
            rd->names[j] = NULL;
            cell_text_dispose(&rd->cells[j]);
            continue;
        }
        rc = convert_column(&f->col[f->cols++], &cv, rd, j, opt);
    }
    freelocale(cv.c_locale);
    f->rows = rd->rows;
    f->lines = rd->lines;
    rd->lines = NULL;
    return rc;
}

int aml_frame_read_stream(aml_frame **out, FILE *fp, const char *path,
                          const aml_csv_options *opt)
{
    csv_reader rd;
    aml_frame *f = NULL;
    int rc;

    *out = NULL;
    memset(&rd, 0, sizeof(rd));
    rd.path = path;
    rd.line = 1;
    rd.delim = opt && opt->delimiter ? (unsigned char)opt->delimiter : 0;
    rd.decimal = opt && opt->decimal == ',' ? ',' : '.';
    if (csv_init(&rd.parser, CSV_APPEND_NULL) != 0)
        return aml_error_set(AML_ENOMEM, "cannot initialise the CSV parser");
    if (rd.delim)
        csv_set_delim(&rd.parser, rd.delim);
    rc = reader_read_file(&rd, fp);
    csv_free(&rd.parser);
    if (rc < 0)
        goto out;

    f = aml_calloc(1, sizeof(*f));
    if (!f || !(f->path = aml_strdup(path))) {
        rc = AML_ENOMEM;
        goto out;
    }
    rc = frame_build(f, &rd, opt);

out:
    reader_dispose(&rd);
    if (rc < 0)
        aml_frame_free(f);
    else
        *out = f;
    return rc;
}

int aml_frame_read_csv(aml_frame **out, const char *path, const aml_csv_options *opt)
{
    FILE *fp;
    int rc;

    *out = NULL;
    fp = fopen(path, "rb");
    if (!fp)
        return aml_error_set(AML_EIO, "%s: %s", path, strerror(errno));
    rc = aml_frame_read_stream(out, fp, path, opt);
    fclose(fp);
    return rc;
}
