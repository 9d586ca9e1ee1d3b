#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "back/data.h"

/* Larger inputs are refused rather than half-read: MNIST's training images
 * are 47 MB, so this leaves room for data sets 20 times that size. */
#define DATA_MAX_BYTES ((size_t)1 << 30)

static int
data_fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
data_fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* The whole file, NUL-terminated (CSV lines are parsed in place). gzip
 * files are inflated on the way (zlib reads plain files unchanged), and the
 * size limit applies to the inflated bytes, so a small hostile archive
 * cannot expand without bound. */
static int
read_all(const char *path, char **buf, size_t *len, char *err, size_t err_len)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return data_fail(err, err_len, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    int got = 0;
    while (b) {
        if (n + 1 >= cap) {
            if (cap >= DATA_MAX_BYTES) {
                free(b);
                gzclose(f);
                return data_fail(err, err_len, "%s: larger than %zu MiB", path, DATA_MAX_BYTES >> 20);
            }
            char *g = realloc(b, 2 * cap);
            if (!g) {
                free(b);
                b = NULL;
                break;
            }
            b = g;
            cap *= 2;
        }
        size_t want = cap - 1 - n;
        got = gzread(f, b + n, want > INT_MAX ? INT_MAX : (unsigned)want);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    /* A stream cut short ends like a file, with Z_BUF_ERROR left behind. */
    char why[128] = "";
    int code = Z_OK;
    const char *msg = gzerror(f, &code);
    if (code != Z_OK)
        snprintf(why, sizeof why, "%s", code == Z_ERRNO ? strerror(errno) : msg);
    gzclose(f);
    if (!b)
        return data_fail(err, err_len, "%s: out of memory", path);
    if (got < 0 || code != Z_OK) {
        free(b);
        return data_fail(err, err_len, "%s: read error: %s", path, why);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

void
hnn_data_free(hnn_data *d)
{
    free(d->x);
    free(d->label);
    for (uint32_t i = 0; i < d->n_class_names; i++)
        free(d->class_names[i]);
    free(d->class_names);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------ CSV */

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    /* A quoted field ("Iris-setosa") is its content: CSV writers quote names. */
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

/* A finite number filling the whole field. */
static bool
parse_number(const char *s, double *v)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && errno != ERANGE && isfinite(*v);
}

/* Splits line at commas into at most max fields (the rest counted); returns
 * the field count. */
static size_t
split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    for (char *p = line;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (n < max)
            fields[n] = trim(p);
        n++;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static int
add_class_name(hnn_data *d, const char *name, int64_t *index)
{
    for (uint32_t i = 0; i < d->n_class_names; i++)
        if (strcmp(d->class_names[i], name) == 0) {
            *index = i;
            return 0;
        }
    char **g = realloc(d->class_names, (d->n_class_names + 1) * sizeof *g);
    if (!g)
        return -1;
    d->class_names = g;
    if (!(g[d->n_class_names] = strdup(name)))
        return -1;
    *index = d->n_class_names++;
    return 0;
}

int
hnn_data_load_csv(const char *path, const hnn_data_options *opt, hnn_data *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (opt->labels)
        return data_fail(err, err_len,
                         "%s: a CSV file carries its labels in the last column; --labels is for IDX images", path);
    char *buf;
    size_t len;
    if (read_all(path, &buf, &len, err, err_len))
        return -1;
    uint32_t w = opt->width;
    char **fields = malloc(((size_t)w + 2) * sizeof *fields);
    hnn_data *d = out;
    d->n_features = w;
    d->format = "csv";
    size_t cap = 0, line_no = 0, row_fields = 0, first_row_line = 0;
    bool seen_first = false;
    int label_kind = 0; /* 0 unknown, 1 class indices, 2 names */
    int rc = fields ? 0 : data_fail(err, err_len, "%s: out of memory", path);
    if (rc == 0 && memchr(buf, '\0', len))
        rc = data_fail(err, err_len, "%s: not a text file (a NUL byte); IDX files start with two zero bytes", path);
    for (char *p = buf, *next; rc == 0 && p < buf + len; p = next) {
        char *nl = memchr(p, '\n', (size_t)(buf + len - p));
        next = nl ? nl + 1 : buf + len;
        if (nl)
            *nl = '\0';
        line_no++;
        char *line = trim(p);
        if (!*line || *line == '#')
            continue;
        size_t nf = split(line, fields, (size_t)w + 2);
        if (nf != w && nf != (size_t)w + 1) {
            rc = data_fail(err, err_len, "%s:%zu: %zu field%s; the model's input takes %u (and an optional label last)",
                           path, line_no, nf, nf == 1 ? "" : "s", w);
            break;
        }
        /* A header: a first line none of whose feature fields is a number
         * (a first row with one bad field is an error, not a header). */
        double v;
        size_t bad = 0, numbers = 0;
        while (bad < w && parse_number(fields[bad], &v))
            bad++;
        for (size_t k = bad; k < w; k++)
            numbers += parse_number(fields[k], &v);
        if (!seen_first && bad == 0 && numbers == 0) {
            seen_first = true;
            continue;
        }
        seen_first = true;
        if (row_fields == 0) {
            row_fields = nf;
            first_row_line = line_no;
        } else if (nf != row_fields) {
            rc = data_fail(err, err_len, "%s:%zu: %zu fields where line %zu has %zu", path, line_no, nf,
                           first_row_line, row_fields);
            break;
        }
        if (bad < w) {
            rc = data_fail(err, err_len, "%s:%zu: field %zu ('%s') is not a number", path, line_no, bad + 1,
                           fields[bad]);
            break;
        }
        if (opt->limit && d->n_samples == opt->limit)
            break;
        if (d->n_samples == cap) {
            size_t nc = cap ? 2 * cap : 256;
            double *x = realloc(d->x, nc * w * sizeof *x);
            if (x)
                d->x = x;
            int64_t *l = nf > w ? realloc(d->label, nc * sizeof *l) : NULL;
            if (l)
                d->label = l;
            if (!x || (nf > w && !l)) {
                rc = data_fail(err, err_len, "%s: out of memory", path);
                break;
            }
            cap = nc;
        }
        double *row = d->x + d->n_samples * w;
        for (uint32_t k = 0; k < w; k++) {
            parse_number(fields[k], &row[k]);
            if (row[k] < opt->lo || row[k] > opt->hi)
                d->out_of_range++;
        }
        if (nf > w) {
            const char *lab = fields[w];
            int kind = parse_number(lab, &v) ? 1 : 2;
            if (!*lab) {
                rc = data_fail(err, err_len, "%s:%zu: the label (field %u) is empty", path, line_no, w + 1);
                break;
            }
            if (label_kind && kind != label_kind) {
                rc = data_fail(err, err_len, "%s:%zu: label '%s' is %s, but line %zu's is %s", path, line_no, lab,
                               kind == 1 ? "a number" : "a name", first_row_line,
                               label_kind == 1 ? "a number" : "a name");
                break;
            }
            label_kind = kind;
            if (kind == 1 && (v < 0 || v != floor(v) || v > 1e9)) {
                rc = data_fail(err, err_len, "%s:%zu: label '%s' is not a class index (0, 1, 2, ...)", path, line_no,
                               lab);
                break;
            }
            if (kind == 1)
                d->label[d->n_samples] = (int64_t)v;
            else if (add_class_name(d, lab, &d->label[d->n_samples])) {
                rc = data_fail(err, err_len, "%s: out of memory", path);
                break;
            }
        }
        d->n_samples++;
    }
    if (rc == 0 && d->n_samples == 0)
        rc = data_fail(err, err_len, "%s: no samples", path);
    free(fields);
    free(buf);
    if (rc)
        hnn_data_free(d);
    return rc;
}

/* ------------------------------------------------------------------ IDX */

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The header of an IDX file of unsigned bytes: count and the values per
 * item (the product of the other dimensions), checked against the size. */
static int
idx_header(const char *path, const uint8_t *b, size_t len, unsigned want_dims, size_t *count, size_t *per_item,
           char *dims_text, size_t dims_len, char *err, size_t err_len)
{
    if (len < 4 || b[0] != 0 || b[1] != 0)
        return data_fail(err, err_len, "%s: not an IDX file (bad magic)", path);
    if (b[2] != 0x08)
        return data_fail(err, err_len, "%s: IDX element type 0x%02x; only unsigned bytes (0x08) are read", path, b[2]);
    unsigned nd = b[3];
    if (want_dims == 1 ? nd != 1 : nd < 2)
        return data_fail(err, err_len, "%s: %u dimension%s; %s", path, nd, nd == 1 ? "" : "s",
                         want_dims == 1 ? "a label file has 1 (magic 0x00000801)"
                                        : "an image file has at least 2 (magic 0x00000803: count, rows, cols)");
    size_t head = 4 + 4 * (size_t)nd;
    if (len < head)
        return data_fail(err, err_len, "%s: truncated header (%zu bytes, %zu needed)", path, len, head);
    *count = be32(b + 4);
    size_t per = 1, used = 0;
    dims_text[0] = '\0';
    for (unsigned i = 1; i < nd; i++) {
        uint32_t dim = be32(b + 4 + 4 * i);
        if (dim == 0 || per > ((size_t)1 << 32) / dim)
            return data_fail(err, err_len, "%s: dimension %u is %u", path, i, dim);
        per *= dim;
        if (used < dims_len)
            used += (size_t)snprintf(dims_text + used, dims_len - used, "%s%u", i > 1 ? "x" : "", dim);
    }
    *per_item = per;
    if (*count == 0)
        return data_fail(err, err_len, "%s: the header announces no items", path);
    if ((len - head) / per < *count || (len - head) % per || (len - head) / per != *count)
        return data_fail(err, err_len, "%s: %zu bytes of data; the header announces %zu items of %zu bytes", path,
                         len - head, *count, per);
    return 0;
}

int
hnn_data_load_idx(const char *path, const hnn_data_options *opt, hnn_data *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    char *buf = NULL, *lbuf = NULL;
    size_t len, llen, count, per, lcount = 0, lper;
    char dims[64], ldims[64];
    if (read_all(path, &buf, &len, err, err_len))
        return -1;
    int rc = idx_header(path, (const uint8_t *)buf, len, 3, &count, &per, dims, sizeof dims, err, err_len);
    if (rc == 0 && per != opt->width)
        rc = data_fail(err, err_len, "%s: items of %s = %zu values; the model's input takes %u", path, dims, per,
                       opt->width);
    if (rc == 0 && opt->labels) {
        rc = read_all(opt->labels, &lbuf, &llen, err, err_len);
        if (rc == 0)
            rc = idx_header(opt->labels, (const uint8_t *)lbuf, llen, 1, &lcount, &lper, ldims, sizeof ldims, err,
                            err_len);
        if (rc == 0 && lcount != count)
            rc = data_fail(err, err_len, "%s: %zu labels for the %zu images of %s", opt->labels, lcount, count, path);
    }
    size_t n = opt->limit && opt->limit < count ? opt->limit : count;
    if (rc == 0) {
        out->x = malloc(n * per * sizeof *out->x);
        out->label = lbuf ? malloc(n * sizeof *out->label) : NULL;
        if (!out->x || (lbuf && !out->label))
            rc = data_fail(err, err_len, "%s: out of memory", path);
    }
    if (rc == 0) {
        const uint8_t *px = (const uint8_t *)buf + 4 + 4 * (size_t)(uint8_t)buf[3];
        /* pixels 0..255 onto the model's input range, 0 -> lo, 255 -> hi */
        for (size_t i = 0; i < n * per; i++)
            out->x[i] = opt->lo + (opt->hi - opt->lo) * (double)px[i] / 255.0;
        for (size_t i = 0; lbuf && i < n; i++)
            out->label[i] = (uint8_t)lbuf[8 + i];
        out->n_samples = n;
        out->n_features = opt->width;
        out->format = "idx";
    }
    free(buf);
    free(lbuf);
    if (rc)
        hnn_data_free(out);
    return rc;
}

int
hnn_data_load(const char *path, const hnn_data_options *opt, hnn_data *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    gzFile f = gzopen(path, "rb");
    if (!f)
        return data_fail(err, err_len, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    uint8_t head[2] = {0xff, 0xff};
    int got = gzread(f, head, 2);
    gzclose(f);
    if (got == 2 && head[0] == 0 && head[1] == 0)
        return hnn_data_load_idx(path, opt, out, err, err_len);
    return hnn_data_load_csv(path, opt, out, err, err_len);
}
