/*
 * error.c - the thread-local error slot, checked allocation, and the short
 * form in which messages quote text from the data.
 *
 * Each thread owns one message buffer, so trials running on OpenMP workers
 * keep their own failure reasons.  Messages longer than the buffer are
 * truncated rather than allocated: recording an error must not fail.  A
 * class label may be any length; quoted whole, a long one would push the
 * rest of the message (what to do about it) off the line or out of the
 * buffer, so messages quote it shortened (aml_quote_short).
 */
#include "aml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERROR_MESSAGE_MAX 1024

static _Thread_local char error_message[ERROR_MESSAGE_MAX];
static _Thread_local char error_where[128];
static _Thread_local int error_code_value;

int aml_error__set(int code, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(error_message, sizeof(error_message), fmt, ap);
    va_end(ap);

    snprintf(error_where, sizeof(error_where), "%s:%d", file, line);
    error_code_value = code;
    return code;
}

const char *aml_quote_short(const char *text, char buf[AML_QUOTE_MAX + 4])
{
    size_t n = AML_QUOTE_MAX;

    if (strlen(text) <= AML_QUOTE_MAX)
        return text;
    /* Back off continuation bytes (10xxxxxx) so no character is cut in two. */
    while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    memcpy(buf, text, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

const char *aml_error_message(void)
{
    return error_message;
}

int aml_error_code(void)
{
    return error_code_value;
}

const char *aml_error_where(void)
{
    return error_where;
}

void aml_error_clear(void)
{
    error_message[0] = '\0';
    error_where[0] = '\0';
    error_code_value = AML_OK;
}

void *aml_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p)
        aml_error_set(AML_ENOMEM, "out of memory allocating %zu bytes", size);
    return p;
}

void *aml_calloc(size_t n, size_t size)
{
    void *p;

    if (size && n > SIZE_MAX / size) {
        aml_error_set(AML_ENOMEM, "allocation size overflows (%zu x %zu)", n, size);
        return NULL;
    }
    p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        aml_error_set(AML_ENOMEM, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *aml_mallocarray(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        aml_error_set(AML_ENOMEM, "allocation size overflows (%zu x %zu)", n, size);
        return NULL;
    }
    return aml_malloc(n * size);
}

void *aml_reallocarray(void *p, size_t n, size_t size)
{
    void *q;

    if (size && n > SIZE_MAX / size) {
        aml_error_set(AML_ENOMEM, "allocation size overflows (%zu x %zu)", n, size);
        return NULL;
    }
    q = realloc(p, (n && size) ? n * size : 1);
    if (!q)
        aml_error_set(AML_ENOMEM, "out of memory growing to %zu x %zu bytes", n, size);
    return q;
}

char *aml_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = aml_malloc(n);

    if (p)
        memcpy(p, s, n);
    return p;
}
