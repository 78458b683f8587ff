/*
 * codec.c - see codec.h.  Integers are written byte by byte so the format
 * does not depend on the host's byte order; doubles go through their IEEE
 * 754 bit pattern as a u64.
 */
#include "codec.h"
#include "aml.h"

#include <stdlib.h>
#include <string.h>

#define CODEC_NULL_STR 0xffffffffu

void aml_writer_init(aml_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void aml_writer_dispose(aml_writer *w)
{
    if (!w)
        return;
    free(w->data);
    memset(w, 0, sizeof(*w));
}

static int writer_reserve(aml_writer *w, size_t extra)
{
    size_t cap;
    unsigned char *p;

    if (w->failed)
        return AML_ENOMEM;
    if (extra <= w->cap - w->len)
        return AML_OK;
    if (extra > SIZE_MAX / 2 - w->len)
        goto fail;
    cap = w->cap ? w->cap : 256;
    while (cap - w->len < extra)
        cap *= 2;
    p = realloc(w->data, cap);
    if (!p)
        goto fail;
    w->data = p;
    w->cap = cap;
    return AML_OK;

fail:
    w->failed = 1;
    return aml_error_set(AML_ENOMEM, "out of memory writing a model");
}

int aml_put_bytes(aml_writer *w, const void *p, size_t n)
{
    if (writer_reserve(w, n) < 0)
        return AML_ENOMEM;
    if (n)
        memcpy(w->data + w->len, p, n);
    w->len += n;
    return AML_OK;
}

int aml_put_u8(aml_writer *w, uint8_t v)
{
    return aml_put_bytes(w, &v, 1);
}

int aml_put_u32(aml_writer *w, uint32_t v)
{
    unsigned char b[4];
    int i;

    for (i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return aml_put_bytes(w, b, 4);
}

int aml_put_u64(aml_writer *w, uint64_t v)
{
    unsigned char b[8];
    int i;

    for (i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return aml_put_bytes(w, b, 8);
}

int aml_put_i64(aml_writer *w, int64_t v)
{
    return aml_put_u64(w, (uint64_t)v);
}

int aml_put_f64(aml_writer *w, double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    return aml_put_u64(w, bits);
}

int aml_put_str(aml_writer *w, const char *s)
{
    size_t n;

    if (!s)
        return aml_put_u32(w, CODEC_NULL_STR);
    n = strlen(s);
    if (n >= CODEC_NULL_STR)
        return aml_error_set(AML_EINVAL, "string too long for a model file");
    if (aml_put_u32(w, (uint32_t)n) < 0)
        return AML_ENOMEM;
    return aml_put_bytes(w, s, n);
}

int aml_put_f64s(aml_writer *w, const double *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (aml_put_f64(w, v[i]) < 0)
            return AML_ENOMEM;
    return AML_OK;
}

int aml_put_i32s(aml_writer *w, const int32_t *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (aml_put_u32(w, (uint32_t)v[i]) < 0)
            return AML_ENOMEM;
    return AML_OK;
}

void aml_reader_init(aml_reader *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
}

int aml_reader_need(aml_reader *r, size_t n, size_t size)
{
    size_t left = r->len - r->pos;

    if (size && n > left / size)
        return aml_error_set(AML_EFORMAT, "model data truncated at byte %zu", r->pos);
    return AML_OK;
}

int aml_get_bytes(aml_reader *r, void *out, size_t n)
{
    if (aml_reader_need(r, n, 1) < 0)
        return AML_EFORMAT;
    if (n)
        memcpy(out, r->data + r->pos, n);
    r->pos += n;
    return AML_OK;
}

int aml_get_u8(aml_reader *r, uint8_t *out)
{
    return aml_get_bytes(r, out, 1);
}

int aml_get_u32(aml_reader *r, uint32_t *out)
{
    unsigned char b[4];
    uint32_t v = 0;
    int i;

    if (aml_get_bytes(r, b, 4) < 0)
        return AML_EFORMAT;
    for (i = 0; i < 4; i++)
        v |= (uint32_t)b[i] << (8 * i);
    *out = v;
    return AML_OK;
}

int aml_get_u64(aml_reader *r, uint64_t *out)
{
    unsigned char b[8];
    uint64_t v = 0;
    int i;

    if (aml_get_bytes(r, b, 8) < 0)
        return AML_EFORMAT;
    for (i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    *out = v;
    return AML_OK;
}

int aml_get_i64(aml_reader *r, int64_t *out)
{
    uint64_t v;

    if (aml_get_u64(r, &v) < 0)
        return AML_EFORMAT;
    *out = (int64_t)v;
    return AML_OK;
}

int aml_get_f64(aml_reader *r, double *out)
{
    uint64_t bits;

    if (aml_get_u64(r, &bits) < 0)
        return AML_EFORMAT;
    memcpy(out, &bits, sizeof(*out));
    return AML_OK;
}

int aml_get_str(aml_reader *r, char **out)
{
    uint32_t n;
    char *s;

    *out = NULL;
    if (aml_get_u32(r, &n) < 0)
        return AML_EFORMAT;
    if (n == CODEC_NULL_STR)
        return AML_OK;
    if (aml_reader_need(r, n, 1) < 0)
        return AML_EFORMAT;
    s = aml_malloc((size_t)n + 1);
    if (!s)
        return AML_ENOMEM;
    memcpy(s, r->data + r->pos, n);
    s[n] = '\0';
    r->pos += n;
    *out = s;
    return AML_OK;
}

int aml_get_f64s(aml_reader *r, double *out, size_t n)
{
    size_t i;

    if (aml_reader_need(r, n, 8) < 0)
        return AML_EFORMAT;
    for (i = 0; i < n; i++)
        aml_get_f64(r, &out[i]);
    return AML_OK;
}

int aml_get_i32s(aml_reader *r, int32_t *out, size_t n)
{
    size_t i;
    uint32_t v = 0;

    if (aml_reader_need(r, n, 4) < 0)
        return AML_EFORMAT;
    for (i = 0; i < n; i++) {
        aml_get_u32(r, &v);
        out[i] = (int32_t)v;
    }
    return AML_OK;
}

uint64_t aml_fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
