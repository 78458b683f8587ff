/*
 * output.c - error reporting, option parsing and tables for the CLI.
 */
#include "cli.h"
#include "outfile.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* "automl: CMD: <message>" on stderr, "automl: <message>" when cmd is NULL. */
static void cli_verror(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "automl: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_verror(NULL, fmt, ap);
    va_end(ap);
}

int cli_exit_code(int rc)
{
    if (rc == AML_EINVAL || rc == AML_EFORMAT || rc == AML_EIO)
        return CLI_EXIT_INPUT;
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_fail(int rc)
{
    const char *msg = aml_error_message();

    /* Spec and data errors already start with "file:line:col:"; print them bare. */
    fprintf(stderr, "%s\n", msg[0] ? msg : "unknown error");
    return cli_exit_code(rc);
}

int cli_fail_in(const char *cmd, int rc)
{
    const char *msg = aml_error_message();

    if (!cmd)
        return cli_fail(rc);
    /* One line whatever the message holds (a name from the data, SQLite's text). */
    fprintf(stderr, "automl: %s: ", cmd);
    for (const char *p = msg[0] ? msg : "unknown error"; *p; p++)
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stderr);
    fputc('\n', stderr);
    return cli_exit_code(rc);
}

int cli_check_out(const char *path)
{
    char *target = NULL, why[512];
    int rc = aml_outfile_target(path, &target);

    free(target);
    if (rc != AML_EINVAL)
        return rc;
    /* The message lives in the slot aml_error_set writes: copy it out first. */
    snprintf(why, sizeof(why), "%s", aml_error_message());
    return aml_error_set(AML_EINVAL, "--out %s", why);
}

/* An option error, naming a's command when it has one. */
static void cli_option_error(const cli_args *a, const char *fmt, ...) AML_PRINTF(2, 3);
static void cli_option_error(const cli_args *a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cli_verror(a->cmd, fmt, ap);
    va_end(ap);
}

int cli_opt(cli_args *a, const char *name, const char **value)
{
    const char *arg = a->argv[a->i];
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0)
        return 0;
    if (!value)
        return arg[n] == '\0';
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (a->i + 1 >= a->argc) {
        cli_option_error(a, "option %s needs a value", name);
        *value = NULL;
        return 1;
    }
    *value = a->argv[++a->i];
    return 1;
}

int cli_positional(cli_args *a, const char *cmd, const char **const slots[], size_t n)
{
    const char *arg = a->argv[a->i];
    size_t k;

    if (arg[0] == '-' && arg[1] != '\0') {
        cli_error("%s: unknown option '%s' (see automl --help)", cmd, arg);
        return -1;
    }
    for (k = 0; k < n; k++)
        if (!*slots[k]) {
            *slots[k] = arg;
            return 0;
        }
    cli_error("%s: unexpected argument '%s'", cmd, arg);
    return -1;
}

