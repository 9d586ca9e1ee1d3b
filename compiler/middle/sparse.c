/* CSR helpers for the tensor IR: see sparse.h. */
#include "middle/sparse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"

hnn_sparse
hnn_sparse_alloc(hnn_arena *arena, uint32_t rows, uint32_t cols, size_t cap)
{
    hnn_sparse m = {.rows = rows, .cols = cols, .nnz = 0};
    m.row_start = hnn_arena_array(arena, (size_t)rows + 1, sizeof *m.row_start);
    m.col = hnn_arena_array(arena, cap ? cap : 1, sizeof *m.col);
    m.val = hnn_arena_array(arena, cap ? cap : 1, sizeof *m.val);
    return m;
}

static void *
hnn_sparse_xmalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        hnn_fatal_oom();
    size_t bytes = n * size;
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        hnn_fatal_oom();
    return p;
}

static int
hnn_sparse_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

hnn_sparse
hnn_sparse_from_triplets(hnn_arena *arena, uint32_t rows, uint32_t cols, size_t n, const uint32_t *row,
                         const uint32_t *col, const double *val)
{
    /* Counting sort by row; within a row, duplicates meet in a dense
     * accumulator and the distinct columns are sorted: O(n log n + rows + cols). */
    size_t *start = hnn_sparse_xmalloc((size_t)rows + 1, sizeof *start);
    size_t *order = hnn_sparse_xmalloc(n, sizeof *order);
    memset(start, 0, ((size_t)rows + 1) * sizeof *start);
    for (size_t k = 0; k < n; k++) {
        if (row[k] >= rows || col[k] >= cols)
            hnn_bug("sparse triplet out of range");
        start[row[k] + 1]++;
    }
    for (uint32_t r = 0; r < rows; r++)
        start[r + 1] += start[r];
    size_t *fill = hnn_sparse_xmalloc((size_t)rows + 1, sizeof *fill);
    memcpy(fill, start, ((size_t)rows + 1) * sizeof *fill);
    for (size_t k = 0; k < n; k++)
        order[fill[row[k]]++] = k;
    free(fill);

    double *acc = hnn_sparse_xmalloc(cols, sizeof *acc);
    size_t *mark = hnn_sparse_xmalloc(cols, sizeof *mark);
    uint32_t *cols_seen = hnn_sparse_xmalloc(cols, sizeof *cols_seen);
    for (uint32_t c = 0; c < cols; c++)
        mark[c] = SIZE_MAX;
    hnn_sparse m = hnn_sparse_alloc(arena, rows, cols, n);
    for (uint32_t r = 0; r < rows; r++) {
        uint32_t seen = 0;
        for (size_t k = start[r]; k < start[r + 1]; k++) {
            size_t t = order[k];
            uint32_t c = col[t];
            if (mark[c] != r) {
                mark[c] = r;
                acc[c] = 0;
                cols_seen[seen++] = c;
            }
            acc[c] += val[t];
        }
        qsort(cols_seen, seen, sizeof *cols_seen, hnn_sparse_cmp_u32);
        for (uint32_t i = 0; i < seen; i++) {
            uint32_t c = cols_seen[i];
            if (acc[c] != 0) {
                m.col[m.nnz] = c;
                m.val[m.nnz++] = acc[c];
            }
        }
        m.row_start[r + 1] = m.nnz;
    }
    free(acc);
    free(mark);
    free(cols_seen);
    free(order);
    free(start);
    return m;
}

hnn_sparse
hnn_sparse_identity(hnn_arena *arena, uint32_t n)
{
    hnn_sparse m = hnn_sparse_alloc(arena, n, n, n);
    for (uint32_t i = 0; i < n; i++) {
        m.col[i] = i;
        m.val[i] = 1;
        m.row_start[i + 1] = i + 1;
    }
    m.nnz = n;
    return m;
}

hnn_sparse
hnn_sparse_diagonal(hnn_arena *arena, uint32_t n, const double *d)
{
    hnn_sparse m = hnn_sparse_alloc(arena, n, n, n);
    for (uint32_t i = 0; i < n; i++) {
        if (d[i] != 0) {
            m.col[m.nnz] = i;
            m.val[m.nnz++] = d[i];
        }
        m.row_start[i + 1] = m.nnz;
    }
    return m;
}

bool
hnn_sparse_is_diagonal(const hnn_sparse *m)
{
    if (m->rows != m->cols)
        return false;
    for (uint32_t r = 0; r < m->rows; r++)
        for (size_t k = m->row_start[r]; k < m->row_start[r + 1]; k++)
            if (m->col[k] != r)
                return false;
    return true;
}

bool
hnn_sparse_is_identity(const hnn_sparse *m)
{
    if (m->rows != m->cols || m->nnz != m->rows)
        return false;
    for (uint32_t r = 0; r < m->rows; r++)
        if (m->row_start[r] != r || m->col[r] != r || m->val[r] != 1)
            return false;
    return true;
}

