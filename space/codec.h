/*
 * codec.h - little-endian, fixed-width encoding for model files.
 *
 * Every learner and the preprocessing pipeline serialise themselves through
 * these two objects, so a model file written on one machine loads on
 * another.  The writer grows a buffer; the reader checks every length
 * against what is left, so a truncated or corrupted file is an AML_EFORMAT
 * error and never an out-of-bounds read.
 */
#ifndef AML_CODEC_H
#define AML_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* An embedded growable byte buffer: _init / _dispose. */
typedef struct aml_writer {
    unsigned char *data;
    size_t len, cap;
    int failed; /* sticky: set after the first allocation failure */
} aml_writer;

void aml_writer_init(aml_writer *w);
void aml_writer_dispose(aml_writer *w);
/* Each put returns 0 or AML_ENOMEM; after a failure all puts fail. */
int aml_put_u8(aml_writer *w, uint8_t v);
int aml_put_u32(aml_writer *w, uint32_t v);
int aml_put_u64(aml_writer *w, uint64_t v);
int aml_put_i64(aml_writer *w, int64_t v);
int aml_put_f64(aml_writer *w, double v);
int aml_put_bytes(aml_writer *w, const void *p, size_t n);
/* A u32 length then the bytes, no terminator; NULL is written as length 0xffffffff. */
int aml_put_str(aml_writer *w, const char *s);
int aml_put_f64s(aml_writer *w, const double *v, size_t n);
int aml_put_i32s(aml_writer *w, const int32_t *v, size_t n);

/* A reader over borrowed bytes: the bytes must outlive it. */
typedef struct aml_reader {
    const unsigned char *data;
    size_t len, pos;
} aml_reader;

void aml_reader_init(aml_reader *r, const void *data, size_t len);
/* Each get returns 0 or AML_EFORMAT (with a message) when the input is short. */
int aml_get_u8(aml_reader *r, uint8_t *out);
int aml_get_u32(aml_reader *r, uint32_t *out);
int aml_get_u64(aml_reader *r, uint64_t *out);
int aml_get_i64(aml_reader *r, int64_t *out);
int aml_get_f64(aml_reader *r, double *out);
int aml_get_bytes(aml_reader *r, void *out, size_t n);
/* Allocates the string (caller frees with free()); *out is NULL for a NULL string. */
int aml_get_str(aml_reader *r, char **out);
/* Reads n doubles into caller storage. */
int aml_get_f64s(aml_reader *r, double *out, size_t n);
int aml_get_i32s(aml_reader *r, int32_t *out, size_t n);
/* Checks that `n` items of `size` bytes can still be read, before allocating for them. */
int aml_reader_need(aml_reader *r, size_t n, size_t size);

/* FNV-1a 64-bit hash, used as the model file checksum. */
uint64_t aml_fnv1a64(const void *data, size_t len);

#endif
