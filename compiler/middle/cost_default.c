/*
 * Provenance: AMD EPYC with AVX-512 IFMA, 2 cores (2 MiB L2 each, 32 MiB
 * L3), Debian gcc 12.2.0 -O2, libhnnrt 0.1.0 with its IFMA NTT kernels (the
 * default on this CPU: primes below 2^50 vectorised, wider ones scalar), one
 * thread, 2026-11-21, the four parameter sets of bench/README.md:
 *   build/bin/hnnrt-bench --threads 1 --quick \
 *     --ops ntt_fwd,ntt_inv,relin,mul_relin,rotate,rotate_hoisted,conjugate,keygen_galois
 *     (the make bench BENCH_ARGS="--threads 1 --quick" run restricted to the
 *     key-switching ops) for logN 15 and 16: 1 run each of 60 ms to 0.5 s;
 *   the same ops without --quick at --logn 13,14 (34 to 4511 runs): the quick
 *     runs there were taken while other processes held both cores;
 *   build/bin/hnnrt-bench --threads 1 --no-check \
 *     --ops encode,decode,encrypt_pk,decrypt,add,mul_pt,mul_ct,rescale
 *     for the others (9 to 11000 runs; quick runs of these short ops came out
 *     up to twice too slow).
 *   build/bin/hnnrt-bench --threads 1 --no-check --ops linear --logn 13,14
 *     and --logn 15,16 (the linear lines: 9 to 68 runs; other processes took
 *     at most 0.06 of a core beyond the one left free), refitted with the
 *     lines above (hnnc calibrate), which reproduces their constants.
 * The lines, with what the fit makes of them, are default_points below.
 */
/*
 * The default cost table, written by hnn_cost_write_c from bench (1 thread).
 * Regenerate rather than edit: docs/design/cost-model.md.
 *
 * Fit: op, bench lines, worst model/measured ratio.
 *   add              4  1.093
 *   mul_pt           4  1.014
 *   mul_const        4  1.014
 *   mul_ct           4  1.028
 *   relin            4  1.460
 *   rescale          4  1.071
 *   rotate           8  1.437
 *   rotate_hoisted  12  1.218
 *   hoist           12  1.218
 *   encode           4  1.088
 *   encrypt          4  1.090
 *   decrypt          4  1.011
 *   decode           4  1.003
 *   linear           4  1.093
 *   linear_term      4  1.270
 */
#include "middle/cost.h"

/* ns per unit of each work term (hnn_cost_terms). */
static const hnn_cost_entry default_entries[HNN_COST__COUNT] = {
    {HNN_COST_ADD, {0.30850129600270743, 0.050353675049134537, 0}, 4, 1.0929150926895392},
    {HNN_COST_MUL_PT, {4.5781302228877072, 0.0073898122341122157, 0}, 4, 1.014203346633922},
    {HNN_COST_MUL_CONST, {4.5781302228877072, 0.0073898122341122157, 0}, 4, 1.014203346633922},
    {HNN_COST_MUL_CT, {3.7358266334043702, 0.25345412664243361, 0}, 4, 1.0276764271099708},
    {HNN_COST_RELIN, {0.41116623441988215, 0.81393368713184533, 0}, 4, 1.4603388697741744},
    {HNN_COST_RESCALE, {0, 10.755129296674934, 0}, 4, 1.0712170124742435},
    {HNN_COST_ROTATE, {0.39816714141259696, 1.375986845484487, 0}, 8, 1.4371897756494101},
    {HNN_COST_ROTATE_HOISTED, {0, 15.642940343168238, 2.0649801974190991}, 12, 1.218054809730003},
    {HNN_COST_HOIST, {0, 1.3930572876778879, 0}, 12, 1.218054809730003},
    {HNN_COST_ENCODE, {0.51060306622807172, 0.53087496591150929, 0}, 4, 1.0883660219821403},
    {HNN_COST_ENCRYPT, {100.39255116715481, 1.7175070260690941, 0}, 4, 1.09019321794527},
    {HNN_COST_DECRYPT, {2.4923191133069538, 0.0081581299030374799, 0}, 4, 1.0113343103853836},
    {HNN_COST_DECODE, {1.4253901823813788, 0.10938251630226217, 4.3265979986936598}, 4, 1.0030258231298561},
    {HNN_COST_LINEAR, {0.30850129600270743, 0.050353675049134537, 0}, 4, 1.0929150926895392},
    {HNN_COST_LINEAR_TERM, {0.20637145058977516, 0, 0}, 4, 1.2696482537909477},
};

/* The calibration lines: op, logN, levels, special, dnum, median, model, terms,
 * outputs. */