double
hnn_sparse_get(const hnn_sparse *m, uint32_t r, uint32_t c)
{
    size_t lo = m->row_start[r], hi = m->row_start[r + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->col[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->row_start[r + 1] && m->col[lo] == c ? m->val[lo] : 0;
}

size_t
hnn_sparse_product_nnz(const hnn_sparse *a, const hnn_sparse *b, size_t limit)
{
    if (a->cols != b->rows)
        hnn_bug("sparse product of mismatched sizes");
    uint32_t *mark = hnn_sparse_xmalloc(b->cols, sizeof *mark);
    for (uint32_t c = 0; c < b->cols; c++)
        mark[c] = UINT32_MAX;
    size_t nnz = 0;
    for (uint32_t r = 0; r < a->rows && nnz <= limit; r++) {
        for (size_t k = a->row_start[r]; k < a->row_start[r + 1]; k++) {
            uint32_t mid = a->col[k];
            for (size_t j = b->row_start[mid]; j < b->row_start[mid + 1]; j++) {
                if (mark[b->col[j]] != r) {
                    mark[b->col[j]] = r;
                    nnz++;
                }
            }
        }
    }
    free(mark);
    return nnz;
}

hnn_sparse
hnn_sparse_product(hnn_arena *arena, const hnn_sparse *a, const hnn_sparse *b)
{
    size_t cap = hnn_sparse_product_nnz(a, b, SIZE_MAX);
    hnn_sparse m = hnn_sparse_alloc(arena, a->rows, b->cols, cap);
    double *acc = hnn_sparse_xmalloc(b->cols, sizeof *acc);
    uint32_t *mark = hnn_sparse_xmalloc(b->cols, sizeof *mark);
    uint32_t *seen = hnn_sparse_xmalloc(b->cols, sizeof *seen);
    for (uint32_t c = 0; c < b->cols; c++)
        mark[c] = UINT32_MAX;
    for (uint32_t r = 0; r < a->rows; r++) {
        uint32_t n_seen = 0;
        bool sorted = true;
        for (size_t k = a->row_start[r]; k < a->row_start[r + 1]; k++) {
            uint32_t mid = a->col[k];
            double v = a->val[k];
            for (size_t j = b->row_start[mid]; j < b->row_start[mid + 1]; j++) {
                uint32_t c = b->col[j];
                if (mark[c] != r) {
                    mark[c] = r;
                    acc[c] = 0;
                    if (n_seen && seen[n_seen - 1] > c)
                        sorted = false;
                    seen[n_seen++] = c;
                }
                acc[c] += v * b->val[j];
            }
        }
        if (!sorted)
            qsort(seen, n_seen, sizeof *seen, hnn_sparse_cmp_u32);
        for (uint32_t i = 0; i < n_seen; i++) {
            uint32_t c = seen[i];
            if (acc[c] != 0) {
                m.col[m.nnz] = c;
                m.val[m.nnz++] = acc[c];
            }
        }
        m.row_start[r + 1] = m.nnz;
    }
    free(acc);
    free(mark);
    free(seen);
    return m;
}

void
hnn_sparse_apply(const hnn_sparse *m, const double *bias, const double *x, double *y)
{
    for (uint32_t r = 0; r < m->rows; r++) {
        double s = bias ? bias[r] : 0;
        for (size_t k = m->row_start[r]; k < m->row_start[r + 1]; k++)
            s += m->val[k] * x[m->col[k]];
        y[r] = s;
    }
}

bool
hnn_sparse_check(const hnn_sparse *m, char *why, size_t why_len)
{
    if (!m->row_start || (m->nnz && (!m->col || !m->val))) {
        snprintf(why, why_len, "matrix arrays missing");
        return false;
    }
    if (m->row_start[0] != 0 || m->row_start[m->rows] != m->nnz) {
        snprintf(why, why_len, "row_start runs from %zu to %zu, not 0 to nnz %zu", m->row_start[0],
                 m->row_start[m->rows], m->nnz);
        return false;
    }
    for (uint32_t r = 0; r < m->rows; r++) {
        if (m->row_start[r + 1] < m->row_start[r]) {
            snprintf(why, why_len, "row_start decreases at row %u", r);
            return false;
        }
        for (size_t k = m->row_start[r]; k < m->row_start[r + 1]; k++) {
            if (m->col[k] >= m->cols) {
                snprintf(why, why_len, "row %u: column %u out of range (%u columns)", r, m->col[k],
                         m->cols);
                return false;
            }
            if (k > m->row_start[r] && m->col[k] <= m->col[k - 1]) {
                snprintf(why, why_len, "row %u: columns not strictly increasing (%u after %u)", r,
                         m->col[k], m->col[k - 1]);
                return false;
            }
            if (!isfinite(m->val[k])) {
                snprintf(why, why_len, "row %u column %u: value %g is not finite", r, m->col[k],
                         m->val[k]);
                return false;
            }
        }
    }
    return true;
}
