/* The Homomorphic Encryption Standard (Albrecht et al., 2018), Table 1 for a
 * uniform ternary secret and error sigma = 3.2, classical attacks: the largest
 * log2(QP) for each ring dimension. For N = 2^16, beyond the table, the
 * 128-bit entry follows the widely used extension (1747); the 192- and
 * 256-bit entries scale the N = 2^15 bound by the same ratio (1747/881),
 * rounded down. */
#include "params/params.h"

unsigned
hnnrt_security_max_log_qp(unsigned log_n, hnnrt_security level)
{
    static const unsigned table[7][3] = {
        /* 128, 192, 256 */
        {27, 19, 14},     /* 2^10 */
        {54, 37, 29},     /* 2^11 */
        {109, 75, 58},    /* 2^12 */
        {218, 152, 118},  /* 2^13 */
        {438, 305, 237},  /* 2^14 */
        {881, 611, 476},  /* 2^15 */
        {1747, 1211, 943} /* 2^16 */
    };
    if (log_n < 10 || log_n > 16)
        return 0;
    switch (level) {
    case HNNRT_SECURITY_128:
        return table[log_n - 10][0];
    case HNNRT_SECURITY_192:
        return table[log_n - 10][1];
    case HNNRT_SECURITY_256:
        return table[log_n - 10][2];
    }
    return 0;
}
