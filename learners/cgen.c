/*
 * cgen.c - the text buffer behind C export (see cgen.h).
 *
 * One growing NUL-terminated buffer, doubled when full.  A failure (out of
 * memory, an identifier that does not fit its buffer) is sticky: every
 * later call fails too, so an emitter can write many pieces and check the
 * result once.  Doubles are written with "%.17g", which round-trips every
 * finite double exactly through a C compiler's strtod, and always as
 * double literals ("3.0", "-0.0"), since an integer literal would lose the
 * sign of -0.0; infinities and NaN become INFINITY and NAN from <math.h>,
 * which the generated file includes.
 */
#include "cgen.h"
#include "aml.h"
#include "outfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Values per line in emitted arrays: keeps lines under 100 columns. */
#define CGEN_PER_LINE 4
#define CGEN_INTS_PER_LINE 10

struct aml_cgen {
    char *text;
    size_t len, cap;
    unsigned long names; /* identifiers handed out */
    int failed;
};

int aml_cgen_new(aml_cgen **out)
{
    aml_cgen *g = aml_calloc(1, sizeof(*g));

    *out = NULL;
    if (!g)
        return AML_ENOMEM;
    if (!(g->text = aml_malloc(4096))) {
        free(g);
        return AML_ENOMEM;
    }
    g->cap = 4096;
    g->text[0] = '\0';
    *out = g;
    return AML_OK;
}

void aml_cgen_free(aml_cgen *g)
{
    if (!g)
        return;
    free(g->text);
    free(g);
}

static int cgen_fail(aml_cgen *g, int rc)
{
    g->failed = 1;
    return rc;
}

/* Makes room for n more bytes plus the NUL. */
static int cgen_reserve(aml_cgen *g, size_t n)
{
    size_t cap = g->cap;
    char *p;

    if (n >= SIZE_MAX / 2 - g->len)
        return cgen_fail(g, aml_error_set(AML_ENOMEM, "generated C source too large"));
    if (g->len + n + 1 <= cap)
        return AML_OK;
    while (cap < g->len + n + 1)
        cap *= 2;
    if (!(p = realloc(g->text, cap)))
        return cgen_fail(g, aml_error_set(AML_ENOMEM, "out of memory writing C source"));
    g->text = p;
    g->cap = cap;
    return AML_OK;
}

int aml_cgen_printf(aml_cgen *g, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (g->failed)
        return AML_ENOMEM;
    va_start(ap, fmt);
    n = vsnprintf(g->text + g->len, g->cap - g->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return cgen_fail(g, aml_error_set(AML_EINVAL, "bad format in C export"));
    if ((size_t)n >= g->cap - g->len) {
        if (cgen_reserve(g, (size_t)n) < 0)
            return AML_ENOMEM;
        va_start(ap, fmt);
        vsnprintf(g->text + g->len, g->cap - g->len, fmt, ap);
        va_end(ap);
    }
    g->len += (size_t)n;
    return AML_OK;
}

int aml_cgen_name(aml_cgen *g, const char *stem, char *buf, size_t len)
{
    int n;

    if (g->failed)
        return AML_ENOMEM;
    n = snprintf(buf, len, "%s_%lu", stem, ++g->names);
    if (n < 0 || (size_t)n >= len)
        return cgen_fail(g,
                         aml_error_set(AML_EINVAL, "identifier '%s_N' too long", stem));
    return AML_OK;
}

/* One double as a C99 double constant expression (exact). */
static void cgen_format_double(char *buf, size_t len, double v)
{
    if (v != v)
        snprintf(buf, len, "NAN");
    else if (v > 1.7976931348623157e308)
        snprintf(buf, len, "INFINITY");
    else if (v < -1.7976931348623157e308)
        snprintf(buf, len, "-INFINITY");
    else {
        snprintf(buf, len, "%.17g", v);
        if (!strpbrk(buf, ".e"))
            strncat(buf, ".0", len - strlen(buf) - 1);
    }
}

int aml_cgen_doubles(aml_cgen *g, const char *name, const double *v, size_t n)
{
    char num[48];
    size_t i;

    /* C has no empty arrays: an unused single zero stands in. */
    aml_cgen_printf(g, "static const double %s[%zu] = {", name, n ? n : 1);
    if (n == 0)
        aml_cgen_printf(g, "0.0");
    for (i = 0; i < n; i++) {
        cgen_format_double(num, sizeof(num), v[i]);
        aml_cgen_printf(g, "%s%s%s", i ? "," : "", i % CGEN_PER_LINE ? " " : "\n    ",
                        num);
    }
    return aml_cgen_printf(g, "};\n");
}

int aml_cgen_ints(aml_cgen *g, const char *name, const int *v, size_t n)
{
    size_t i;

    aml_cgen_printf(g, "static const int %s[%zu] = {", name, n ? n : 1);
    if (n == 0)
        aml_cgen_printf(g, "0");
    for (i = 0; i < n; i++)
        aml_cgen_printf(g, "%s%s%d", i ? "," : "",
                        i % CGEN_INTS_PER_LINE ? " " : "\n    ", v[i]);
    return aml_cgen_printf(g, "};\n");
}

/*
 * Escapes everything but plain printable ASCII; '?' too, since C99 reads
 * "??=" and friends as trigraphs.  Octal escapes always take three digits
 * so a following digit is never swallowed.
 */
int aml_cgen_string(aml_cgen *g, const char *s)
{
    const unsigned char *p;

    aml_cgen_printf(g, "\"");
    for (p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '?')
            aml_cgen_printf(g, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            aml_cgen_printf(g, "\\%03o", *p);
        else
            aml_cgen_printf(g, "%c", *p);
    }
    return aml_cgen_printf(g, "\"");
}

const char *aml_cgen_text(const aml_cgen *g, size_t *len)
{
    if (len)
        *len = g->len;
    return g->text;
}

int aml_cgen_save(const aml_cgen *g, const char *path)
{
    if (g->failed)
        return aml_error_set(AML_ENOMEM, "%s: the C source is incomplete", path);
    return aml_outfile_write(path, g->text, g->len, 0);
}
