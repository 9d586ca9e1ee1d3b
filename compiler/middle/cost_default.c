/*
 * Provenance: AMD EPYC, 2 cores (2 MiB L2 each, 32 MiB L3), Debian gcc 12.2.0
 * -O2, libhnnrt 0.1.0 with its scalar NTT kernels, one thread, 2026-11-21,
 * the four parameter sets of bench/README.md:
 *   make bench BENCH_ARGS="--threads 1 --quick"
 *     for ntt_fwd, ntt_inv, relin, mul_relin, rotate, rotate_hoisted,
 *     conjugate and keygen_galois (1 to 5 runs of each; the key-switching
 *     ops take 2 ms to 0.9 s a call, so their medians are stable);
 *   build/bin/hnnrt-bench --threads 1 --no-check \
 *     --ops encode,decode,encrypt_pk,decrypt,add,mul_pt,mul_ct,rescale
 *     for the others: in the quick run, 3 to 7 runs of these short ops came
 *     out up to twice as slow as the full measurement (9 to 10964 runs).
 * The lines, with what the fit makes of them, are default_points below.
 */
/*
 * The default cost table, written by hnn_cost_write_c from bench (1 thread).
 * Regenerate rather than edit: docs/design/cost-model.md.
 *
 * Fit: op, bench lines, worst model/measured ratio.
 *   add              4  1.068
 *   mul_pt           4  1.019
 *   mul_const        4  1.019
 *   mul_ct           4  1.049
 *   relin            4  1.077
 *   rescale          4  1.053
 *   rotate           8  1.082
 *   rotate_hoisted  12  1.104
 *   hoist           12  1.104
 *   encode           4  1.073
 *   encrypt          4  1.056
 *   decrypt          4  1.014
 *   decode           4  1.002
 */
#include "middle/cost.h"

/* ns per unit of each work term (hnn_cost_terms). */
static const hnn_cost_entry default_entries[HNN_COST__COUNT] = {
    {HNN_COST_ADD, {0.33312949152591514, 0.048840659458517142, 0}, 4, 1.0677990177452199},
    {HNN_COST_MUL_PT, {4.6080253524013104, 0.0085344539490575556, 0}, 4, 1.0186314374209706},
    {HNN_COST_MUL_CONST, {4.6080253524013104, 0.0085344539490575556, 0}, 4, 1.0186314374209706},
    {HNN_COST_MUL_CT, {2.695875403608385, 0.30400411287610696, 0}, 4, 1.0490764643503709},
    {HNN_COST_RELIN, {0.7375547767119105, 3.1085049890308882, 0}, 4, 1.0768232394817396},
    {HNN_COST_RESCALE, {1.7173838848252485, 0, 0}, 4, 1.0525737564122195},
    {HNN_COST_ROTATE, {0.79493258522281729, 2.4961389506343252, 0}, 8, 1.0821575060639399},
    {HNN_COST_ROTATE_HOISTED, {0.66962700214494786, 3.5925513343438826, 2.944220309628188}, 12, 1.1039952840735729},
    {HNN_COST_HOIST, {0.34023249960790131, 3.2580411856777349, 0}, 12, 1.1039952840735729},
    {HNN_COST_ENCODE, {0.083886501444408942, 1.0589896904349299, 0}, 4, 1.0732434452775559},
    {HNN_COST_ENCRYPT, {69.355307825644047, 4.4850245424039921, 0}, 4, 1.0558084589389307},
    {HNN_COST_DECRYPT, {2.2994529657569003, 0.017946478692724664, 0}, 4, 1.0136747501449592},
    {HNN_COST_DECODE, {1.8837377790989183, 0.252084138397003, 4.5523421695139401}, 4, 1.0020803434190364},
};

