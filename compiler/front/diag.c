#include "front/diag.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "front/bug.h"

/* A quoted name longer than this is shown clipped ('aaaa...'). */
enum { HNN_DIAG_QUOTE_MAX = 64 };
/* Source lines longer than this are shown as a window around the column. */
enum { HNN_DIAG_LINE_MAX = 160, HNN_DIAG_LINE_BEFORE = 60 };

typedef struct hnn_diag_source {
    char *name;
    char *text;
    size_t len;
    uint32_t *line_starts; /* byte offset of each line's first byte */
    uint32_t n_lines;
} hnn_diag_source;

typedef struct hnn_diag_entry {
    hnn_diag_severity severity;
    hnn_loc loc;
    char *msg;
} hnn_diag_entry;

struct hnn_diag {
    hnn_diag_source *sources;
    size_t n_sources;
    hnn_diag_entry *entries;
    size_t n_entries, cap_entries;
    size_t errors, warnings;
    size_t max_errors;
    size_t dropped_errors;
    bool last_dropped;
    bool werror;
    bool no_warnings;
};

static void *
hnn_diag_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        hnn_fatal_oom();
    return q;
}

hnn_diag *
hnn_diag_new(void)
{
    hnn_diag *d = calloc(1, sizeof *d);
    if (d)
        d->max_errors = 20;
    return d;
}

void
hnn_diag_free(hnn_diag *diag)
{
    if (!diag)
        return;
    for (size_t i = 0; i < diag->n_sources; i++) {
        free(diag->sources[i].name);
        free(diag->sources[i].text);
        free(diag->sources[i].line_starts);
    }
    free(diag->sources);
    for (size_t i = 0; i < diag->n_entries; i++)
        free(diag->entries[i].msg);
    free(diag->entries);
    free(diag);
}

uint32_t
hnn_diag_add_source(hnn_diag *diag, const char *name, const char *text, size_t len)
{
    diag->sources = hnn_diag_xrealloc(diag->sources, (diag->n_sources + 1) * sizeof *diag->sources);
    hnn_diag_source *s = &diag->sources[diag->n_sources];
    size_t nlen = strlen(name);
    s->name = hnn_diag_xrealloc(NULL, nlen + 1);
    memcpy(s->name, name, nlen + 1);
    s->text = hnn_diag_xrealloc(NULL, len + 1);
    if (len)
        memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->len = len;
    uint32_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    s->line_starts = hnn_diag_xrealloc(NULL, n * sizeof *s->line_starts);
    s->line_starts[0] = 0;
    s->n_lines = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            s->line_starts[s->n_lines++] = (uint32_t)(i + 1);
    return (uint32_t)++diag->n_sources;
}

static const hnn_diag_source *
hnn_diag_source_get(const hnn_diag *diag, uint32_t file)
{
    if (file == 0 || file > diag->n_sources)
        return NULL;
    return &diag->sources[file - 1];
}

const char *
hnn_diag_source_name(const hnn_diag *diag, uint32_t file)
{
    const hnn_diag_source *s = hnn_diag_source_get(diag, file);
    return s ? s->name : "hnnc";
}

const char *
hnn_diag_source_text(const hnn_diag *diag, uint32_t file, size_t *len)
{
    const hnn_diag_source *s = hnn_diag_source_get(diag, file);
    if (!s) {
        *len = 0;
        return "";
    }
    *len = s->len;
    return s->text;
}

void
hnn_diag_line_col(const hnn_diag *diag, uint32_t file, uint32_t offset, uint32_t *line, uint32_t *col)
{
    const hnn_diag_source *s = hnn_diag_source_get(diag, file);
    if (!s) {
        *line = *col = 0;
        return;
    }
    if (offset > s->len)
        offset = (uint32_t)s->len;
    uint32_t lo = 0, hi = s->n_lines; /* find the last line start <= offset */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->line_starts[mid] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    *line = lo + 1;
    *col = offset - s->line_starts[lo] + 1;
}

static char
hnn_diag_printable(unsigned char c)
{
    return (c < 0x20 || c == 0x7f) ? '?' : (char)c;
}

/* Clips long quoted names and replaces control characters, so that hostile input
 * cannot flood or garble the terminal. A quote opens only where a word cannot
 * go on (the apostrophe of "plan's" opens nothing), and a quoted name is passed
 * over whole, so its closing quote opens nothing either. */
