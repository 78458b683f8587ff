/*
 * aml.h - the vocabulary every automl module shares: return codes, the
 * error funnel and checked allocation.
 *
 * Return codes follow one rule project-wide: 0 is success, a negative
 * AML_E* value is a failure, and a positive value is a normal ending that
 * is not an error (a search space that is exhausted, a budget that is
 * spent).  A failing function records its message where the failure
 * happened, in a thread-local slot, through aml_error_set(); the caller
 * reads it with aml_error_message().  Workers running trials in parallel
 * therefore never overwrite each other's messages.  Library code never
 * prints: only cli/ shows these messages to the user.
 */
#ifndef AML_H
#define AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_VERSION "0.1.0"

enum {
    AML_OK = 0,
    AML_ERROR = -1,    /* failure with no more specific class */
    AML_ENOMEM = -2,   /* an allocation failed or a size overflowed */
    AML_EINVAL = -3,   /* bad caller input: spec, parameter, data shape */
    AML_EIO = -4,      /* a file could not be opened, read or written */
    AML_EFORMAT = -5,  /* malformed input: CSV, YAML, model file */
    AML_ENUMERIC = -6, /* a numerical failure: NaN, singular system */
    AML_ESTORE = -7,   /* the SQLite store refused an operation */
    AML_ETIMEOUT = -8, /* this thread's cooperative deadline passed */
};

/* Positive statuses: normal endings, never raised as errors. */
enum {
    AML_DONE = 1,      /* the budget is spent */
    AML_EXHAUSTED = 2, /* the search space has nothing more to propose */
};

#if defined(__GNUC__)
#define AML_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define AML_PRINTF(f, a)
#endif

/*
 * The one error funnel.  Formats the message into this thread's slot,
 * remembers the source position for debugging, and returns `code` so that
 * a failure reads `return aml_error_set(AML_EINVAL, "...")`.  Set a
 * breakpoint on aml_error__set to catch every error in the program.
 */
int aml_error__set(int code, const char *file, int line, const char *fmt, ...)
    AML_PRINTF(4, 5);
#define aml_error_set(code, ...) aml_error__set((code), __FILE__, __LINE__, __VA_ARGS__)

/* The last message set on this thread, "" when none. Borrowed until the next set. */
const char *aml_error_message(void);
/* The code passed with the last message on this thread, AML_OK when none. */
int aml_error_code(void);
/* The source position of the last error, for debugging ("file.c:123"). */
const char *aml_error_where(void);
void aml_error_clear(void);

/*
 * A text from the data (a class label) as a message quotes it: whole when
 * at most AML_QUOTE_MAX bytes, else its first bytes up to that many, cut
 * between UTF-8 characters, and "...".  Returns text itself or buf.
 */
#define AML_QUOTE_MAX 40
const char *aml_quote_short(const char *text, char buf[AML_QUOTE_MAX + 4]);

/*
 * Checked allocation.  On failure these set AML_ENOMEM and return NULL.
 * aml_calloc and aml_mallocarray check the size product for overflow.
 * Memory is released with free().
 */
void *aml_malloc(size_t size);
void *aml_calloc(size_t n, size_t size);
void *aml_mallocarray(size_t n, size_t size);
void *aml_reallocarray(void *p, size_t n, size_t size);
char *aml_strdup(const char *s);

/*
 * Cooperative deadlines (search.trial_timeout).  The runner gives the
 * thread that fits a fold a deadline in unix seconds; the long loops of
 * learners (a tree of a forest, a boosting round, an epoch, a
 * coordinate-descent sweep, a block of solver steps) call aml_deadline_check
 * once per iteration, which fails with AML_ETIMEOUT and a message once the
 * deadline has passed, so a fit stops within one iteration of it.  The
 * deadline is thread-local: 0 (the default) means none, and threads a fit
 * starts itself have none unless it passes aml_deadline_get() on.
 */
void aml_deadline_set(double unix_seconds);
double aml_deadline_get(void);
int aml_deadline_check(void);
/* The same test against a deadline captured earlier (for OpenMP workers). */
int aml_deadline_passed(double deadline);

#define AML_UNUSED(x) ((void)(x))

#endif
