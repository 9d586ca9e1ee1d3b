#include <string.h>

#include "front/diag.h"

/* Names longer than this get no suggestion: the quadratic distance is not worth it. */
enum { HNN_SUGGEST_MAX_LEN = 64 };

size_t
hnn_diag_edit_distance(const char *a, const char *b, size_t limit)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > HNN_SUGGEST_MAX_LEN || lb > HNN_SUGGEST_MAX_LEN)
        return limit + 1;
    if ((la > lb ? la - lb : lb - la) > limit)
        return limit + 1;
    /* Three rows of the optimal-string-alignment table. */
    size_t rows[3][HNN_SUGGEST_MAX_LEN + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        size_t row_min = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
            if (v < row_min)
                row_min = v;
        }
        if (row_min > limit)
            return limit + 1;
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

void
hnn_diag_suggest_init(hnn_diag_suggest *s, const char *word)
{
    size_t len = strlen(word);
    s->word = word;
    s->best = NULL;
    /* One slip per three letters, at most three: "dnse" -> "dense", not "x" -> "h1". */
    s->limit = len < 3 ? 1 : len / 3;
    if (s->limit > 3)
        s->limit = 3;
    if (len <= 1)
        s->limit = 0;
    s->best_dist = s->limit + 1;
}

void
hnn_diag_suggest_offer(hnn_diag_suggest *s, const char *candidate)
{
    if (!candidate || strcmp(candidate, s->word) == 0)
        return;
    size_t d = hnn_diag_edit_distance(s->word, candidate, s->best_dist);
    if (d < s->best_dist) {
        s->best_dist = d;
        s->best = candidate;
    }
}

const char *
hnn_diag_suggest_result(const hnn_diag_suggest *s)
{
    return s->best_dist <= s->limit ? s->best : NULL;
}
