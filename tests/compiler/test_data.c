/* back/data and back/bundle: CSV and IDX data sets, their errors with file
 * and line, and ciphertext bundles against hostile bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "back/bundle.h"
#include "back/data.h"

static char dir[64];
static char err[512];

static int
make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hnn-test-data-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int
remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *
write_bytes(const char *name, const void *bytes, size_t len)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return path;
}

static const char *
write_text(const char *name, const char *text)
{
    return write_bytes(name, text, strlen(text));
}

static const hnn_data_options opt4 = {.width = 4, .lo = -10, .hi = 10};

/* Loads text as CSV with opt; returns the status, the message in err. */
static int
load_text(const char *text, const hnn_data_options *opt, hnn_data *d)
{
    const char *path = write_text("d.csv", text);
    err[0] = '\0';
    return hnn_data_load(path, opt, d, err, sizeof err);
}

static void
expect_error(const char *text, const hnn_data_options *opt, const char *want)
{
    hnn_data d;
    assert_int_equal(load_text(text, opt, &d), -1);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    assert_null(d.x);
}

static void
csv_numbers_header_and_names(void **state)
{
    (void)state;
    hnn_data d;
    assert_int_equal(load_text("sepal_l,sepal_w,petal_l,petal_w,species\n"
                               "5.1,3.5,1.4,0.2,Iris-setosa\r\n"
                               "\n# a comment\n"
                               "7.0,3.2,4.7,1.4,Iris-versicolor\n"
                               "6.3, 3.3, 6.0, 2.5 ,\"Iris-virginica\"\n"
                               "4.9,3.0,1.4,0.2,Iris-setosa",
                               &opt4, &d),
                     0);
    assert_int_equal(d.n_samples, 4);
    assert_int_equal(d.n_features, 4);
    assert_true(d.x[4] == 7.0 && d.x[11] == 2.5 && d.x[15] == 0.2);
    assert_non_null(d.label);
    assert_int_equal(d.n_class_names, 3);
    assert_string_equal(d.class_names[0], "Iris-setosa");
    assert_string_equal(d.class_names[2], "Iris-virginica");
    assert_true(d.label[0] == 0 && d.label[1] == 1 && d.label[2] == 2 && d.label[3] == 0);
    assert_int_equal(d.out_of_range, 0);
    hnn_data_free(&d);

    /* class indices, no header, a limit, values beyond the range counted */
    hnn_data_options o = opt4;
    o.limit = 2;
    o.hi = 1;
    assert_int_equal(load_text("0.5,0.25,-1,1,2\n0,0,0,3,1\n1,1,1,1,0\n", &o, &d), 0);
    assert_int_equal(d.n_samples, 2);
    assert_true(d.label[0] == 2 && d.label[1] == 1);
    assert_int_equal(d.n_class_names, 0);
    assert_int_equal(d.out_of_range, 1);
    hnn_data_free(&d);

    /* no labels at all */
    assert_int_equal(load_text("1,2,3,4\n5,6,7,8\n", &opt4, &d), 0);
    assert_int_equal(d.n_samples, 2);
    assert_null(d.label);
    hnn_data_free(&d);
}

static void
csv_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_error("1,2,3,4,0\n1,2,3,0\n", &opt4, "d.csv:2: 4 fields where line 1 has 5");
    expect_error("1,2,3\n", &opt4, "d.csv:1: 3 fields; the model's input takes 4");
    expect_error("1,2,3,4,5,6\n", &opt4, "d.csv:1: 6 fields");
    expect_error("a,b,c,d,e\n1,2,3,4,0\n1,x,3,4,0\n", &opt4, "d.csv:3: field 2 ('x') is not a number");
    expect_error("1,2,3,4,0\n1,2,3,4,cat\n", &opt4, "d.csv:2: label 'cat' is a name, but line 1's is a number");
    expect_error("1,2,3,4,0.5\n", &opt4, "d.csv:1: label '0.5' is not a class index");
    expect_error("1,2,3,4,-1\n", &opt4, "not a class index");
    expect_error("1,2,3,4,\n", &opt4, "d.csv:1: the label (field 5) is empty");
    expect_error("1,2,inf,4,0\n1,2,3,4,0\n", &opt4, "d.csv:1: field 3 ('inf') is not a number");
    expect_error("x,2,3,4,0\n", &opt4, "d.csv:1: field 1 ('x') is not a number");
    expect_error("h1,h2,h3,h4\n", &opt4, "d.csv: no samples");
    expect_error("", &opt4, "no samples");
    hnn_data_options o = opt4;
    o.labels = "l.idx";
    expect_error("1,2,3,4\n", &o, "--labels is for IDX images");
    hnn_data d;
    err[0] = '\0';
    char missing[128];
    snprintf(missing, sizeof missing, "%s/absent.csv", dir);
    assert_int_equal(hnn_data_load(missing, &opt4, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "absent.csv: cannot open"));
}

