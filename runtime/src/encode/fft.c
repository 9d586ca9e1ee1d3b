#include "encode/encode.h"

static void
bit_reverse(double complex *v, size_t n)
{
    for (size_t i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double complex t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
    }
}

void
hnnrt_encode_fft(const hnnrt_encoder *enc, double complex *v, size_t n)
{
    const uint64_t m = 2 * (uint64_t)enc->ctx->n;
    bit_reverse(v, n);
    for (size_t len = 2; len <= n; len <<= 1) {
        size_t half = len >> 1, lenq = len << 2;
        for (size_t i = 0; i < n; i += len)
            for (size_t j = 0; j < half; j++) {
                size_t idx = (size_t)((enc->rot_group[j] % lenq) * (m / lenq));
                double complex u = v[i + j], w = v[i + j + half] * enc->ksi[idx];
                v[i + j] = u + w;
                v[i + j + half] = u - w;
            }
    }
}

void
hnnrt_encode_ifft(const hnnrt_encoder *enc, double complex *v, size_t n)
{
    const uint64_t m = 2 * (uint64_t)enc->ctx->n;
    for (size_t len = n; len >= 2; len >>= 1) {
        size_t half = len >> 1, lenq = len << 2;
        for (size_t i = 0; i < n; i += len)
            for (size_t j = 0; j < half; j++) {
                size_t idx = (size_t)((lenq - enc->rot_group[j] % lenq) * (m / lenq));
                double complex u = v[i + j] + v[i + j + half];
                double complex w = (v[i + j] - v[i + j + half]) * enc->ksi[idx];
                v[i + j] = u;
                v[i + j + half] = w;
            }
    }
    bit_reverse(v, n);
    const double inv = 1.0 / (double)n;
    for (size_t i = 0; i < n; i++)
        v[i] *= inv;
}
