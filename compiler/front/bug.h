/*
 * Internal errors, kept apart from user diagnostics: a user mistake becomes an
 * hnn_diag error and an exit status of 1, while a broken compiler invariant stops
 * the process at once with the place in the compiler's source that noticed it.
 */
#ifndef HNN_FRONT_BUG_H
#define HNN_FRONT_BUG_H

#define hnn_bug(msg) hnn_bug_at(__FILE__, __LINE__, (msg))

_Noreturn void hnn_bug_at(const char *file, int line, const char *msg);
/* Out of memory: there is no recovery in a compiler, so say so and stop. */
_Noreturn void hnn_fatal_oom(void);

#endif