static char *
hnn_diag_clean_message(const char *raw)
{
    size_t n = strlen(raw);
    char *out = hnn_diag_xrealloc(NULL, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        bool opens = c == '\'' && (i == 0 || !isalnum((unsigned char)raw[i - 1]));
        const char *close = opens ? strchr(raw + i + 1, '\'') : NULL;
        if (!close) {
            out[o++] = hnn_diag_printable(c);
            continue;
        }
        size_t len = (size_t)(close - (raw + i + 1));
        size_t keep = len > HNN_DIAG_QUOTE_MAX ? HNN_DIAG_QUOTE_MAX - 4 : len;
        out[o++] = '\'';
        for (size_t k = 0; k < keep; k++)
            out[o++] = hnn_diag_printable((unsigned char)raw[i + 1 + k]);
        if (keep < len) {
            memcpy(out + o, "...", 3);
            o += 3;
        }
        out[o++] = '\'';
        i = (size_t)(close - raw);
    }
    out[o] = '\0';
    return out;
}

static void hnn_diag_add(hnn_diag *diag, hnn_diag_severity sev, hnn_loc loc, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
hnn_diag_add(hnn_diag *diag, hnn_diag_severity sev, hnn_loc loc, const char *fmt, va_list ap)
{
    if (sev == HNN_DIAG_WARNING && diag->no_warnings) {
        diag->last_dropped = true;
        return;
    }
    if (sev == HNN_DIAG_WARNING && diag->werror)
        sev = HNN_DIAG_ERROR;
    if (sev == HNN_DIAG_NOTE) {
        if (diag->last_dropped)
            return;
    } else if (sev == HNN_DIAG_ERROR) {
        diag->errors++;
        diag->last_dropped = diag->max_errors && diag->errors > diag->max_errors;
        if (diag->last_dropped) {
            diag->dropped_errors++;
            return;
        }
    } else {
        diag->warnings++;
        /* Warnings after the error limit would only add noise. */
        diag->last_dropped = hnn_diag_full(diag);
        if (diag->last_dropped)
            return;
    }
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        hnn_bug("bad diagnostic format");
    char *raw = hnn_diag_xrealloc(NULL, (size_t)n + 1);
    vsnprintf(raw, (size_t)n + 1, fmt, ap);
    if (diag->n_entries == diag->cap_entries) {
        diag->cap_entries = diag->cap_entries ? 2 * diag->cap_entries : 16;
        diag->entries = hnn_diag_xrealloc(diag->entries, diag->cap_entries * sizeof *diag->entries);
    }
    hnn_diag_entry *e = &diag->entries[diag->n_entries++];
    e->severity = sev;
    e->loc = loc;
    e->msg = hnn_diag_clean_message(raw);
    free(raw);
}

void
hnn_diag_error(hnn_diag *diag, hnn_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hnn_diag_add(diag, HNN_DIAG_ERROR, loc, fmt, ap);
    va_end(ap);
}

void
hnn_diag_warning(hnn_diag *diag, hnn_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hnn_diag_add(diag, HNN_DIAG_WARNING, loc, fmt, ap);
    va_end(ap);
}

void
hnn_diag_note(hnn_diag *diag, hnn_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hnn_diag_add(diag, HNN_DIAG_NOTE, loc, fmt, ap);
    va_end(ap);
}

void
hnn_diag_set_max_errors(hnn_diag *diag, size_t max)
{
    diag->max_errors = max;
}

void
hnn_diag_set_werror(hnn_diag *diag, bool on)
{
    diag->werror = on;
}

void
hnn_diag_set_no_warnings(hnn_diag *diag, bool on)
{
    diag->no_warnings = on;
}

size_t
hnn_diag_error_count(const hnn_diag *diag)
{
    return diag->errors;
}

size_t
hnn_diag_warning_count(const hnn_diag *diag)
{
    return diag->warnings;
}

bool
hnn_diag_full(const hnn_diag *diag)
{
    return diag->max_errors && diag->errors >= diag->max_errors;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
hnn_diag_utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/*
 * Prints the bytes [from, to) of a line so that each shown character takes one
 * column: tabs become spaces, other control bytes and broken UTF-8 become '?'.
 * When caret is set, prints the underline instead: spaces up to mark_begin, then
 * '^' and '~' up to mark_end.
 */
static void
hnn_diag_print_span(FILE *out, const char *text, size_t from, size_t to,
                    bool caret, size_t mark_begin, size_t mark_end)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = from;
    while (i < to) {
        size_t len = 1;
        char shown = (char)s[i];
        if (s[i] >= 0x80) {
            len = hnn_diag_utf8_len(s + i, to - i);
            if (!len) {
                len = 1;
                shown = '?';
            }
        } else if (s[i] == '\t') {
            shown = ' ';
        } else if (s[i] < 0x20 || s[i] == 0x7f) {
            shown = '?';
        }
        if (caret) {
            if (i < mark_begin)
                fputc(' ', out);
            else if (i == mark_begin)
                fputc('^', out);
            else if (i < mark_end)
                fputc('~', out);
            else
                break;
        } else if (len > 1) {
            fwrite(s + i, 1, len, out);
        } else {
            fputc(shown, out);
        }
        i += len;
    }
    if (caret && mark_begin >= to && mark_begin == i)
        fputc('^', out); /* a mark at the end of the line (e.g. end of file) */
}

static void
hnn_diag_print_excerpt(const hnn_diag *diag, FILE *out, hnn_loc loc, uint32_t line)
{
    const hnn_diag_source *s = hnn_diag_source_get(diag, loc.file);
    size_t start = s->line_starts[line - 1];
    size_t end = line < s->n_lines ? s->line_starts[line] - 1 : s->len;
    if (end > start && s->text[end - 1] == '\r')
        end--;
    size_t begin = loc.begin < start ? start : loc.begin;
    size_t mark_end = loc.end > end ? end : loc.end;
    if (mark_end <= begin)
        mark_end = begin + 1;
    /* Window long lines around the mark. */
    size_t from = start, to = end;
    bool cut_left = false, cut_right = false;
    if (to - from > HNN_DIAG_LINE_MAX) {
        if (begin - from > HNN_DIAG_LINE_BEFORE) {
            from = begin - HNN_DIAG_LINE_BEFORE;
            cut_left = true;
        }
        if (to - from > HNN_DIAG_LINE_MAX) {
            to = from + HNN_DIAG_LINE_MAX;
            cut_right = true;
        }
        if (mark_end > to)
            mark_end = to;
    }
    /* Back off to a character boundary so a window never splits UTF-8. */
    while (cut_left && from > start && ((unsigned char)s->text[from] & 0xc0) == 0x80)
        from--;
    /* A fixed gutter keeps the bars aligned from one excerpt to the next. */
    char gutter[16];
    int w = snprintf(gutter, sizeof gutter, "%u", line);
    w = w < 5 ? 5 : w + 1;
    fprintf(out, "%*s | %s", w, gutter, cut_left ? "..." : "");
    hnn_diag_print_span(out, s->text, from, to, false, 0, 0);
    fprintf(out, "%s\n", cut_right ? "..." : "");
    fprintf(out, "%*s | %s", w, "", cut_left ? "   " : "");
    hnn_diag_print_span(out, s->text, from, to, true, begin, mark_end);
    fputc('\n', out);
}

/* Orders errors and warnings by place (file, then offset), each followed by its
 * notes; reports without a file come first. Stable, so equal places keep the
 * order they were reported in. */
typedef struct hnn_diag_group {
    size_t first, count;
    hnn_loc loc;
} hnn_diag_group;

static int
hnn_diag_group_cmp(const void *pa, const void *pb)
{
    const hnn_diag_group *a = pa, *b = pb;
    if (a->loc.file != b->loc.file)
        return a->loc.file < b->loc.file ? -1 : 1;
    if (a->loc.begin != b->loc.begin)
        return a->loc.begin < b->loc.begin ? -1 : 1;
    return a->first < b->first ? -1 : a->first > b->first;
}

static void hnn_diag_print_entry(const hnn_diag *diag, FILE *out, const hnn_diag_entry *e);

void
hnn_diag_print(const hnn_diag *diag, FILE *out)
{
    hnn_diag_group *groups = hnn_diag_xrealloc(NULL, (diag->n_entries + 1) * sizeof *groups);
    size_t n = 0;
    for (size_t i = 0; i < diag->n_entries; i++) {
        if (diag->entries[i].severity != HNN_DIAG_NOTE || n == 0)
            groups[n++] = (hnn_diag_group){i, 0, diag->entries[i].loc};
        groups[n - 1].count++;
    }
    qsort(groups, n, sizeof *groups, hnn_diag_group_cmp);
    for (size_t g = 0; g < n; g++)
        for (size_t k = 0; k < groups[g].count; k++)
            hnn_diag_print_entry(diag, out, &diag->entries[groups[g].first + k]);
    free(groups);
    if (diag->dropped_errors)
        fprintf(out, "hnnc: note: %zu more error%s not shown (the limit is %zu; see --max-errors)\n",
                diag->dropped_errors, diag->dropped_errors == 1 ? "" : "s", diag->max_errors);
}

static void
hnn_diag_print_entry(const hnn_diag *diag, FILE *out, const hnn_diag_entry *e)
{
    static const char *const label[] = {
        [HNN_DIAG_ERROR] = "error",
        [HNN_DIAG_WARNING] = "warning",
        [HNN_DIAG_NOTE] = "note",
    };
    if (!hnn_diag_source_get(diag, e->loc.file)) {
        fprintf(out, "hnnc: %s: %s\n", label[e->severity], e->msg);
        return;
    }
    uint32_t line, col;
    hnn_diag_line_col(diag, e->loc.file, e->loc.begin, &line, &col);
    fprintf(out, "%s:%u:%u: %s: %s\n", hnn_diag_source_name(diag, e->loc.file), line, col,
            label[e->severity], e->msg);
    hnn_diag_print_excerpt(diag, out, e->loc, line);
}
