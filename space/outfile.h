/*
 * outfile.h - whole-or-nothing output files (model, C source, predictions,
 * report).
 *
 * An output is written to a temporary file beside the file it replaces and
 * renamed over it, so a reader never sees half a file.  A rename replaces
 * whatever directory entry is there, so the target is checked first: a path
 * that does not exist or names a regular file is replaced; a symbolic link is
 * followed and the file it resolves to is replaced (the link stays a link);
 * anything else (FIFO, device, directory, socket) is refused with AML_EINVAL,
 * and nothing is written.
 */
#ifndef AML_OUTFILE_H
#define AML_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

/* One output being written: open, write to f, then commit or abort. */
typedef struct aml_outfile {
    char *path;   /* the path as given, for messages */
    char *target; /* the regular file to replace (a symlink resolved) */
    char *tmp;    /* target + ".tmp<pid>", renamed onto target */
    FILE *f;
} aml_outfile;

/*
 * Resolves the file an output to path replaces into *target (malloc'd), or
 * fails with AML_EINVAL and a message naming path when it is not a regular
 * file (or a link to one, or a path that does not exist yet).
 */
int aml_outfile_target(const char *path, char **target);

/* The temporary name aml_outfile_open uses for path, for signal handlers. */
int aml_outfile_tmp_name(const char *path, char *buf, size_t n);

/* Checks path (aml_outfile_target) and opens its temporary file. */
int aml_outfile_open(aml_outfile *o, const char *path);

/*
 * Flushes (and with sync, fsyncs) and closes the temporary file, then renames
 * it onto the target; on any failure removes it and fails with AML_EIO.
 * Always releases o.
 */
int aml_outfile_commit(aml_outfile *o, int sync);

/* Removes the temporary file and releases o; no-op on a zeroed o. */
void aml_outfile_abort(aml_outfile *o);

/* Writes len bytes to path through the above. */
int aml_outfile_write(const char *path, const void *data, size_t len, int sync);

#endif /* AML_OUTFILE_H */