/* The calibration lines: op, logN, levels, special, dnum, median, model. */
static const hnn_cost_point default_points[52] = {
    {"relin", 13, 2, 1, 3, 2073594, 1952905.7630663479},
    {"mul_relin", 13, 2, 1, 3, 2259291, 2128126.8428838854},
    {"rotate", 13, 2, 1, 3, 2138642, 1999868.3661717288},
    {"rotate_hoisted", 13, 2, 1, 3, 1277465, 1410315.3355690469},
    {"conjugate", 13, 2, 1, 3, 2116288, 1999868.3661717288},
    {"relin", 14, 6, 1, 7, 15712287, 15389344.222978896},
    {"mul_relin", 14, 6, 1, 7, 16761593, 16284527.693331307},
    {"rotate", 14, 6, 1, 7, 15553139, 15704863.535834109},
    {"rotate_hoisted", 14, 6, 1, 7, 10183203, 9557493.8265762236},
    {"conjugate", 14, 6, 1, 7, 16313744, 15704863.535834109},
    {"relin", 15, 19, 1, 20, 197157490, 212303767.06988868},
    {"mul_relin", 15, 19, 1, 20, 205545057, 217920084.96906704},
    {"rotate", 15, 19, 1, 20, 204020992, 216504203.80051789},
    {"rotate_hoisted", 15, 19, 1, 20, 116957018, 113690125.19036058},
    {"conjugate", 15, 19, 1, 20, 200067183, 216504203.80051789},
    {"relin", 16, 34, 2, 18, 857304713, 850582986.50854778},
    {"mul_relin", 16, 34, 2, 18, 885584253, 871500390.28767896},
    {"rotate", 16, 34, 2, 18, 832892463, 840284741.01626599},
    {"rotate_hoisted", 16, 34, 2, 18, 398328066, 404355908.30196953},
    {"conjugate", 16, 34, 2, 18, 861526763, 840284741.01626599},
    {"encode", 13, 2, 1, 3, 357724, 347268.07507549861},
    {"decode", 13, 2, 1, 3, 505004, 504905.11804704927},
    {"encrypt_pk", 13, 2, 1, 3, 2029498, 2001070.2027112427},
    {"decrypt", 13, 2, 1, 3, 63645, 62944.092598524658},
    {"add", 13, 2, 1, 3, 26850, 25693.43823639871},
    {"mul_pt", 13, 2, 1, 3, 117495, 116305.92106198909},
    {"mul_ct", 13, 2, 1, 3, 182162, 175221.07981753728},
    {"rescale", 13, 2, 1, 3, 521278, 548683.54259504902},
    {"encode", 14, 6, 1, 7, 1602236, 1719589.2847877301},
    {"decode", 14, 6, 1, 7, 2922892, 2925234.6710701091},
    {"encrypt_pk", 14, 6, 1, 7, 8143001, 8337616.2894845586},
    {"decrypt", 14, 6, 1, 7, 294289, 298313.3285454099},
    {"add", 14, 6, 1, 7, 126369, 132351.30413396686},
    {"mul_pt", 14, 6, 1, 7, 534969, 544936.24144565919},
    {"mul_ct", 14, 6, 1, 7, 855788, 895183.4703524108},
    {"rescale", 14, 6, 1, 7, 2753509, 2757486.5217597336},
    {"encode", 15, 19, 1, 20, 10686067, 10451524.14604149},
    {"decode", 15, 19, 1, 20, 34802174, 34729923.831513479},
    {"encrypt_pk", 15, 19, 1, 20, 44666524, 46362219.988478906},
    {"decrypt", 15, 19, 1, 20, 1722210, 1734222.5033554523},
    {"add", 15, 19, 1, 20, 797901, 836780.16417973128},
    {"mul_pt", 15, 19, 1, 20, 3156671, 3127985.7388317101},
    {"mul_ct", 15, 19, 1, 20, 5441841, 5616317.899178341},
    {"rescale", 15, 19, 1, 20, 17576013, 16882570.541386124},
    {"encode", 16, 34, 2, 18, 40143114, 38953052.44945097},
    {"decode", 16, 34, 2, 18, 198891398, 199182417.18348593},
    {"encrypt_pk", 16, 34, 2, 18, 178586187, 169146387.76381472},
    {"decrypt", 16, 34, 2, 18, 6206842, 6144178.3734243708},
    {"add", 16, 34, 2, 18, 3343499, 3131206.2892323891},
    {"mul_pt", 16, 34, 2, 18, 10982849, 10983330.846147288},
    {"mul_ct", 16, 34, 2, 18, 21943956, 20917403.779131155},
    {"rescale", 16, 34, 2, 18, 64265892, 63028263.354508191},
};

static const hnn_cost_table default_table = {
    .entries = default_entries,
    .count = HNN_COST__COUNT,
    .points = default_points,
    .n_points = 52,
    .threads = 1,
    .source = "default",
};

const hnn_cost_table *
hnn_cost_default(void)
{
    return &default_table;
}