/* An IDX file of unsigned bytes: magic, dims, then data. */
static size_t
idx_bytes(uint8_t *out, unsigned type, unsigned nd, const uint32_t *dims, const uint8_t *data, size_t n)
{
    size_t at = 0;
    out[at++] = 0;
    out[at++] = 0;
    out[at++] = (uint8_t)type;
    out[at++] = (uint8_t)nd;
    for (unsigned i = 0; i < nd; i++) {
        out[at++] = (uint8_t)(dims[i] >> 24);
        out[at++] = (uint8_t)(dims[i] >> 16);
        out[at++] = (uint8_t)(dims[i] >> 8);
        out[at++] = (uint8_t)dims[i];
    }
    memcpy(out + at, data, n);
    return at + n;
}

static void
idx_images_labels_and_scaling(void **state)
{
    (void)state;
    uint8_t buf[256], px[12] = {0, 255, 51, 102, 0, 0, 0, 0, 255, 255, 255, 255};
    uint32_t dims[3] = {3, 2, 2}, ldims[1] = {3};
    uint8_t labels[3] = {7, 0, 9};
    const char *img = write_bytes("img.idx", buf, idx_bytes(buf, 8, 3, dims, px, 12));
    char img_path[256];
    snprintf(img_path, sizeof img_path, "%s", img);
    const char *lab = write_bytes("lab.idx", buf, idx_bytes(buf, 8, 1, ldims, labels, 3));
    char lab_path[256];
    snprintf(lab_path, sizeof lab_path, "%s", lab);

    hnn_data d;
    hnn_data_options o = {.width = 4, .lo = 0, .hi = 1, .labels = lab_path};
    assert_int_equal(hnn_data_load(img_path, &o, &d, err, sizeof err), 0);
    assert_int_equal(d.n_samples, 3);
    assert_string_equal(d.format, "idx");
    /* pixels p / 255 into [0, 1] */
    assert_true(d.x[0] == 0.0 && d.x[1] == 1.0 && d.x[2] == 0.2 && d.x[3] == 0.4);
    assert_true(d.label[0] == 7 && d.label[2] == 9);
    hnn_data_free(&d);
    /* ... and into [-1, 1]: 0 -> -1, 255 -> 1 */
    o.lo = -1;
    o.limit = 1;
    o.labels = NULL;
    assert_int_equal(hnn_data_load(img_path, &o, &d, err, sizeof err), 0);
    assert_int_equal(d.n_samples, 1);
    assert_true(d.x[0] == -1.0 && d.x[1] == 1.0);
    assert_null(d.label);
    hnn_data_free(&d);

    /* wrong width, count mismatches, bad magic, truncation, gzip */
    o = (hnn_data_options){.width = 9, .lo = 0, .hi = 1};
    assert_int_equal(hnn_data_load(img_path, &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "items of 2x2 = 4 values; the model's input takes 9"));
    o.width = 4;
    uint32_t ldims2[1] = {2};
    snprintf(lab_path, sizeof lab_path, "%s", write_bytes("lab2.idx", buf, idx_bytes(buf, 8, 1, ldims2, labels, 2)));
    o.labels = lab_path;
    assert_int_equal(hnn_data_load(img_path, &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "2 labels for the 3 images"));
    o.labels = NULL;
    const char *cut = write_bytes("cut.idx", buf, idx_bytes(buf, 8, 3, dims, px, 11));
    assert_int_equal(hnn_data_load(cut, &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "11 bytes of data; the header announces 3 items of 4 bytes"));
    const char *flt = write_bytes("f.idx", buf, idx_bytes(buf, 0x0d, 3, dims, px, 12));
    assert_int_equal(hnn_data_load(flt, &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "element type 0x0d"));
    uint8_t gz[4] = {0x1f, 0x8b, 8, 0};
    const char *gzp = write_bytes("cut-images.gz", gz, 4);
    assert_int_equal(hnn_data_load(gzp, &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "cut-images.gz: "));
    uint32_t huge[3] = {0xffffffffu, 0xffffu, 0xffffu};
    const char *big = write_bytes("big.idx", buf, idx_bytes(buf, 8, 3, huge, px, 12));
    o.width = 0xffffu * 0xffffu;
    assert_int_equal(hnn_data_load(big, &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "announces"));
}

