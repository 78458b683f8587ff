/*
 * test_docs.c - docs/learners.md is the output of `automl learners
 * --markdown`: a learner or parameter added without regenerating the page
 * fails here (regenerate with: build/cli/automl learners --markdown >
 * docs/learners.md).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(FILE *f)
{
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);

    assert_non_null(buf);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    return buf;
}

static void test_docs_learners_page_is_current(void **state)
{
    FILE *p = popen("'" AML_BINARY "' learners --markdown", "r");
    FILE *f = fopen(AML_SOURCE_DIR "/docs/learners.md", "r");
    char *generated, *committed;

    (void)state;
    assert_non_null(p);
    assert_non_null(f);
    generated = slurp(p);
    committed = slurp(f);
    assert_int_equal(pclose(p), 0);
    fclose(f);
    if (strcmp(generated, committed) != 0)
        fail_msg("docs/learners.md is stale: regenerate it with "
                 "`automl learners --markdown > docs/learners.md`");
    free(generated);
    free(committed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs_learners_page_is_current),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
