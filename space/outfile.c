/*
 * outfile.c - whole-or-nothing output files (see outfile.h).
 *
 * The check is lstat, then (for a link) realpath and stat of what it names:
 * a race between the check and the rename can at worst replace what a
 * concurrent process put there, the same as any `mv`.  The temporary file is
 * created beside the target, not beside the link, so the rename stays on one
 * file system.
 */
#define _DEFAULT_SOURCE
#include "outfile.h"

#include "aml.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *outfile_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

static int outfile_refuse(const char *path, mode_t m)
{
    return aml_error_set(AML_EINVAL,
                         "%s is %s: only a regular file can be replaced by an output",
                         path, outfile_kind(m));
}

int aml_outfile_target(const char *path, char **target)
{
    struct stat st;
    char *real;

    *target = NULL;
    if (lstat(path, &st) != 0 || S_ISREG(st.st_mode)) {
        /* Missing (the open reports a bad directory) or regular: replace it. */
        *target = aml_malloc(strlen(path) + 1);
        return *target ? (strcpy(*target, path), AML_OK) : AML_ENOMEM;
    }
    if (!S_ISLNK(st.st_mode))
        return outfile_refuse(path, st.st_mode);
    if (!(real = realpath(path, NULL)))
        return aml_error_set(AML_EINVAL,
                             "%s is a symbolic link that does not resolve (%s): "
                             "refusing to write through it",
                             path, strerror(errno));
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
        int rc = aml_error_set(AML_EINVAL,
                               "%s is a symbolic link to %s, which is %s: only a "
                               "regular file can be replaced by an output",
                               path, real, outfile_kind(st.st_mode));

        free(real);
        return rc;
    }
    *target = real;
    return AML_OK;
}

int aml_outfile_tmp_name(const char *path, char *buf, size_t n)
{
    char *target;
    int rc, len;

    if ((rc = aml_outfile_target(path, &target)) < 0)
        return rc;
    len = snprintf(buf, n, "%s.tmp%ld", target, (long)getpid());
    free(target);
    if (len < 0 || (size_t)len >= n)
        return aml_error_set(AML_EINVAL, "%s: path too long", path);
    return AML_OK;
}

void aml_outfile_abort(aml_outfile *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    free(o->path);
    free(o->target);
    free(o->tmp);
    memset(o, 0, sizeof(*o));
}

int aml_outfile_open(aml_outfile *o, const char *path)
{
    size_t n;
    int rc;

    memset(o, 0, sizeof(*o));
    if ((rc = aml_outfile_target(path, &o->target)) < 0)
        return rc;
    n = strlen(o->target) + 32;
    if (!(o->path = aml_malloc(strlen(path) + 1)) || !(o->tmp = aml_malloc(n))) {
        aml_outfile_abort(o);
        return AML_ENOMEM;
    }
    strcpy(o->path, path);
    snprintf(o->tmp, n, "%s.tmp%ld", o->target, (long)getpid());
    if (!(o->f = fopen(o->tmp, "wb"))) {
        rc = aml_error_set(AML_EIO, "%s: %s", path, strerror(errno));
        free(o->tmp); /* nothing was created: do not unlink a stranger's file */
        o->tmp = NULL;
        aml_outfile_abort(o);
        return rc;
    }
    return AML_OK;
}

/* The first failure's errno, kept through the later steps. */
static void outfile_step(int ok, int *err)
{
    if (!ok && !*err)
        *err = errno ? errno : EIO;
}

int aml_outfile_commit(aml_outfile *o, int sync)
{
    int err = ferror(o->f) ? EIO : 0;

    errno = 0;
    outfile_step(fflush(o->f) == 0, &err);
    if (sync)
        outfile_step(fsync(fileno(o->f)) == 0, &err);
    outfile_step(fclose(o->f) == 0, &err);
    o->f = NULL;
    if (!err)
        outfile_step(rename(o->tmp, o->target) == 0, &err);
    if (!err) {
        free(o->tmp); /* renamed: nothing to remove */
        o->tmp = NULL;
    } else
        aml_error_set(AML_EIO, "%s: %s", o->path, strerror(err));
    aml_outfile_abort(o);
    return err ? AML_EIO : AML_OK;
}

int aml_outfile_write(const char *path, const void *data, size_t len, int sync)
{
    aml_outfile o;
    int rc;

    if ((rc = aml_outfile_open(&o, path)) < 0)
        return rc;
    if (len && fwrite(data, 1, len, o.f) != len) {
        rc = aml_error_set(AML_EIO, "%s: %s", path, strerror(errno));
        aml_outfile_abort(&o);
        return rc;
    }
    return aml_outfile_commit(&o, sync);
}
