/* arena: alignment, zeroing, growth, strings. */
#include <stdint.h>

#include "front_helpers.h"

static void
arena_alloc_is_zeroed_and_aligned(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    for (size_t n = 1; n < 200; n += 7) {
        unsigned char *p = hnn_arena_alloc(a, n);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xab, n);
    }
    hnn_arena_free(a);
}

static void
arena_grows_past_chunks_and_huge_blocks(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    char *small = hnn_arena_strdup(a, "before");
    char *big = hnn_arena_alloc(a, 10u << 20); /* larger than any chunk */
    big[(10u << 20) - 1] = 'x';
    char *after = hnn_arena_strdup(a, "after");
    assert_string_equal(small, "before");
    assert_string_equal(after, "after");
    for (int i = 0; i < 100000; i++)
        hnn_arena_alloc(a, 24);
    assert_true(hnn_arena_used(a) >= (10u << 20) + 100000u * 24);
    hnn_arena_free(a);
}

static void
arena_strings(void **state)
{
    (void)state;
    hnn_arena *a = hnn_arena_new();
    assert_string_equal(hnn_arena_strndup(a, "abcdef", 3), "abc");
    assert_string_equal(hnn_arena_printf(a, "%s_%u", "dense", 12u), "dense_12");
    hnn_arena_free(a);
    hnn_arena_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_alloc_is_zeroed_and_aligned),
        cmocka_unit_test(arena_grows_past_chunks_and_huge_blocks),
        cmocka_unit_test(arena_strings),
    };
    return cmocka_run_group_tests_name("front/arena", tests, NULL, NULL);
}
