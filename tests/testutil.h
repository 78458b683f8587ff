/*
 * testutil.h - helpers shared by the cmocka tests.
 *
 * Fixtures live in tests/fixtures/; each was produced once by a script in
 * tests/fixtures/ (scikit-learn via /usr/bin/python3) whose command line is
 * written at the top of the script and of README.md there.
 */
#ifndef AML_TESTUTIL_H
#define AML_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Writes AML_TEST_DIR "/fixtures/" name into a static buffer; returns it. */
const char *aml_test_fixture(const char *name);
/* Path of a shared data set, or NULL when ../shared/datasets is absent
 * (a user's clone): callers then skip(). */
const char *aml_test_shared(const char *name);

/*
 * Reads a numeric CSV with one header row into a malloc'd row-major array.
 * Fails the test on any problem.  The reader is deliberately independent of
 * learners/frame.c so learner tests do not depend on the CSV module.
 */
void aml_test_read_matrix(const char *path, double **out, size_t *rows, size_t *cols);

/* Asserts |a - b| <= tol * max(1, |b|), printing both on failure. */
#define assert_close(a, b, tol) aml_test_assert_close((a), (b), (tol), __FILE__, __LINE__)
void aml_test_assert_close(double a, double b, double tol, const char *file, int line);

struct aml_learner;
struct aml_matrix;

/*
 * Reads a fixture "x0,...,xp-1,y" into X (p columns, malloc'd data) and y
 * (malloc'd): the last column is the target.
 */
void aml_test_read_xy(const char *name, struct aml_matrix *X, double **y);

/* Predictions of a fitted learner on X (malloc'd; rows x outputs values). */
double *aml_test_predict(const struct aml_learner *l, const struct aml_matrix *X);
/*
 * Saves l, loads it back and checks the copy predicts X bit for bit the same,
 * and that the saved bytes cut short fail to load with AML_EFORMAT.
 */
void aml_test_learner_roundtrip(const struct aml_learner *l, const struct aml_matrix *X);
/* A new kNN learner of the task with k, weights and metric set. */
struct aml_learner *aml_test_knn(int task, long long k, const char *weights,
                                 const char *metric);
/* l's importances: non-negative, summing to 1 (or all 0); malloc'd. */
double *aml_test_learner_importance(const struct aml_learner *l);

/* A fresh temporary directory for this test process (removed at exit). */
const char *aml_test_tmpdir(void);
/* dir's entries but dot files, sorted, as "a;b;c;" in out (the test fails when
 * they do not fit in cap bytes). */
void aml_test_listing(const char *dir, char *out, size_t cap);

struct aml_spec;
struct aml_spec_vocab;

/* Every learner, metric and strategy name: the vocabulary automl run uses. */
const struct aml_spec_vocab *aml_test_vocab(void);
/* Loads the spec at path with aml_test_vocab(); fails the test on an error. */
struct aml_spec *aml_test_load_spec_path(const char *path);
/* aml_test_load_spec_path of tests/fixtures/<fixture>. */
struct aml_spec *aml_test_load_spec(const char *fixture);

struct aml_store;
/*
 * A new store <aml_test_tmpdir()>/name (any old one removed) holding one
 * classification study scored by accuracy, whose id goes into *study.
 */
struct aml_store *aml_test_fresh_store(const char *name, long long *study);

/*
 * The end-to-end tests (tests/cli/) run the automl binary in a work
 * directory of their own, DIR below.
 *
 * aml_cli_dir_setup makes DIR = <aml_test_tmpdir()>/name, empty, and
 * copies into it the files of each shell glob that follows (a path
 * relative to the source tree whose last part may hold a '*'; the list
 * ends with NULL); returns DIR, as aml_cli_dir() does afterwards.
 */
const char *aml_cli_dir_setup(const char *name, ...);
const char *aml_cli_dir(void);
/* DIR/name, in one of four static buffers used in turn. */
const char *aml_cli_at(const char *name);
/* Runs automl with args in DIR, stdout to out.txt, stderr to err.txt; its exit code. */
int aml_cli_run(const char *args);
/* The file's bytes, NUL-terminated (malloc'd; *len its size unless len is NULL); NULL
 * when it cannot be opened. */
char *aml_cli_slurp(const char *path, long *len);
/* The same, failing the test when the file cannot be opened. */
char *aml_cli_read(const char *path);
/* Fails the test unless DIR/file exists and contains needle. */
void aml_cli_expect_in(const char *file, const char *needle);

#endif