static const char *
write_gzip(const char *name, const void *bytes, size_t len)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, bytes, (unsigned)len), (int)len);
    assert_int_equal(gzclose(f), Z_OK);
    return path;
}

/* MNIST ships gzip-compressed: such files read as their inflated bytes, and
 * a damaged stream is an error, not a short data set. */
static void
gzip_files_inflate(void **state)
{
    (void)state;
    uint8_t buf[256], px[12] = {0, 255, 51, 102, 0, 0, 0, 0, 255, 255, 255, 255};
    uint32_t dims[3] = {3, 2, 2}, ldims[1] = {3};
    uint8_t labels[3] = {7, 0, 9};
    size_t n_img = idx_bytes(buf, 8, 3, dims, px, 12);
    char img_path[256];
    snprintf(img_path, sizeof img_path, "%s", write_gzip("img-idx3-ubyte.gz", buf, n_img));
    char lab_path[256];
    snprintf(lab_path, sizeof lab_path, "%s", write_gzip("lab-idx1-ubyte.gz", buf, idx_bytes(buf, 8, 1, ldims, labels, 3)));
    hnn_data d;
    hnn_data_options o = {.width = 4, .lo = 0, .hi = 1, .labels = lab_path};
    assert_int_equal(hnn_data_load(img_path, &o, &d, err, sizeof err), 0);
    assert_int_equal(d.n_samples, 3);
    assert_true(d.x[1] == 1.0 && d.x[2] == 0.2 && d.label[2] == 9);
    hnn_data_free(&d);

    const char *csv = "a,b,c,d,label\n1,2,3,4,0\n5,6,7,8,1\n";
    const char *csv_gz = write_gzip("rows.csv.gz", csv, strlen(csv));
    assert_int_equal(hnn_data_load(csv_gz, &opt4, &d, err, sizeof err), 0);
    assert_int_equal(d.n_samples, 2);
    assert_true(d.x[7] == 8.0 && d.label[1] == 1);
    hnn_data_free(&d);

    /* the compressed image file cut in the middle of its stream */
    FILE *f = fopen(img_path, "rb");
    assert_non_null(f);
    uint8_t z[256];
    size_t zn = fread(z, 1, sizeof z, f);
    fclose(f);
    const char *cut = write_bytes("cut-idx3-ubyte.gz", z, zn / 2);
    o.labels = NULL;
    assert_int_equal(hnn_data_load(cut, &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "cut-idx3-ubyte.gz: read error"));
}

/* ------------------------------------------------------------------ bundles */

