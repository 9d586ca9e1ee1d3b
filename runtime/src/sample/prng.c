#include <string.h>

#include <sodium.h>

#include "sample/sample.h"

/* The buffer keeps consumed bytes until the next refill or the wipe: every
 * owner of a PRNG wipes it (hnnrt_prng_wipe) when it is done. */
static void
refill(hnnrt_prng *g)
{
    /* The keystream is ChaCha20 applied to zeros: encrypt the buffer in place. */
    memset(g->buf, 0, sizeof g->buf);
    crypto_stream_chacha20_ietf_xor_ic(g->buf, g->buf, sizeof g->buf, g->nonce, g->block, g->key);
    g->block += HNNRT_PRNG_BUF / 64;
    if (g->block == 0) {
        /* 2^32 blocks used: move to the next nonce rather than repeat the stream. */
        for (int i = 0; i < 12 && ++g->nonce[i] == 0; i++)
            ;
    }
    g->pos = 0;
}

hnnrt_status
hnnrt_prng_init_random(hnnrt_prng *g)
{
    if (hnnrt_sodium_ready() != HNNRT_OK)
        return HNNRT_ERR_RANDOM;
    randombytes_buf(g->key, sizeof g->key);
    memset(g->nonce, 0, sizeof g->nonce);
    g->block = 0;
    g->pos = HNNRT_PRNG_BUF;
    return HNNRT_OK;
}

void
hnnrt_prng_init_seeded(hnnrt_prng *g, const uint8_t seed[HNNRT_SEED_BYTES], uint64_t domain)
{
    memcpy(g->key, seed, HNNRT_SEED_BYTES);
    memset(g->nonce, 0, sizeof g->nonce);
    for (int i = 0; i < 8; i++)
        g->nonce[4 + i] = (uint8_t)(domain >> (8 * i));
    g->block = 0;
    g->pos = HNNRT_PRNG_BUF;
}

void
hnnrt_prng_bytes(hnnrt_prng *g, void *out, size_t len)
{
    uint8_t *o = out;
    while (len) {
        if (g->pos == HNNRT_PRNG_BUF)
            refill(g);
        size_t take = HNNRT_PRNG_BUF - g->pos;
        if (take > len)
            take = len;
        memcpy(o, g->buf + g->pos, take);
        g->pos += take;
        o += take;
        len -= take;
    }
}

uint64_t
hnnrt_prng_u64(hnnrt_prng *g)
{
    if (g->pos + 8 > HNNRT_PRNG_BUF) {
        uint8_t b[8];
        hnnrt_prng_bytes(g, b, 8);
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v |= (uint64_t)b[i] << (8 * i);
        return v;
    }
    uint64_t v;
    memcpy(&v, g->buf + g->pos, 8); /* little-endian hosts; the stream is uniform either way */
    g->pos += 8;
    return v;
}

uint8_t
hnnrt_prng_byte(hnnrt_prng *g)
{
    if (g->pos == HNNRT_PRNG_BUF)
        refill(g);
    return g->buf[g->pos++];
}

void
hnnrt_prng_wipe(hnnrt_prng *g)
{
    sodium_memzero(g, sizeof *g);
}