static const hnn_cost_point default_points[56] = {
    {"relin", 13, 2, 1, 3, 1424951, 975767.35749035655, 0, 0},
    {"mul_relin", 13, 2, 1, 3, 1632957, 1158427.1397237468, 0, 0},
    {"rotate", 13, 2, 1, 3, 1461831, 1017145.4214106522, 0, 0},
    {"rotate_hoisted", 13, 2, 1, 3, 975089, 1187711.846364819, 0, 0},
    {"conjugate", 13, 2, 1, 3, 1438096, 1017145.4214106522, 0, 0},
    {"relin", 14, 6, 1, 7, 8657894, 7630575.8058012258, 0, 0},
    {"mul_relin", 14, 6, 1, 7, 9488048, 8547588.9522107132, 0, 0},
    {"rotate", 14, 6, 1, 7, 9101071, 7996041.6224775445, 0, 0},
    {"rotate_hoisted", 14, 6, 1, 7, 7986303, 7517166.3511932362, 0, 0},
    {"conjugate", 14, 6, 1, 7, 8623930, 7996041.6224775445, 0, 0},
    {"relin", 15, 19, 1, 20, 82492731, 105103780.31080392, 0, 0},
    {"mul_relin", 15, 19, 1, 20, 87904837, 110761535.33211064, 0, 0},
    {"rotate", 15, 19, 1, 20, 87761984, 110255554.62561697, 0, 0},
    {"rotate_hoisted", 15, 19, 1, 20, 91169515, 79624727.55831331, 0, 0},
    {"conjugate", 15, 19, 1, 20, 87426843, 110255554.62561697, 0, 0},
    {"relin", 16, 34, 2, 18, 403891792, 391908008.4048121, 0, 0},
    {"mul_relin", 16, 34, 2, 18, 462876002, 412760880.14602757, 0, 0},
    {"rotate", 16, 34, 2, 18, 447640727, 432137632.82579994, 0, 0},
    {"rotate_hoisted", 16, 34, 2, 18, 328213059, 337775906.01924145, 0, 0},
    {"conjugate", 16, 34, 2, 18, 443509763, 432137632.82579994, 0, 0},
    {"encode", 13, 2, 1, 3, 234675, 223985.36525016103, 0, 0},
    {"decode", 13, 2, 1, 3, 399306, 399405.69906305522, 0, 0},
    {"encrypt_pk", 13, 2, 1, 3, 1417450, 1371138.6639060951, 0, 0},
    {"decrypt", 13, 2, 1, 3, 64552, 64175.434924493231, 0, 0},
    {"add", 13, 2, 1, 3, 27191, 25630.501069647871, 0, 0},
    {"mul_pt", 13, 2, 1, 3, 115362, 115160.93293878323, 0, 0},
    {"mul_ct", 13, 2, 1, 3, 185552, 182659.78223339017, 0, 0},
    {"rescale", 13, 2, 1, 3, 283142, 264318.05759508314, 0, 0},
    {"encode", 14, 6, 1, 7, 890794, 969509.92218555859, 0, 0},
    {"decode", 14, 6, 1, 7, 2490156, 2487413.8519860585, 0, 0},
    {"encrypt_pk", 14, 6, 1, 7, 4236021, 4402515.7996040359, 0, 0},
    {"decrypt", 14, 6, 1, 7, 298185, 301564.72134226561, 0, 0},
    {"add", 14, 6, 1, 7, 124716, 132443.23740523358, 0, 0},
    {"mul_pt", 14, 6, 1, 7, 534848, 539301.21526307322, 0, 0},
    {"mul_ct", 14, 6, 1, 7, 892317, 917013.14640948782, 0, 0},
    {"rescale", 14, 6, 1, 7, 1248322, 1233484.2687770547, 0, 0},
    {"encode", 15, 19, 1, 20, 5374240, 5469684.8840089226, 0, 0},
    {"decode", 15, 19, 1, 20, 31453242, 31548413.947152562, 0, 0},
    {"encrypt_pk", 15, 19, 1, 20, 18983022, 20173444.185714953, 0, 0},
    {"decrypt", 15, 19, 1, 20, 1747778, 1736671.1747754028, 0, 0},
    {"add", 15, 19, 1, 20, 790610, 839798.87222155428, 0, 0},
    {"mul_pt", 15, 19, 1, 20, 3137843, 3093899.2761306758, 0, 0},
    {"mul_ct", 15, 19, 1, 20, 5709029, 5657755.0213067234, 0, 0},
    {"rescale", 15, 19, 1, 20, 6970552, 7048481.535868885, 0, 0},
    {"encode", 16, 34, 2, 18, 21680377, 20018602.309720103, 0, 0},
    {"decode", 16, 34, 2, 18, 184548254, 184144179.44408062, 0, 0},
    {"encrypt_pk", 16, 34, 2, 18, 75890649, 69612108.891150579, 0, 0},
    {"decrypt", 16, 34, 2, 18, 6108195, 6112169.7685243953, 0, 0},
    {"add", 16, 34, 2, 18, 3440545, 3148044.1829503989, 0, 0},
    {"mul_pt", 16, 34, 2, 18, 10782701, 10859282.956016164, 0, 0},
    {"mul_ct", 16, 34, 2, 18, 20941149, 20852871.741215453, 0, 0},
    {"rescale", 16, 34, 2, 18, 23294842, 24669685.375541095, 0, 0},
    {"linear", 13, 2, 1, 3, 4338299, 3416929.8363122209, 512, 32},
    {"linear", 14, 6, 1, 7, 15134615, 16356368.006690424, 512, 32},
    {"linear", 15, 19, 1, 20, 92715716, 96120331.966649443, 512, 32},
    {"linear", 16, 34, 2, 18, 339747937, 343101102.04887176, 512, 32},
};

static const hnn_cost_table default_table = {
    .entries = default_entries,
    .count = HNN_COST__COUNT,
    .points = default_points,
    .n_points = 56,
    .threads = 1,
    .source = "default",
};

const hnn_cost_table *
hnn_cost_default(void)
{
    return &default_table;
}