static size_t
bundle_bytes(uint8_t *b, uint32_t groups, uint32_t per, uint64_t samples, uint32_t gs, size_t n_items,
             const uint64_t *lens)
{
    memset(b, 0, HNN_BUNDLE_HEADER_BYTES);
    memcpy(b, "HNNB", 4);
    b[4] = 1;
    b[6] = HNN_BUNDLE_INPUTS;
    memcpy(b + 16, &groups, 4); /* the tests run on little-endian machines */
    memcpy(b + 20, &per, 4);
    memcpy(b + 24, &samples, 8);
    memcpy(b + 32, &gs, 4);
    size_t at = HNN_BUNDLE_HEADER_BYTES;
    for (size_t i = 0; i < n_items; i++) {
        memcpy(b + at, &lens[i], 8);
        at += 8;
        memset(b + at, 0xab, lens[i]);
        at += lens[i];
    }
    return at;
}

static void
expect_bundle_error(const uint8_t *b, size_t len, const char *want)
{
    hnn_bundle bun;
    err[0] = '\0';
    assert_int_equal(hnn_bundle_parse(b, len, &bun, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void
bundle_parse_hostile(void **state)
{
    (void)state;
    static uint8_t b[4096];
    uint64_t lens[3] = {30, 40, 24};
    size_t len = bundle_bytes(b, 3, 1, 5, 2, 3, lens);
    hnn_bundle bun;
    assert_int_equal(hnn_bundle_parse(b, len, &bun, err, sizeof err), 0);
    assert_int_equal(bun.n, 3);
    assert_int_equal(bun.size[1], 40);
    assert_int_equal(bun.off[0], HNN_BUNDLE_HEADER_BYTES + 8);
    assert_int_equal(bun.off[2], HNN_BUNDLE_HEADER_BYTES + 8 + 30 + 8 + 40 + 8);
    assert_int_equal(bun.h.samples, 5);
    hnn_bundle_free(&bun);

    expect_bundle_error((const uint8_t *)"HNRT", 4, "bad magic");
    expect_bundle_error(b, 20, "truncated");
    for (size_t cut = HNN_BUNDLE_HEADER_BYTES; cut < len; cut += 7)
        expect_bundle_error(b, cut, "truncated");
    b[len] = 0;
    expect_bundle_error(b, len + 1, "after the last ciphertext");
    uint8_t c[4096];
    memcpy(c, b, len);
    c[4] = 2;
    expect_bundle_error(c, len, "version 2");
    memcpy(c, b, len);
    c[6] = 9;
    expect_bundle_error(c, len, "unknown stage 9");
    /* counts: a huge count refused from the bytes present, before allocating */
    len = bundle_bytes(c, 0x7fffffffu, 0x7fffffffu, 1, 1, 3, lens);
    expect_bundle_error(c, len, "announced");
    len = bundle_bytes(c, 0, 1, 1, 1, 3, lens);
    expect_bundle_error(c, len, "0 groups");
    len = bundle_bytes(c, 3, 1, 7, 2, 3, lens);
    expect_bundle_error(c, len, "7 samples in 3 groups of 2");
    len = bundle_bytes(c, 3, 1, 4, 2, 3, lens);
    expect_bundle_error(c, len, "4 samples in 3 groups of 2");
    uint64_t short_lens[3] = {60, 10, 24};
    len = bundle_bytes(c, 3, 1, 5, 2, 3, short_lens);
    expect_bundle_error(c, len, "corrupt: ciphertext 1 announces 10 bytes");
    uint64_t long_lens[3] = {30, 40, 24};
    len = bundle_bytes(c, 3, 1, 5, 2, 3, long_lens);
    uint64_t huge = UINT64_MAX - 3;
    memcpy(c + HNN_BUNDLE_HEADER_BYTES, &huge, 8);
    expect_bundle_error(c, len, "truncated: ciphertext 0 announces");
    double nan = -1.0;
    len = bundle_bytes(c, 3, 1, 5, 2, 3, lens);
    memcpy(c + 40, &nan, 8);
    expect_bundle_error(c, len, "scale");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_numbers_header_and_names),
        cmocka_unit_test(csv_errors_name_file_and_line),
        cmocka_unit_test(idx_images_labels_and_scaling),
        cmocka_unit_test(gzip_files_inflate),
        cmocka_unit_test(bundle_parse_hostile),
    };
    return cmocka_run_group_tests_name("back/data", tests, make_dir, remove_dir);
}
