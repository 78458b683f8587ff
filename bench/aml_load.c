/*
 * aml_load.c - loads one CSV with automl's reader and prints the load time
 * and the process's peak resident memory, for bench/load_vs_pandas.py.
 *
 *   aml_load FILE.csv
 * prints one line: rows=R cols=C seconds=S peak_rss_bytes=B
 */
#include "aml.h"
#include "frame.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    struct rusage ru;
    aml_frame *f = NULL;
    double t0, t1;

    if (argc != 2) {
        fprintf(stderr, "usage: aml_load FILE.csv\n");
        return 2;
    }
    t0 = now();
    if (aml_frame_read_csv(&f, argv[1], NULL) != 0) {
        fprintf(stderr, "aml_load: %s\n", aml_error_message());
        return 1;
    }
    t1 = now();
    getrusage(RUSAGE_SELF, &ru);
    printf("rows=%zu cols=%zu seconds=%.4f peak_rss_bytes=%ld\n", aml_frame_rows(f),
           aml_frame_cols(f), t1 - t0, ru.ru_maxrss * 1024L);
    aml_frame_free(f);
    return 0;
}