/* s as a whole decimal integer from lo to hi; 0 or -1 (nothing printed). */
static int cli_long_in(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_long(const cli_args *a, const char *opt, const char *s, long *out)
{
    if (!s)
        return -1;
    if (cli_long_in(s, 0, LONG_MAX, out) < 0) {
        cli_option_error(a, "option %s takes a non-negative integer, not '%s'", opt, s);
        return -1;
    }
    return 0;
}

int cli_parse_count(const cli_args *a, const char *opt, const char *s, long hi, long *out)
{
    if (!s)
        return -1;
    if (cli_long_in(s, 1, hi, out) < 0) {
        cli_option_error(a, "option %s takes a positive integer up to %ld, not '%s'", opt,
                         hi, s);
        return -1;
    }
    return 0;
}

void cli_format_score(char *buf, size_t len, int has, double score)
{
    if (!has)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.4f", score);
}

#define CLI_TABLE_MAX_COLS 16

struct cli_table {
    size_t n_cols, n_cells, cap;
    char **cells;
    unsigned char right[CLI_TABLE_MAX_COLS];
};

cli_table *cli_table_new(size_t n_cols)
{
    cli_table *t;

    if (n_cols == 0 || n_cols > CLI_TABLE_MAX_COLS)
        return NULL;
    t = calloc(1, sizeof(*t));
    if (t)
        t->n_cols = n_cols;
    return t;
}

int cli_table_add(cli_table *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    char **cells;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (t->n_cells == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;

        if (!(cells = realloc(t->cells, cap * sizeof(*cells))))
            return -1;
        t->cells = cells;
        t->cap = cap;
    }
    if (!(t->cells[t->n_cells] = strdup(buf)))
        return -1;
    t->n_cells++;
    return 0;
}

void cli_table_align_right(cli_table *t, size_t col)
{
    if (col < t->n_cols)
        t->right[col] = 1;
}

/* Columns a cell takes on a terminal: UTF-8 code points, not bytes. */
static size_t cli_text_width(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80; /* not a continuation byte */
    return n;
}

static void cli_pad(FILE *out, size_t n)
{
    while (n--)
        fputc(' ', out);
}

void cli_table_print(const cli_table *t, FILE *out)
{
    size_t width[CLI_TABLE_MAX_COLS] = {0};
    size_t i, c;

    for (i = 0; i < t->n_cells; i++) {
        size_t n = cli_text_width(t->cells[i]);

        c = i % t->n_cols;
        if (n > width[c])
            width[c] = n;
    }
    for (i = 0; i < t->n_cells; i++) {
        size_t pad;
        int last;

        c = i % t->n_cols;
        pad = width[c] - cli_text_width(t->cells[i]);
        last = c + 1 == t->n_cols;
        if (t->right[c])
            cli_pad(out, pad);
        fputs(t->cells[i], out);
        if (last) {
            fputc('\n', out); /* no trailing blanks */
            continue;
        }
        if (!t->right[c])
            cli_pad(out, pad);
        fputs("  ", out);
    }
}

void cli_table_free(cli_table *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->n_cells; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

/* ---- growing strings ---------------------------------------------------------- */

static int cli_buf_reserve(cli_buf *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 256;
    char *s;

    if (b->failed)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    while (cap < b->len + more + 1)
        cap *= 2;
    if (!(s = realloc(b->s, cap))) {
        b->failed = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

void cli_buf_printf(cli_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || cli_buf_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void cli_buf_puts(cli_buf *b, const char *text)
{
    size_t n = strlen(text);

    if (cli_buf_reserve(b, n) < 0)
        return;
    memcpy(b->s + b->len, text, n + 1);
    b->len += n;
}

void cli_buf_html(cli_buf *b, const char *text)
{
    for (const char *p = text ? text : ""; *p; p++) {
        char c[2] = {*p, '\0'};

        switch (*p) {
        case '&':
            cli_buf_puts(b, "&amp;");
            break;
        case '<':
            cli_buf_puts(b, "&lt;");
            break;
        case '>':
            cli_buf_puts(b, "&gt;");
            break;
        case '"':
            cli_buf_puts(b, "&quot;");
            break;
        case '\'':
            cli_buf_puts(b, "&#39;");
            break;
        default:
            cli_buf_puts(b, c);
        }
    }
}

char *cli_buf_take(cli_buf *b)
{
    char *s = b->failed ? NULL : b->s;

    if (b->failed)
        free(b->s);
    else if (!s)
        s = calloc(1, 1);
    memset(b, 0, sizeof(*b));
    return s;
}

void cli_buf_dispose(cli_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

size_t cli_ensemble_members(const char *json, long *trials, double *weights, size_t max)
{
    const char *p = json;
    size_t n = 0;
    int used;

    while (p && n < max && (p = strstr(p, "{\"trial\":")) != NULL) {
        if (sscanf(p, "{\"trial\":%ld,\"weight\":%n", &trials[n], &used) < 1)
            break;
        p += used;
        if (sscanf(p, "%lf", &weights[n]) != 1)
            weights[n] = NAN;
        n++;
    }
    return n;
}
